"""Source days that never arrived, the dates a run accepts, and reruns that never lose what
was known (the contract's sections of those names), end to end.

Streams are built row by row here, busy or sparse on purpose, so that the expected
missing days can be worked out by the oracle (`contract_oracle.missing_days`) as well as
by hand in the comments.
"""

from __future__ import annotations

import json
import random
from datetime import UTC, date, datetime, timedelta

import contract_oracle
import pytest
from conftest import run_cli
from contract_oracle import ACTIVATION_FACT_TYPE, SLA_FACT_TYPE, Decision, Fact
from psycopg.types.json import Jsonb
from test_application_data import ApplicationDay

from nightly_metrics import dbt_invoke, project
from nightly_metrics.database_url import parse_database_url
from nightly_metrics.errors import ExitCode

AS_OF = date(2026, 11, 28)  # window [2026-11-21, 2026-11-28)
STREAM_OF_FACT = contract_oracle.STREAMS_READ
METADATA_KEY = {
    contract_oracle.SESSIONS_STREAM: "dashboardSessions",
    contract_oracle.ESCALATIONS_STREAM: "escalationSnapshots",
    contract_oracle.DECISIONS_STREAM: "opsDecisions",
}


class Streams:
    """Rows of the three streams, inserted in one transaction and kept for the oracle."""

    def __init__(self):
        self.facts: list[Fact] = []
        self.decisions: list[Decision] = []

    def sessions(self, day: date, count: int) -> None:
        for n in range(count):
            at = datetime(day.year, day.month, day.day, 9) + timedelta(minutes=n)
            self.facts.append(Fact(f"shop-{n:02d}", "dashboard.session.opened", {}, None, at))

    def snapshots(self, day: date, count: int) -> None:
        for n in range(count):
            at = datetime(day.year, day.month, day.day, 10) + timedelta(minutes=n)
            breach = {"conversationId": day.toordinal() * 100 + n, "breachedAt": "bad"}
            self.facts.append(
                Fact(f"shop-{n:02d}", "chatwoot.escalations", [], {"breaches": [breach]}, at)
            )

    def decisions_on(self, day: date, count: int) -> None:
        for n in range(count):
            at = datetime(day.year, day.month, day.day, 11) + timedelta(minutes=n)
            self.decisions.append(Decision("ops", f"shop-{n:02d}", None, at))

    def insert(self, db) -> None:
        with db.connect() as conn, conn.cursor() as cursor:
            cursor.executemany(
                'insert into "DashboardFact" ("shopDomain", "factType", value, metadata,'
                ' "createdAt", "updatedAt") values (%s, %s, %s, %s, %s, %s)',
                [
                    (
                        f.shop_domain,
                        f.fact_type,
                        Jsonb(f.value),
                        Jsonb(f.metadata),
                        f.created_at,
                        f.created_at,
                    )
                    for f in self.facts
                ],
            )
            cursor.executemany(
                'insert into "DecisionLog" (scope, actor, action, "shopDomain", "createdAt")'
                " values (%s, 'ops:test', 'test', %s, %s)",
                [(d.scope, d.shop_domain, d.created_at) for d in self.decisions],
            )


def days(first: date, last: date):
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


def dense_streams(*, empty_session_day: date | None = None) -> Streams:
    """Sessions 12 a day and escalation snapshots 11 a day from 2026-10-01 (busy: judged),
    ops decisions 2 a day (sparse: never judged)."""
    streams = Streams()
    for day in days(date(2026, 10, 1), AS_OF - timedelta(days=1)):
        if day != empty_session_day:
            streams.sessions(day, 12)
        streams.snapshots(day, 11)
        streams.decisions_on(day, 2)
    return streams


def mart_rows(db, schema: str = "nightly_metrics") -> dict[tuple[str, date], dict]:
    rows = db.execute(
        "select metric_fact_type, as_of_date, write_action, source_rows_read,"
        f" stored_source_rows_read, fact_metadata from {schema}.fct_ops_metrics_rolling7d"
    )
    keys = ("action", "source_rows_read", "stored_source_rows_read", "metadata")
    return {(r[0], r[1]): dict(zip(keys, r[2:], strict=True)) for r in rows}


