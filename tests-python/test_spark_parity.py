"""The `spark` target computes the same figures as PostgreSQL.

The scenarios' source rows go into a fresh PostgreSQL database (the usual
`source_db` fixture) and, with the same ids, into a replica of "DashboardFact"
and "DecisionLog" in a local Spark session (same columns, JSON kept as text,
as docs/spark.md describes). The job runs on PostgreSQL; `dbt build --target
spark` runs on Spark, each for every as-of date the scenarios span (one build
each: a Spark build costs per query, not per row); the written aggregate facts
must be equal, value and metadata alike (generatedAt aside, it is the time of
writing).

Skipped when the `spark` extra (dbt-spark's session method and pyspark) is not
installed. Spark itself needs Java 17 or later. One Spark session serves the
whole module: it takes seconds to start."""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

pytest.importorskip("pyspark", reason="pyspark is not installed (pip install -e '.[spark]')")
pytest.importorskip(
    "dbt.adapters.spark", reason="dbt-spark is not installed (pip install -e '.[spark]')"
)

from test_activation import load_boundary_fixture  # noqa: E402

from nightly_metrics import dbt_invoke, paths, project  # noqa: E402

ACTIVATION = "metrics.activation.rolling7d"
SLA = "metrics.sla_resolution.rolling7d"
AS_OF = date(2026, 11, 28)
WINDOW_START = datetime(2026, 11, 21)
WINDOW_END = datetime(2026, 11, 28)
# Two weeks earlier: the window of the interpolation edge, before any other
# scenario's row; the dates between hold empty and partial windows.
EDGE_AS_OF = date(2026, 11, 14)
EDGE_WINDOW_START = datetime(2026, 11, 7)
AS_OF_DATES = (AS_OF - EDGE_AS_OF).days + 1
MS = timedelta(milliseconds=1)

FACT_COLUMNS = (
    "id bigint, `shopDomain` string, `factType` string, scope string, value string,"
    " metadata string, `evidenceUrl` string, `createdAt` timestamp, `updatedAt` timestamp"
)
DECISION_COLUMNS = (
    "id bigint, scope string, actor string, action string, rationale string,"
    " `evidenceUrl` string, `shopDomain` string, `externalRef` string, payload string,"
    " `createdAt` timestamp"
)


