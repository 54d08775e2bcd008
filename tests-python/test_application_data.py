"""The job on data shaped like the application's own day, not a benchmark's.

A handful of shops open the dashboard on some weekdays only and never at weekends; Chatwoot
is configured for two of them, one still on the legacy escalation payload (`value[]` with
`lastMessageAt` and `metadata.slaMinutes`, no `breaches`); most breaches are seen in several
snapshots and some are never resolved; decisions are few; and the table still holds the old
script's `__aggregate__` rows (createdAt at the time it ran, value shapes of their own).

No stream here is busy enough for an empty day to be a missing one (see the contract's
"Source days that never arrived"), so every as-of date must write both facts with no
override, with the figures of the independent oracle (`contract_oracle`).
"""

from __future__ import annotations

import json
import random
from datetime import date, datetime, timedelta

import contract_oracle
import pytest
from conftest import run_cli
from contract_oracle import ACTIVATION_FACT_TYPE, SLA_FACT_TYPE, Decision, Fact
from psycopg.types.json import Jsonb

FIRST_DAY = date(2026, 10, 1)
LAST_DAY = date(2026, 11, 27)  # the day before the last as-of date
AS_OF_DATES = [date(2026, 11, 15) + timedelta(days=n) for n in range(14)]
# How likely each shop's operator is to open the dashboard on a weekday.
SHOPS = {
    "alpha.myshopify.com": 0.8,
    "beta.myshopify.com": 0.6,
    "gamma.myshopify.com": 0.3,
    "delta.myshopify.com": 0.15,
    "epsilon.myshopify.com": 0.05,
}
LEGACY_CHATWOOT_SHOP = "alpha.myshopify.com"  # value[] + metadata.slaMinutes, no breaches
CHATWOOT_SHOP = "beta.myshopify.com"  # metadata.breaches
LEGACY_SLA_MINUTES = 30


def iso(ts: datetime) -> str:
    return ts.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ts.microsecond // 1000:03d}Z"