def test_missing_days_follow_each_streams_own_volume(source_db):
    """A seeded mix of streams, one backfill, every as-of date against the oracle:
    sessions begin 2026-10-20 at 8 to 14 a day with three random days dropped;
    snapshots begin 2026-11-12 at 15 a day (too little history for windows before
    2026-11-26) with one dropped day; decisions run at exactly 10 a day from 2026-09-01
    (judged: the threshold is "at least") with one dropped day."""
    rng = random.Random(11)
    streams = Streams()
    dropped_sessions = set(rng.sample(list(days(date(2026, 11, 1), date(2026, 11, 26))), 3))
    for day in days(date(2026, 10, 20), AS_OF - timedelta(days=1)):
        if day not in dropped_sessions:
            streams.sessions(day, rng.randint(8, 14))
    for day in days(date(2026, 11, 12), AS_OF - timedelta(days=1)):
        if day != date(2026, 11, 23):
            streams.snapshots(day, 15)
    for day in days(date(2026, 9, 1), AS_OF - timedelta(days=1)):
        if day != date(2026, 11, 10):
            streams.decisions_on(day, 10)
    streams.insert(source_db)

    start = date(2026, 11, 5)
    result = run_cli(
        ["backfill", "--start", str(start), "--end", str(AS_OF)],
        env={"DATABASE_URL": source_db.uri},
    )
    assert result.returncode == ExitCode.DATA_MISSING, result.stderr
    assert "Traceback" not in result.stderr

    mart = mart_rows(source_db)
    stored = {(f["factType"], f["createdAt"].date()): f for f in source_db.aggregate_facts()}
    withheld_seen = written_seen = 0
    for as_of in days(start, AS_OF):
        missing = contract_oracle.missing_days(streams.facts, streams.decisions, as_of)
        for fact_type, read in STREAM_OF_FACT.items():
            row = mart[(fact_type, as_of)]
            expected_days = {METADATA_KEY[s]: [str(d) for d in missing[s]] for s in read}
            assert row["metadata"]["missingSourceDays"] == expected_days, (as_of, fact_type)
            if any(missing[s] for s in read):
                withheld_seen += 1
                assert row["action"] == "withheld", (as_of, fact_type)
                assert (fact_type, as_of) not in stored
            else:
                written_seen += 1
                assert row["action"] == "written", (as_of, fact_type)
                assert stored[(fact_type, as_of)]["metadata"] == row["metadata"]
            for stream in read:  # the run names every missing day of every stream
                for day in missing[stream]:
                    assert str(day) in result.stderr
    assert withheld_seen > 5 and written_seen > 5


def test_a_dense_stream_with_an_empty_day_withholds_only_its_fact(source_db):
    empty = AS_OF - timedelta(days=3)
    # the night before the gap was found, both facts were written
    dense_streams().insert(source_db)
    first = run_cli(["run", "--as-of", str(AS_OF)], env={"DATABASE_URL": source_db.uri})
    assert first.returncode == 0, first.stderr
    stored_activation = source_db.fact(ACTIVATION_FACT_TYPE, AS_OF)
    stored_sla = source_db.fact(SLA_FACT_TYPE, AS_OF)

    source_db.execute(
        'delete from "DashboardFact" where "factType" = %s and "createdAt"::date = %s',
        ("dashboard.session.opened", empty),
    )
    failed = run_cli(["run", "--as-of", str(AS_OF)], env={"DATABASE_URL": source_db.uri})
    assert failed.returncode == ExitCode.DATA_MISSING, failed.stderr
    assert "Traceback" not in failed.stderr
    assert (
        f"dashboard_sessions: no rows on 1 day(s) (the stream averaged 12.0 a day before): {empty}"
        in failed.stderr
    )
    assert "withheld 1 fact(s) (metrics.activation.rolling7d)" in failed.stderr
    # the withheld fact's stored row is exactly as it was; the other fact is rewritten
    assert source_db.fact(ACTIVATION_FACT_TYPE, AS_OF) == stored_activation
    assert source_db.fact(SLA_FACT_TYPE, AS_OF)["updatedAt"] > stored_sla["updatedAt"]
    assert [
        f["factType"]
        for f in json.loads(
            run_cli(
                ["run", "--as-of", str(AS_OF), "--json", "--dry-run"],
                env={"DATABASE_URL": source_db.uri},
            ).stdout
        )
    ] == [SLA_FACT_TYPE]

    forced = run_cli(
        ["run", "--as-of", str(AS_OF), "--allow-missing-days", "--allow-fewer-rows"],
        env={"DATABASE_URL": source_db.uri},
    )
    assert forced.returncode == 0, forced.stderr
    assert str(empty) in forced.stderr  # still reported, as a warning
    activation = source_db.fact(ACTIVATION_FACT_TYPE, AS_OF)
    assert activation["metadata"]["missingSourceDays"] == {
        "dashboardSessions": [str(empty)],
        "opsDecisions": [],
    }
    assert activation["metadata"]["missingDaysOverridden"] is True
    assert source_db.fact(SLA_FACT_TYPE, AS_OF)["metadata"]["missingDaysOverridden"] is False