@pytest.fixture(scope="module")
def spark():
    from pyspark.sql import SparkSession

    folder = Path(tempfile.mkdtemp(prefix="nightly-metrics-spark-"))
    session = (
        SparkSession.builder.master("local[1]")
        .appName("nightly-metrics-parity")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.warehouse.dir", str(folder / "warehouse"))
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        # Rows by the dozen: one shuffle partition, and no code generation or
        # adaptive re-planning, whose per-query cost is all there is to save
        # here (about 15 % of each build); neither changes what a query means.
        .config("spark.sql.shuffle.partitions", "1")
        .config("spark.sql.codegen.wholeStage", "false")
        .config("spark.sql.adaptive.enabled", "false")
        # A JVM that lives for a few builds: its quick JIT only, one GC thread.
        .config(
            "spark.driver.extraJavaOptions",
            f"-Dderby.system.home={folder} -XX:TieredStopAtLevel=1 -XX:+UseSerialGC",
        )
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()
    # stop() leaves the JVM running for the rest of the process, where it
    # kept a third of a core busy while the worker ran other modules.
    from pyspark import SparkContext

    if SparkContext._gateway is not None:
        SparkContext._gateway.shutdown()
        SparkContext._gateway = None
        SparkContext._jvm = None
    shutil.rmtree(folder, ignore_errors=True)


@dataclass
class Scenario:
    """Source rows written to PostgreSQL, remembered to copy into Spark."""

    db: object
    facts: list[tuple] = field(default_factory=list)
    decisions: list[tuple] = field(default_factory=list)

    def add_fact(self, shop_domain, fact_type, created_at, value=None, metadata=None):
        fact_id = self.db.add_fact(shop_domain, fact_type, created_at, value, metadata)
        value = {} if value is None else value
        self.facts.append(
            (
                fact_id,
                shop_domain,
                fact_type,
                None,
                json.dumps(value),
                None if metadata is None else json.dumps(metadata),
                None,
                created_at,
                created_at,
            )
        )
        return fact_id

    def add_session(self, shop_domain, created_at):
        return self.add_fact(shop_domain, "dashboard.session.opened", created_at, {"path": "/app"})

    def add_escalations(self, created_at, value, metadata, shop="shop-a"):
        return self.add_fact(shop, "chatwoot.escalations", created_at, value, metadata)

    def add_decision(self, created_at, *, scope="ops", shop_domain=None, external_ref=None):
        decision_id = self.db.add_decision(
            created_at, scope=scope, shop_domain=shop_domain, external_ref=external_ref
        )
        self.decisions.append(
            (
                decision_id,
                scope,
                "ops:test",
                "test",
                None,
                None,
                shop_domain,
                external_ref,
                None,
                created_at,
            )
        )
        return decision_id


def utc(value: datetime) -> datetime:
    """Naive UTC as an aware datetime, so pyspark never applies the local zone."""
    return value.replace(tzinfo=UTC)


class SparkReplica:
    def __init__(self, spark, name: str):
        self.spark = spark
        self.source_schema = f"app_replica_{name}"
        self.target_schema = f"nightly_metrics_{name}"
        spark.sql(f"create schema if not exists {self.source_schema}")
        spark.sql(
            f"create table {self.source_schema}.`DashboardFact` ({FACT_COLUMNS}) using parquet"
        )
        spark.sql(
            f"create table {self.source_schema}.`DecisionLog` ({DECISION_COLUMNS}) using parquet"
        )

    def load(self, scenario: Scenario) -> None:
        facts = [(*row[:7], utc(row[7]), utc(row[8])) for row in scenario.facts]
        decisions = [(*row[:9], utc(row[9])) for row in scenario.decisions]
        for table, columns, rows in (
            ("DashboardFact", FACT_COLUMNS, facts),
            ("DecisionLog", DECISION_COLUMNS, decisions),
        ):
            if rows:
                frame = self.spark.createDataFrame(rows, schema=columns.replace("`", ""))
                frame.write.insertInto(f"{self.source_schema}.`{table}`")

    def run(self, as_of_start: date, as_of_end: date) -> None:
        # The runner's variables (job.run_job), as for the PostgreSQL run.
        variables = {
            "as_of_start": str(as_of_start),
            "as_of_end": str(as_of_end),
            "escalation_lookback_days": project.LOOKBACK_DAYS_DEFAULT,
            "write_back": True,
            "allow_missing_days": False,
            "allow_fewer_rows": False,
        }
        with spark_environment(self.source_schema, self.target_schema) as (profiles, target):
            from dbt.cli.main import dbtRunner

            result = dbtRunner().invoke(
                [
                    "build",
                    "--target",
                    "spark",
                    "--vars",
                    json.dumps(variables),
                    "--exclude-resource-type",
                    "unit_test",
                    "--project-dir",
                    str(paths.PROJECT_DIR),
                    "--profiles-dir",
                    str(profiles),
                    "--target-path",
                    str(target),
                    "--quiet",
                ]
            )
        failures = [
            f"{r.node.name}: {r.message}"
            for r in (getattr(result.result, "results", None) or [])
            if str(r.status) not in ("success", "pass", "skipped")
        ]
        assert result.success, f"dbt build on Spark failed: {failures or result.exception}"

    def aggregate_facts(self) -> list[dict]:
        rows = self.spark.sql(
            f"select id, `factType`, scope, value, metadata, `createdAt`, `updatedAt`"
            f" from {self.source_schema}.`DashboardFact`"
            f" where `shopDomain` = '__aggregate__' and `factType` in ('{ACTIVATION}', '{SLA}')"
            f" order by `createdAt`, `factType`, id"
        ).collect()
        return [
            {
                "id": row.id,
                "factType": row.factType,
                "scope": row.scope,
                "value": json.loads(row.value, parse_float=Decimal),
                "metadata": json.loads(row.metadata, parse_float=Decimal),
                # collect() gives local wall-clock naive datetimes; back to naive UTC
                "createdAt": row.createdAt.astimezone(UTC).replace(tzinfo=None),
            }
            for row in rows
        ]

    def other_rows(self) -> int:
        return self.spark.sql(
            f"select count(*) from {self.source_schema}.`DashboardFact` where not"
            f" (`shopDomain` = '__aggregate__' and `factType` in ('{ACTIVATION}', '{SLA}'))"
        ).collect()[0][0]


@contextmanager
def spark_environment(source_schema: str, target_schema: str) -> Iterator[tuple[Path, Path]]:
    environment = {
        "NIGHTLY_METRICS_SOURCE_SCHEMA": source_schema,
        "NIGHTLY_METRICS_TARGET_SCHEMA": target_schema,
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    with (
        dbt_invoke.temporary_environment(environment),
        dbt_invoke.dbt_profiles_dir() as profiles,
        tempfile.TemporaryDirectory() as target,
    ):
        yield profiles, Path(target)


def comparable(facts: list[dict]) -> list[tuple]:
    """What both engines must agree on: everything but the time of writing."""
    return [
        (
            fact["factType"],
            fact["scope"],
            fact["createdAt"],
            fact["value"],
            {key: value for key, value in fact["metadata"].items() if key != "generatedAt"},
        )
        for fact in facts
    ]


def assert_same_facts(source_db, replica: SparkReplica) -> dict[tuple[str, date], dict]:
    """Both engines wrote the same facts, one per (factType, as-of date) of
    EDGE_AS_OF..AS_OF; Spark's, by that key."""
    on_postgres = source_db.aggregate_facts()
    on_spark = replica.aggregate_facts()
    by_key = {(fact["factType"], fact["createdAt"].date()): fact for fact in on_spark}
    assert len(on_spark) == len(by_key) == 2 * AS_OF_DATES, "one row per (factType, windowEnd)"
    assert comparable(on_spark) == comparable(on_postgres)
    # Also equal as JSON types: counts are integers on both, not 5.0.
    for spark_fact, pg_fact in zip(on_spark, on_postgres, strict=True):
        for key, value in pg_fact["value"].items():
            assert type(spark_fact["value"][key]) is type(value), (pg_fact["factType"], key)
    return by_key


def run_both(source_db, replica: SparkReplica) -> None:
    """The job on PostgreSQL and `dbt build` on Spark, both for EDGE_AS_OF..AS_OF."""
    source_db.run(EDGE_AS_OF, AS_OF)
    replica.run(EDGE_AS_OF, AS_OF)


# --- scenarios -------------------------------------------------------------


def load_sla_scenario(db) -> None:
    """Breaches in both formats, the spellings the contract allows, and the
    elements it rejects, resolved at various distances inside the window."""
    day = WINDOW_START + timedelta(days=2)
    # metadata.breaches: ids as JSON integers and digit strings (leading zeros),
    # times with and without fraction, Z, offsets, no offset, lowercase, no seconds.
    db.add_escalations(
        day,
        [],
        {
            "breaches": [
                {"conversationId": 101, "breachedAt": "2026-11-23T10:00:00.000Z"},
                {"conversationId": "0102", "breachedAt": "2026-11-23T10:00:00+02:00"},
                {"conversationId": 103, "breachedAt": "2026-11-23T09:30:00.5-01:30"},
                {"conversationId": 104, "breachedAt": "2026-11-23T08:00:00"},
                {"conversationId": 105, "breachedAt": "2026-11-23t08:00z"},
                {"conversationId": 106, "breachedAt": "2026-11-23 07:59:59.123456789Z"},
                # 04:15:00.100Z, resolved at that very instant (a 0-minute tie)
                {"conversationId": 114, "breachedAt": "2026-11-23T10:00:00.1+05:45"},
                # rejected: not objects, bad ids, bad or out-of-range times
                "not an object",
                [107, "2026-11-23T08:00:00Z"],
                {"conversationId": -108, "breachedAt": "2026-11-23T08:00:00Z"},
                {"conversationId": 10.5, "breachedAt": "2026-11-23T08:00:00Z"},
                {"conversationId": "12\n", "breachedAt": "2026-11-23T08:00:00Z"},
                {"conversationId": True, "breachedAt": "2026-11-23T08:00:00Z"},
                {"conversationId": 109, "breachedAt": "2026-02-30T08:00:00Z"},
                {"conversationId": 110, "breachedAt": "2026-11-23T08:00:00Z\n"},
                {"conversationId": 111, "breachedAt": "1969-12-31T23:00:00Z"},
                {"conversationId": 112, "breachedAt": 1795420800},
                {"conversationId": 113},
            ]
        },
    )
    # the same conversation in a later snapshot, breached later: one breach, the earliest
    db.add_escalations(
        day + timedelta(days=1),
        [],
        {"breaches": [{"conversationId": 101, "breachedAt": "2026-11-23T12:00:00.000Z"}]},
    )
    # legacy snapshots: value[] elements with slaBreached, metadata.slaMinutes
    db.add_escalations(
        day,
        [
            {"id": 201, "slaBreached": True, "breachedAt": "2026-11-23T11:00:00Z"},
            {"id": 202, "slaBreached": True, "createdAt": "2026-11-23T09:00:00.000Z"},
            {"id": 203, "slaBreached": True, "lastMessageAt": "2026-11-23T09:10:00+01:00"},
            {"id": 204, "slaBreached": True, "created_at": 1795424400},
            {"id": 205, "slaBreached": True, "created_at": 1795424400.25},
            {"id": 206, "slaBreached": True, "createdAt": "garbage", "created_at": 1795424460},
            # no breach, not rejected
            {"id": 207, "slaBreached": "true", "createdAt": "2026-11-23T09:00:00Z"},
            {"id": 208, "slaBreached": False, "createdAt": "2026-11-23T09:00:00Z"},
            # rejected: digit-string id (legacy ids must be integers), no start
            {"id": "209", "slaBreached": True, "createdAt": "2026-11-23T09:00:00Z"},
            {"id": 210, "slaBreached": True},
            {"id": 211, "slaBreached": True, "created_at": "1795424400"},
            # also in metadata.breaches of the first snapshot: one breach
            {"id": 101, "slaBreached": True, "createdAt": "2026-11-23T06:00:00Z"},
        ],
        {"slaMinutes": 30, "breaches": []},
    )
    # legacy snapshot whose slaMinutes is a string: its breaches are rejected
    db.add_escalations(
        day,
        [{"id": 301, "slaBreached": True, "createdAt": "2026-11-23T09:00:00Z"}],
        {"slaMinutes": "30"},
    )
    # fractional slaMinutes; breaches as a non-array (rejected as a whole)
    db.add_escalations(
        day,
        [{"id": 302, "slaBreached": True, "createdAt": "2026-11-23T09:00:00Z"}],
        {"slaMinutes": 12.5, "breaches": {"conversationId": 303}},
    )
    # a breach recorded long before the window (inside the look-back), resolved in it
    db.add_escalations(
        WINDOW_START - timedelta(days=20),
        [],
        {"breaches": [{"conversationId": 401, "breachedAt": "2026-11-01T00:00:00Z"}]},
    )
    # a snapshot before the look-back: never read
    db.add_escalations(
        WINDOW_START - timedelta(days=40),
        [],
        {"breaches": [{"conversationId": 402, "breachedAt": "2026-10-01T00:00:00Z"}]},
    )

    # Resolutions: minutes chosen so the percentiles interpolate.
    resolve = WINDOW_START + timedelta(days=3)  # 2026-11-24T00:00Z
    for conversation, minutes_after in (
        (101, 0),
        (102, 7),
        (103, 61),
        (104, 90),
        (105, 133),
        (106, 0),
        (201, 45),
        (202, 200),
        (203, 10),
        (204, 3),
        (205, 1),
        (206, 17),
        (302, 4),
        (401, 0),
    ):
        db.add_decision(
            resolve + timedelta(minutes=minutes_after, seconds=conversation % 7),
            external_ref=f"chatwoot:{conversation:05d}"
            if conversation == 104
            else f"chatwoot:{conversation}",
        )
    db.add_decision(datetime(2026, 11, 23, 4, 15, 0, 100000), external_ref="chatwoot:114")
    # a decision before its breach does not resolve it; one after the window neither
    db.add_decision(datetime(2026, 11, 23, 5), external_ref="chatwoot:201")
    db.add_decision(WINDOW_END, external_ref="chatwoot:207")
    # other scopes and references never resolve
    db.add_decision(resolve, scope="growth", external_ref="chatwoot:203")
    db.add_decision(resolve, external_ref="chatwoot:12x")
    db.add_decision(resolve, external_ref="zendesk:105")


def load_interpolation_edge(db) -> None:
    """Two durations whose median is exactly half a hundredth of a minute
    (1.025), where a double one bit off would round the other way: the only
    resolutions of EDGE_AS_OF's window."""
    day = EDGE_WINDOW_START + timedelta(days=1)
    db.add_escalations(
        day,
        [],
        {
            "breaches": [
                {"conversationId": 1, "breachedAt": "2026-11-08T10:00:00Z"},
                {"conversationId": 2, "breachedAt": "2026-11-08T10:00:00Z"},
            ]
        },
    )
    db.add_decision(datetime(2026, 11, 8, 10, 1), external_ref="chatwoot:1")
    db.add_decision(datetime(2026, 11, 8, 10, 1, 3), external_ref="chatwoot:2")


# --- tests -------------------------------------------------------------------


def load_scenarios(db) -> None:
    """The activation issue's window-edge fixture and the SLA scenario above
    (as of AS_OF; different fact types), and the interpolation edge two weeks
    earlier: one build of EDGE_AS_OF..AS_OF checks them all."""
    load_boundary_fixture(db)
    load_sla_scenario(db)
    load_interpolation_edge(db)


def test_both_engines_give_the_same_figures_on_every_date_and_a_rerun_replaces_them(
    source_db, spark
):
    scenario = Scenario(source_db)
    load_scenarios(scenario)
    replica = SparkReplica(spark, "parity")
    replica.load(scenario)
    run_both(source_db, replica)
    first = assert_same_facts(source_db, replica)
    # the activation issue's figures, as test_activation works them out
    activation = first[ACTIVATION, AS_OF]
    assert activation["value"]["totalActiveShops"] == 5
    assert activation["value"]["activatedShops"] == 2
    assert activation["value"]["activationRate"] == Decimal("0.4")
    assert activation["value"]["windowStart"] == "2026-11-21T00:00:00.000Z"
    assert activation["createdAt"] == WINDOW_END
    # the SLA scenario exercised both formats and the rejections
    sla = first[SLA, AS_OF]
    assert sla["value"]["sampleSize"] >= 10
    assert sla["value"]["medianMinutes"] is not None
    assert sla["metadata"]["breachCandidatesRejected"] > 0
    # the edge: durations 1 and 1.05 minutes, median 1.025 rounds half away from zero
    edge = first[SLA, EDGE_AS_OF]["value"]
    assert (edge["sampleSize"], edge["medianMinutes"]) == (2, Decimal("1.03"))
    # between them, windows with nothing to resolve
    assert first[SLA, date(2026, 11, 18)]["value"]["sampleSize"] == 0

    # A rerun after a late-arriving session for a new shop, inside the
    # already-computed window: both engines replace the rows in place.
    others = replica.other_rows()
    late = Scenario(source_db)
    late.add_session("shop-late", WINDOW_START + timedelta(days=5))
    replica.load(late)
    run_both(source_db, replica)
    second = assert_same_facts(source_db, replica)
    assert {key: fact["id"] for key, fact in second.items()} == {
        key: fact["id"] for key, fact in first.items()
    }
    assert second[ACTIVATION, AS_OF]["value"]["totalActiveShops"] == 6
    assert second[SLA, AS_OF]["value"] == sla["value"]
    assert replica.other_rows() == others + 1