class ApplicationDay:
    """Builds the rows in memory (for the oracle) and inserts them in one transaction."""

    def __init__(self, seed: int = 2026):
        self.rng = random.Random(seed)
        self.facts: list[tuple] = []  # (shopDomain, factType, value, metadata, createdAt)
        self.decisions: list[tuple] = []  # (scope, shopDomain, externalRef, createdAt)
        self.next_conversation = 100
        # open conversations per Chatwoot shop: id -> (last message at, resolved at or None)
        self.open: dict[str, dict[int, tuple[datetime, datetime | None]]] = {
            LEGACY_CHATWOOT_SHOP: {},
            CHATWOOT_SHOP: {},
        }

    def fact(self, shop, fact_type, value, metadata, created_at):
        self.facts.append((shop, fact_type, value, metadata, created_at))

    def decision(self, scope, shop, external_ref, created_at):
        self.decisions.append((scope, shop, external_ref, created_at))

    def build(self) -> ApplicationDay:
        day = FIRST_DAY
        while day <= LAST_DAY:
            if day.weekday() < 5:  # nobody opens the dashboard at weekends
                for shop, likelihood in SHOPS.items():
                    if self.rng.random() < likelihood:
                        self.working_session(shop, day)
            day += timedelta(days=1)
        self.old_script_rows()
        return self

    def working_session(self, shop: str, day: date) -> None:
        opened = datetime(day.year, day.month, day.day, 8) + timedelta(
            minutes=self.rng.randrange(0, 9 * 60), milliseconds=self.rng.randrange(1000)
        )
        self.fact(shop, "dashboard.session.opened", {"path": "/app/ops"}, None, opened)
        if shop in self.open:
            self.escalation_snapshot(shop, opened + timedelta(seconds=2))
        if self.rng.random() < 0.35:  # the operator decides something for the shop
            self.decision("ops", shop, None, opened + timedelta(minutes=self.rng.randrange(5, 90)))
        if self.rng.random() < 0.1:  # decisions of other scopes never count
            self.decision("growth", shop, None, opened + timedelta(minutes=3))

    def escalation_snapshot(self, shop: str, taken_at: datetime) -> None:
        conversations = self.open[shop]
        # new conversations since the last snapshot, some breaching their SLA
        for _ in range(self.rng.randrange(0, 3)):
            self.next_conversation += 1
            last_message = taken_at - timedelta(minutes=self.rng.randrange(40, 600))
            conversations[self.next_conversation] = (last_message, None)
        breached = {
            cid: last_message
            for cid, (last_message, _) in conversations.items()
            if last_message + timedelta(minutes=LEGACY_SLA_MINUTES) <= taken_at
        }
        if shop == LEGACY_CHATWOOT_SHOP:
            value = [
                {
                    "id": cid,
                    "status": "open",
                    "slaBreached": cid in breached,
                    "lastMessageAt": iso(last_message),
                }
                for cid, (last_message, _) in conversations.items()
            ]
            self.fact(
                shop, "chatwoot.escalations", value, {"slaMinutes": LEGACY_SLA_MINUTES}, taken_at
            )
        else:
            breaches = [
                {"conversationId": str(cid), "breachedAt": iso(at + timedelta(minutes=45))}
                for cid, at in breached.items()
            ]
            self.fact(
                shop,
                "chatwoot.escalations",
                [{"id": cid, "status": "open"} for cid in conversations],
                {"breaches": breaches, "slaMinutes": 45},
                taken_at,
            )
        # the operator resolves some breached conversations, logged as ops decisions;
        # others are closed in Chatwoot without a decision and never counted
        for cid in list(breached):
            roll = self.rng.random()
            if roll < 0.4:
                resolved = taken_at + timedelta(minutes=self.rng.randrange(1, 240), seconds=7)
                self.decision("ops", shop, f"chatwoot:{cid}", resolved)
                del conversations[cid]
            elif roll < 0.55:
                del conversations[cid]

    def old_script_rows(self) -> None:
        """The earlier script's rows: createdAt when it ran, shapes of their own."""
        self.fact(
            "__aggregate__",
            ACTIVATION_FACT_TYPE,
            {"activeShops": 3, "rate": 0.3333},
            {"script": "run-nightly-metrics.ts"},
            datetime(2026, 11, 3, 2, 0, 7, 123000),
        )
        self.fact(
            "__aggregate__",
            SLA_FACT_TYPE,
            {"median": 41, "p90": 95, "n": 4},
            None,
            datetime(2026, 11, 20, 2, 0, 5, 500000),
        )
        self.fact(
            "__aggregate__",
            ACTIVATION_FACT_TYPE,
            {"totalActiveShops": 4, "activationRate": 0.5},
            {"generatedAt": "2026-11-24T02:00:11.042Z"},
            datetime(2026, 11, 24, 2, 0, 11, 42000),
        )

    def insert(self, db) -> None:
        with db.connect() as conn:
            with conn.cursor() as cursor:
                cursor.executemany(
                    'insert into "DashboardFact" ("shopDomain", "factType", value, metadata,'
                    ' "createdAt", "updatedAt") values (%s, %s, %s, %s, %s, %s)',
                    [
                        (shop, kind, Jsonb(value), None if meta is None else Jsonb(meta), at, at)
                        for shop, kind, value, meta, at in self.facts
                    ],
                )
                cursor.executemany(
                    'insert into "DecisionLog" (scope, actor, action, "shopDomain",'
                    ' "externalRef", "createdAt") values (%s, %s, %s, %s, %s, %s)',
                    [
                        (scope, "ops:maria", "resolved", shop, ref, at)
                        for scope, shop, ref, at in self.decisions
                    ],
                )
            conn.commit()

    def oracle_inputs(self) -> tuple[list[Fact], list[Decision]]:
        facts = [Fact(shop, kind, value, meta, at) for shop, kind, value, meta, at in self.facts]
        decisions = [Decision(scope, shop, ref, at) for scope, shop, ref, at in self.decisions]
        return facts, decisions


@pytest.fixture
def application_db(source_db):
    data = ApplicationDay().build()
    data.insert(source_db)
    return source_db, data


def old_script_rows(db) -> list[tuple]:
    return db.execute(
        'select * from "DashboardFact" where "shopDomain" = %s'
        ' and "createdAt" <> date_trunc(\'day\', "createdAt") order by id',
        ("__aggregate__",),
    )