def test_the_minimum_daily_rows_is_an_option(source_db):
    """12 sessions a day is busy at the default 10 and sparse at 13."""
    dense_streams(empty_session_day=AS_OF - timedelta(days=2)).insert(source_db)
    result = run_cli(
        ["run", "--as-of", str(AS_OF), "--min-daily-rows", "13"],
        env={"DATABASE_URL": source_db.uri},
    )
    assert result.returncode == 0, result.stderr
    assert len(source_db.aggregate_facts()) == 2


def plain_dbt_build(db, tmp_path, variables: dict):
    """`dbt build` as a user without the runner runs it: profiles.example.yml as
    ~/.dbt/profiles.yml, the NIGHTLY_METRICS_DB_* variables set."""
    with dbt_invoke.dbt_session(
        db.settings, project.TARGET_SCHEMA_DEFAULT, target_path=tmp_path
    ) as dbt:
        return dbt(["build", "--vars", json.dumps(variables)])


def test_plain_dbt_build_withholds_per_fact_and_fails(source_db, tmp_path):
    empty = AS_OF - timedelta(days=5)
    dense_streams(empty_session_day=empty).insert(source_db)
    outcome = plain_dbt_build(source_db, tmp_path, {"as_of": str(AS_OF)})
    assert not outcome.success
    assert [t.name for t in outcome.failed_tests] == ["dashboard_sessions_arrived"]
    assert outcome.failed_nodes == []
    assert [f["factType"] for f in source_db.aggregate_facts()] == [SLA_FACT_TYPE]
    assert mart_rows(source_db)[(ACTIVATION_FACT_TYPE, AS_OF)]["action"] == "withheld"

    # sparse sources: plain dbt build passes and writes both
    source_db.execute('delete from "DashboardFact"')
    sparse = Streams()
    for day in days(date(2026, 11, 1), AS_OF - timedelta(days=1)):
        if day.weekday() < 5:
            sparse.sessions(day, 2)
            sparse.decisions_on(day, 1)
    sparse.insert(source_db)
    outcome = plain_dbt_build(source_db, tmp_path, {"as_of": str(AS_OF)})
    assert outcome.success, (outcome.failed_tests, outcome.failed_nodes, outcome.exception)
    assert sorted(f["factType"] for f in source_db.aggregate_facts()) == [
        ACTIVATION_FACT_TYPE,
        SLA_FACT_TYPE,
    ]


def test_as_of_dates_up_to_tomorrow_only(source_db, tmp_path):
    today = datetime.now(UTC).date()
    for args in (
        ["run", "--as-of", str(today + timedelta(days=2))],
        ["backfill", "--start", str(today), "--end", str(today + timedelta(days=2))],
    ):
        result = run_cli(args, env={"DATABASE_URL": source_db.uri})
        assert result.returncode == ExitCode.CONFIG, result.stderr
        assert "is after tomorrow" in result.stderr
        assert "Traceback" not in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
    assert source_db.aggregate_facts() == []
    assert source_db.execute("select to_regclass('nightly_metrics.fct_ops_metrics_rolling7d')") == [
        (None,)
    ]
    # plain dbt refuses it too, before building anything
    outcome = plain_dbt_build(source_db, tmp_path, {"as_of": str(today + timedelta(days=2))})
    assert not outcome.success
    assert "after tomorrow" in (outcome.exception or "")
    assert source_db.aggregate_facts() == []

    tomorrow = today + timedelta(days=1)
    source_db.add_session("shop-a", datetime(today.year, today.month, today.day, 0, 30))
    result = run_cli(["run", "--as-of", str(tomorrow)], env={"DATABASE_URL": source_db.uri})
    assert result.returncode == 0, result.stderr
    assert source_db.fact_value(ACTIVATION_FACT_TYPE, tomorrow)["totalActiveShops"] == 1


