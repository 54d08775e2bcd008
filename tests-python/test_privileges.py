"""The job runs as a role holding only the grants docs/operations.md lists (issue 15):
the SQL is read from that page's block, so the documentation and the test cannot drift."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from urllib.parse import urlsplit, urlunsplit

import psycopg
from conftest import PROJECT_DIR, run_cli
from contract_oracle import ACTIVATION_FACT_TYPE

ROLE = "nightly_metrics_job"
AS_OF = datetime(2026, 11, 28).date()


GRANTS_PAGE = PROJECT_DIR / "docs" / "operations.md"


def documented_grants(database: str) -> str:
    page = GRANTS_PAGE.read_text()
    block = re.search(r"<!-- grants:.*?-->\s*```sql\n(.*?)```", page, re.DOTALL)
    assert block, f"the grants block of {GRANTS_PAGE.name} is missing"
    return block.group(1).replace("on database app ", f'on database "{database}" ')


def as_role(uri: str, role: str) -> str:
    parts = urlsplit(uri)
    netloc = f"{role}@{parts.netloc.split('@', 1)[-1]}"
    return urlunsplit(parts._replace(netloc=netloc))


def test_the_job_runs_with_only_the_documented_grants(source_db, tmp_path):
    for day in range(10):
        at = datetime(2026, 11, 18, 9) + timedelta(days=day)
        source_db.add_session("shop-a", at)
        source_db.add_decision(at + timedelta(hours=1), shop_domain="shop-a")
    with psycopg.connect(source_db.uri, autocommit=True) as admin:
        exists = admin.execute("select 1 from pg_roles where rolname = %s", (ROLE,)).fetchone()
        if exists:  # a role is cluster-wide: another test database may have made it
            admin.execute(f"drop owned by {ROLE}")
            admin.execute(f"drop role {ROLE}")
        admin.execute(documented_grants(source_db.name))
    env = {"DATABASE_URL": as_role(source_db.uri, ROLE)}
    try:
        for args in (
            ["run", "--as-of", str(AS_OF)],
            ["backfill", "--start", str(AS_OF - timedelta(days=3)), "--end", str(AS_OF)],
            ["run", "--as-of", str(AS_OF), "--dry-run"],
            ["history"],
            ["report", "--out", str(tmp_path / "report.html")],
        ):
            result = run_cli(args, env=env)
            assert result.returncode == 0, (args, result.stderr)
            assert "history row was not written" not in result.stderr, (args, result.stderr)
        assert source_db.fact_value(ACTIVATION_FACT_TYPE, AS_OF)["activatedShops"] == 1
        # its history was written as that role: the run and the backfill (not the dry run)
        assert source_db.execute(
            "select command, status from nightly_metrics.job_runs order by started_at"
        ) == [("run", "succeeded"), ("backfill", "succeeded")]
        # the role can do no more than that: the application's decisions are read-only to it
        with psycopg.connect(as_role(source_db.uri, ROLE)) as job_conn:
            try:
                job_conn.execute('delete from "DecisionLog"')
                raise AssertionError("the job's role could delete the application's decisions")
            except psycopg.errors.InsufficientPrivilege:
                pass
    finally:
        with psycopg.connect(source_db.uri, autocommit=True) as admin:
            admin.execute(f"drop owned by {ROLE}")
            admin.execute(f"drop role {ROLE}")