def test_the_fixture_is_shaped_like_the_application(application_db):
    """Guards the fixture itself: sparse weekdays, empty weekends, legacy payloads,
    breaches seen more than once and breaches never resolved."""
    db, data = application_db
    facts, decisions = data.oracle_inputs()
    days = contract_oracle.stream_rows(facts, decisions)
    session_days = set(days[contract_oracle.SESSIONS_STREAM])
    all_days = {FIRST_DAY + timedelta(days=n) for n in range((LAST_DAY - FIRST_DAY).days + 1)}
    weekends = {day for day in all_days if day.weekday() >= 5}
    assert not session_days & weekends
    assert all_days - weekends - session_days  # some weekdays have no session either
    assert max(days[contract_oracle.SESSIONS_STREAM].count(d) for d in session_days) < 10
    escalation_shops = {f.shop_domain for f in facts if f.fact_type == "chatwoot.escalations"}
    assert escalation_shops == {LEGACY_CHATWOOT_SHOP, CHATWOOT_SHOP}
    legacy = [f for f in facts if f.shop_domain == LEGACY_CHATWOOT_SHOP and f.metadata]
    assert legacy and all("breaches" not in f.metadata for f in legacy)
    breached = [e["id"] for f in legacy for e in f.value if e["slaBreached"]] + [
        b["conversationId"]
        for f in facts
        if isinstance(f.metadata, dict)
        for b in f.metadata.get("breaches", [])
    ]
    assert len(breached) > len(set(breached))  # the same breach in several snapshots
    resolved = {d.external_ref for d in decisions if d.external_ref}
    assert {f"chatwoot:{c}" for c in breached} - resolved  # some never resolved
    assert len(old_script_rows(db)) == 3


def test_every_as_of_date_writes_both_facts_with_the_oracles_figures(application_db):
    """A deployment's path: one backfill of the first ten dates, then a nightly
    run for each date after it; every date's facts are the oracle's."""
    db, data = application_db
    facts, decisions = data.oracle_inputs()
    old_rows = old_script_rows(db)
    backfilled, nightly = AS_OF_DATES[:10], AS_OF_DATES[10:]
    runs = [(backfilled[0], backfilled[-1])] + [(as_of, as_of) for as_of in nightly]
    for start, end in runs:
        result = db.run(start, end)
        assert result.problems == []
        assert result.rows_written == 2 * ((end - start).days + 1)
    samples = []
    for as_of in AS_OF_DATES:
        expected = contract_oracle.expected_facts(facts, decisions, as_of)
        rows_read = contract_oracle.source_rows_read(facts, decisions, as_of)
        for fact_type in (ACTIVATION_FACT_TYPE, SLA_FACT_TYPE):
            stored = db.fact(fact_type, as_of)
            assert stored["value"] == expected[fact_type], (as_of, fact_type)
            assert stored["metadata"]["sourceRowsRead"] == rows_read[fact_type]
            assert stored["metadata"]["missingDaysOverridden"] is False
            assert all(days == [] for days in stored["metadata"]["missingSourceDays"].values())
        samples.append(expected[SLA_FACT_TYPE]["sampleSize"])
    assert old_script_rows(db) == old_rows
    # the range is not vacuous: shops were active and breaches resolved in it
    assert max(samples) > 0 and min(samples) < max(samples)


def test_one_backfill_writes_the_same_and_reports_only_its_own_rows(application_db):
    db, data = application_db
    facts, decisions = data.oracle_inputs()
    old_rows = old_script_rows(db)
    start, end = AS_OF_DATES[0], AS_OF_DATES[-1]
    result = run_cli(
        ["backfill", "--start", str(start), "--end", str(end), "--json"],
        env={"DATABASE_URL": db.uri},
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    printed = json.loads(result.stdout)
    assert len(printed) == 2 * len(AS_OF_DATES)
    assert {row["createdAt"][11:] for row in printed} == {"00:00:00.000Z"}
    assert f'rows written to "DashboardFact": {2 * len(AS_OF_DATES)};' in result.stderr
    assert old_script_rows(db) == old_rows
    for as_of in AS_OF_DATES:
        expected = contract_oracle.expected_facts(facts, decisions, as_of)
        for fact_type in (ACTIVATION_FACT_TYPE, SLA_FACT_TYPE):
            assert db.fact(fact_type, as_of)["value"] == expected[fact_type], (as_of, fact_type)
    # the table print reads only our rows too (the old rows lack its keys)
    table = run_cli(
        ["backfill", "--start", str(start), "--end", str(end)], env={"DATABASE_URL": db.uri}
    )
    assert table.returncode == 0, table.stderr
    assert table.stdout.count("metrics.activation.rolling7d") == len(AS_OF_DATES)