def test_a_rerun_over_shrunk_sources_keeps_the_stored_fact(source_db):
    data = ApplicationDay().build()
    data.insert(source_db)
    facts, decisions = data.oracle_inputs()
    first = run_cli(["run", "--as-of", str(AS_OF)], env={"DATABASE_URL": source_db.uri})
    assert first.returncode == 0, first.stderr
    stored = {t: source_db.fact(t, AS_OF) for t in (ACTIVATION_FACT_TYPE, SLA_FACT_TYPE)}
    rows_before = stored[ACTIVATION_FACT_TYPE]["metadata"]["sourceRowsRead"]

    # one session of the window is deleted: activation now reads one row fewer
    source_db.execute(
        'delete from "DashboardFact" where id = (select min(id) from "DashboardFact"'
        ' where "factType" = %s and "createdAt" >= %s and "createdAt" < %s)',
        ("dashboard.session.opened", datetime(2026, 11, 21), datetime(2026, 11, 28)),
    )
    rerun = run_cli(["run", "--as-of", str(AS_OF)], env={"DATABASE_URL": source_db.uri})
    assert rerun.returncode == 0, rerun.stderr
    assert (
        "kept the stored metrics.activation.rolling7d of the window 2026-11-21 – 2026-11-27"
        " (as of 2026-11-28):"
        f" its sources now read {rows_before - 1} rows, {rows_before} when it was written"
    ) in rerun.stderr
    assert source_db.fact(ACTIVATION_FACT_TYPE, AS_OF) == stored[ACTIVATION_FACT_TYPE]
    assert source_db.fact(SLA_FACT_TYPE, AS_OF)["updatedAt"] > stored[SLA_FACT_TYPE]["updatedAt"]
    assert "[kept as stored" in rerun.stdout

    replaced = run_cli(
        ["run", "--as-of", str(AS_OF), "--allow-fewer-rows"], env={"DATABASE_URL": source_db.uri}
    )
    assert replaced.returncode == 0, replaced.stderr
    now_stored = source_db.fact(ACTIVATION_FACT_TYPE, AS_OF)
    assert now_stored["metadata"]["sourceRowsRead"] == rows_before - 1
    remaining = [
        Fact(*row)
        for row in source_db.execute(
            'select "shopDomain", "factType", value, metadata, "createdAt" from "DashboardFact"'
            " where \"shopDomain\" <> '__aggregate__'"
        )
    ]
    expected = contract_oracle.expected_facts(remaining, decisions, AS_OF)
    assert now_stored["value"] == expected[ACTIVATION_FACT_TYPE]
    assert now_stored["id"] == stored[ACTIVATION_FACT_TYPE]["id"]


def test_the_applications_14_day_purge_changes_no_figure(source_db):
    """The application deletes escalation snapshots 14 days after they were taken. The
    breaches read from them while they existed still count (the staging model keeps
    what it parsed), so a rerun after the purge gives the same figures; without
    --allow-fewer-rows it keeps the stored fact, since the window reads fewer rows."""
    data = ApplicationDay().build()
    data.insert(source_db)
    as_of_dates = [AS_OF - timedelta(days=n) for n in (6, 3, 0)]
    first = run_cli(
        ["backfill", "--start", str(as_of_dates[0]), "--end", str(AS_OF)],
        env={"DATABASE_URL": source_db.uri},
    )
    assert first.returncode == 0, first.stderr
    before = {
        f["createdAt"].date(): f
        for f in source_db.aggregate_facts()
        if f["factType"] == SLA_FACT_TYPE
    }
    assert max(before[d]["value"]["sampleSize"] for d in as_of_dates) > 0

    purged = source_db.execute(
        'delete from "DashboardFact" where "factType" = %s and "createdAt" < %s returning id',
        ("chatwoot.escalations", datetime(2026, 11, 28) - timedelta(days=14)),
    )
    assert len(purged) > 10

    kept = run_cli(["run", "--as-of", str(as_of_dates[0])], env={"DATABASE_URL": source_db.uri})
    assert kept.returncode == 0, kept.stderr
    assert "kept the stored metrics.sla_resolution.rolling7d" in kept.stderr
    assert source_db.fact(SLA_FACT_TYPE, as_of_dates[0]) == before[as_of_dates[0]]

    again = run_cli(
        ["backfill", "--start", str(as_of_dates[0]), "--end", str(AS_OF), "--allow-fewer-rows"],
        env={"DATABASE_URL": source_db.uri},
    )
    assert again.returncode == 0, again.stderr
    for as_of in days(as_of_dates[0], AS_OF):
        after = source_db.fact(SLA_FACT_TYPE, as_of)
        assert after["value"] == before[as_of]["value"], as_of
        assert after["metadata"]["breachesSeen"] == before[as_of]["metadata"]["breachesSeen"]


@pytest.mark.parametrize(
    ("database", "user", "expected"),
    [
        ("postgres", "nobody_here", 'role "nobody_here" does not exist'),
        ("no_such_db", None, 'database "no_such_db" does not exist'),
    ],
)
def test_a_server_refusing_the_login_is_a_configuration_error(pg_server, database, user, expected):
    """Retrying will not help: exit 2, not 3 (a wrong password: test_operations)."""
    settings = parse_database_url(pg_server.get_uri(database=database))
    uri = pg_server.get_uri(database=database)
    if user:
        uri = uri.replace(f"{settings.user}@", f"{user}@", 1).replace(
            f"{settings.user}:@", f"{user}:@", 1
        )
        assert user in uri
    result = run_cli(["run"], env={"DATABASE_URL": uri})
    assert result.returncode == ExitCode.CONFIG, (uri, result.stderr)
    assert expected in result.stderr
    assert "Traceback" not in result.stderr


def test_a_purged_stream_is_judged_on_the_days_it_still_has(source_db):
    """Escalation snapshots, 20 a day, are purged after 14 days. Before the window
    (2026-11-21) only 2026-11-14 to 2026-11-20 remain: 7 days of history at 20 a day,
    so the stream is judged, and its empty window day is missing. Counting the purged
    days as empty would dilute the average to 5 a day and miss it."""
    empty = AS_OF - timedelta(days=3)
    streams = Streams()
    for day in days(date(2026, 10, 1), AS_OF - timedelta(days=1)):
        if day != empty:
            streams.snapshots(day, 20)
        if day.weekday() < 5:
            streams.sessions(day, 3)
    streams.insert(source_db)
    # a night before the purge, with the whole history there
    before = run_cli(
        ["run", "--as-of", str(AS_OF - timedelta(days=10))], env={"DATABASE_URL": source_db.uri}
    )
    assert before.returncode == 0, before.stderr

    source_db.execute(
        'delete from "DashboardFact" where "factType" = %s and "createdAt" < %s',
        ("chatwoot.escalations", datetime(2026, 11, 14)),
    )
    remaining = [
        f
        for f in streams.facts
        if f.fact_type != "chatwoot.escalations" or f.created_at >= datetime(2026, 11, 14)
    ]
    expected = contract_oracle.missing_days(remaining, streams.decisions, AS_OF)
    assert expected[contract_oracle.ESCALATIONS_STREAM] == [empty]

    result = run_cli(["run", "--as-of", str(AS_OF)], env={"DATABASE_URL": source_db.uri})
    assert result.returncode == ExitCode.DATA_MISSING, result.stderr
    assert (
        f"escalation_snapshots: no rows on 1 day(s) (the stream averaged 20.0 a day before):"
        f" {empty}"
    ) in result.stderr
    assert [
        f["factType"] for f in source_db.aggregate_facts() if f["createdAt"].date() == AS_OF
    ] == [ACTIVATION_FACT_TYPE]
