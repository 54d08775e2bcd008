"""metrics.sla_resolution.rolling7d against the contract, on hand-built scenarios whose
figures are worked out by hand in the comments (minutes from the timestamps).

Every scenario is also fed, row for row, to the independent plain-Python implementation in
``contract_oracle`` and the written SLA (and activation) ``value`` must equal its answer.

Unless a test says otherwise the run is as of D = 2026-11-28, so
  window          = [2026-11-21 00:00, 2026-11-28 00:00)
  look-back range = [2026-10-22 00:00, 2026-11-28 00:00)   (30 days before windowStart)

Known, deliberate difference from the oracle: the project also counts a ``metadata.breaches``
member that is present but neither an array nor null as one rejected candidate per fact
(reason ``breaches_not_an_array``); the oracle ignores it. ``Scenario.expected_rejected``
adds those facts to the oracle's count explicitly.
"""

from __future__ import annotations

import os
import time
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import contract_oracle
from contract_oracle import ACTIVATION_FACT_TYPE, Decision, Fact, expected_facts

SLA = contract_oracle.SLA_FACT_TYPE
ACTIVATION = ACTIVATION_FACT_TYPE
ESCALATIONS = contract_oracle.ESCALATION_FACT_TYPE
AS_OF = date(2026, 11, 28)
WINDOW_START = datetime(2026, 11, 21)
WINDOW_END = datetime(2026, 11, 28)
LOOKBACK_START = datetime(2026, 10, 22)
MS = timedelta(milliseconds=1)
SQLI = '\'; drop table "DashboardFact"; --'
TARGET = "nightly_metrics"


def at(text: str) -> datetime:
    """A naive UTC datetime from 'YYYY-MM-DD HH:MM[:SS[.fff]]'."""
    return datetime.fromisoformat(text)


def breach(conversation: Any, breached_at: Any = None, **extra) -> dict:
    element = {"conversationId": conversation, **extra}
    if breached_at is not None:
        element["breachedAt"] = breached_at
    return element


def legacy(conversation: Any, breached: Any = True, **times) -> dict:
    """An element of a snapshot's ``value`` (the Chatwoot conversation list)."""
    return {"id": conversation, "slaBreached": breached, "status": "open", **times}


class Scenario:
    """Inserts rows through ``source_db`` and records them for the oracle."""

    def __init__(self, db):
        self.db = db
        self.facts: list[Fact] = []
        self.decisions: list[Decision] = []

    # ------------------------------------------------------------------ inserts
    def escalations(
        self, created_at: datetime, value: Any = None, metadata: Any = None, shop="shop-a"
    ) -> int:
        value = [] if value is None else value
        fact_id = self.db.add_fact(shop, ESCALATIONS, created_at, value, metadata)
        self.facts.append(Fact(shop, ESCALATIONS, value, metadata, created_at))
        return fact_id

    def snapshot(self, created_at: datetime, *breaches: Any, value: Any = None) -> int:
        """A current-format snapshot: ``metadata.breaches`` (plus an optional conversation list)."""
        return self.escalations(created_at, value, {"breaches": list(breaches), "slaMinutes": 60})

    def decision(
        self,
        created_at: datetime,
        ref: str | None = None,
        *,
        scope: str = "ops",
        shop: str | None = "shop-a",
    ) -> int:
        decision_id = self.db.add_decision(
            created_at, scope=scope, shop_domain=shop, external_ref=ref
        )
        self.decisions.append(Decision(scope, shop, ref, created_at))
        return decision_id

    def resolve(self, conversation: Any, created_at: datetime, *, scope: str = "ops") -> int:
        return self.decision(created_at, f"chatwoot:{conversation}", scope=scope)

    def session(self, shop: str, created_at: datetime) -> int:
        fact_id = self.db.add_session(shop, created_at)
        self.facts.append(
            Fact(shop, contract_oracle.SESSION_FACT_TYPE, {"path": "/app"}, None, created_at)
        )
        return fact_id

    # ---------------------------------------------------------------- the run
    def run(self, as_of: date = AS_OF, **kwargs):
        # Sparse, hand-built streams: no empty day may count as missing, nothing is withheld.
        result = self.db.run(as_of, **kwargs)
        assert result.exit_code == 0, result.problems
        assert result.problems == []
        return result

    def sla_fact(self, as_of: date = AS_OF) -> dict:
        end = datetime(as_of.year, as_of.month, as_of.day)
        matches = [
            f for f in self.db.aggregate_facts() if f["factType"] == SLA and f["createdAt"] == end
        ]
        assert len(matches) == 1, matches
        return matches[0]

    def expected_rejected(self, as_of: date = AS_OF, lookback_days: int = 30) -> int:
        _, oracle_rejected = contract_oracle.breach_candidates(self.facts, as_of, lookback_days)
        return oracle_rejected + contract_oracle.non_array_breaches_facts(
            self.facts, as_of, lookback_days
        )

    def check_against_oracle(self, as_of: date = AS_OF, lookback_days: int = 30) -> dict:
        """Both written values equal the oracle's; the metadata counts agree. Returns the
        SLA value."""
        expected = expected_facts(self.facts, self.decisions, as_of, lookback_days)
        sla = self.sla_fact(as_of)
        assert sla["value"] == expected[SLA]
        assert self.db.fact_value(ACTIVATION, as_of) == expected[ACTIVATION]
        assert sla["metadata"]["sampleSize"] == sla["value"]["sampleSize"]
        assert sla["metadata"]["lookbackDays"] == lookback_days
        assert sla["metadata"]["breachCandidatesRejected"] == self.expected_rejected(
            as_of, lookback_days
        )
        breaches, _ = contract_oracle.breach_candidates(self.facts, as_of, lookback_days)
        assert sla["metadata"]["breachesSeen"] == len(breaches)
        return sla["value"]

    # ------------------------------------------------------- project internals
    def pairs(self, as_of: date = AS_OF) -> dict[str, tuple]:
        """Per conversation: (breached_at, resolved_at, in sample), from the project's
        intermediate model, to pin down which timestamp and decision each breach got."""
        rows = self.db.execute(
            "select conversation_id, breached_at, resolved_at, is_in_sample"
            f" from {TARGET}.int_breaches_paired_to_resolutions where as_of_date = %s",
            (as_of,),
        )
        return {row[0]: tuple(row[1:]) for row in rows}

    def rejects(self) -> list[tuple]:
        return self.db.execute(
            "select fact_id, element_index, candidate_source, rejection_reason, rejected_element"
            f" from {TARGET}.int_breach_candidates_rejected"
            " order by fact_id, candidate_source, element_index nulls first"
        )


def assert_figures(value: dict, sample_size: int, median: str | None, p90: str | None) -> None:
    assert value["sampleSize"] == sample_size
    assert value["medianMinutes"] == (None if median is None else Decimal(median))
    assert value["p90Minutes"] == (None if p90 is None else Decimal(p90))


# ----------------------------------------------------------------------------- scenarios


def test_the_same_breach_in_many_snapshots_is_one_breach(source_db):
    s = Scenario(source_db)
    # Conversation 1001 breached at 2026-11-22 09:00 and stays open for four days: it is in
    # every snapshot (metadata.breaches and, with slaBreached, in the conversation list).
    first = "2026-11-22T09:00:00.000Z"
    for day in range(4):
        s.snapshot(
            at("2026-11-22 09:05") + timedelta(days=day),
            breach(1001, first),
            value=[legacy(1001, breachedAt=first), legacy(1002, breached=False)],
        )
    # A fifth snapshot re-stamps it later (09:30); the earliest breachedAt (09:00) stands.
    s.snapshot(at("2026-11-26 09:05"), breach("1001", "2026-11-22T09:30:00.000Z"))
    s.resolve(1001, at("2026-11-22 09:45"))  # 09:00 → 09:45 = 45 min
    s.resolve(1001, at("2026-11-24 10:00"))  # a later decision: not the resolution
    s.run()

    value = s.check_against_oracle()
    # one breach (not five), 45 minutes: median = p90 = 45.00
    assert_figures(value, 1, "45.00", "45.00")
    assert s.sla_fact()["metadata"]["breachesSeen"] == 1
    assert s.sla_fact()["metadata"]["breachCandidatesRejected"] == 0


def test_legacy_facts_and_a_conversation_in_both_places(source_db):
    s = Scenario(source_db)
    # Legacy snapshot (no metadata.breaches), slaMinutes 60: breach = first valid start + 60.
    s.escalations(
        at("2026-11-22 10:00"),
        [
            # createdAt 08:00 + 60 → 09:00
            legacy(2001, createdAt="2026-11-22T08:00:00.000Z"),
            # lastMessageAt 07:30 + 60 → 08:30
            legacy(2002, lastMessageAt="2026-11-22T07:30:00.000Z"),
            # epoch 1795330800 = 2026-11-22 07:00:00Z, + 60 → 08:00
            legacy(2003, created_at=1795330800),
            # createdAt invalid → lastMessageAt 06:00 (before epoch 05:00) + 60 → 07:00
            legacy(
                2004,
                createdAt="not a date",
                lastMessageAt="2026-11-22T06:00:00.000Z",
                created_at=1795323600,
            ),
            # not breached / slaBreached not JSON true: no breach and not rejected
            legacy(2005, breached=False, createdAt="2026-11-22T08:00:00.000Z"),
            legacy(2006, breached="true", createdAt="2026-11-22T08:00:00.000Z"),
            # an explicit breachedAt 08:20 wins over createdAt 08:00 + 60 (= 09:00)
            legacy(2007, createdAt="2026-11-22T08:00:00.000Z", breachedAt="2026-11-22T08:20:00Z"),
            # createdAt 05:00 comes first (not lastMessageAt 09:00): 05:00 + 60 → 06:00
            legacy(2008, createdAt="2026-11-22T05:00:00.000Z", lastMessageAt="2026-11-22T09:00Z"),
        ],
        {"slaMinutes": 60},
    )
    # Legacy snapshot, slaMinutes 30: 2009 → 08:00 + 30 = 08:30; 2010 → 08:30
    s.escalations(
        at("2026-11-23 10:00"),
        [
            legacy(2009, createdAt="2026-11-23T08:00:00.000Z"),
            legacy(2010, createdAt="2026-11-23T08:00:00.000Z"),
        ],
        {"slaMinutes": 30},
    )
    # Legacy snapshot with a fractional slaMinutes (7.5): 10:00 + 7 min 30 s → 10:07:30
    s.escalations(
        at("2026-11-24 11:00"),
        [legacy(2011, createdAt="2026-11-24T10:00:00.000Z")],
        {"slaMinutes": 7.5},
    )
    # Current-format snapshot naming both again: 2009 at 09:00 (later: legacy 08:30 wins),
    # 2010 at 08:10 (earlier: this one wins over legacy 08:30).
    s.snapshot(
        at("2026-11-23 12:00"),
        breach(2009, "2026-11-23T09:00:00.000Z"),
        breach(2010, "2026-11-23T08:10:00.000Z"),
    )
    s.resolve(2001, at("2026-11-22 09:10"))  # 09:00 → 09:10 = 10
    s.resolve(2002, at("2026-11-22 09:00"))  # 08:30 → 09:00 = 30
    s.resolve(2003, at("2026-11-22 08:50"))  # 08:00 → 08:50 = 50
    s.resolve(2004, at("2026-11-22 08:10"))  # 07:00 → 08:10 = 70
    s.resolve(2005, at("2026-11-22 12:00"))  # no breach
    s.resolve(2006, at("2026-11-22 12:00"))  # no breach
    s.resolve(2007, at("2026-11-22 09:00"))  # 08:20 → 09:00 = 40 (would be 0 from createdAt)
    s.resolve(2008, at("2026-11-22 06:20"))  # 06:00 → 06:20 = 20
    s.resolve(2009, at("2026-11-23 08:45"))  # 08:30 → 08:45 = 15 (before 09:00: none if wrong)
    s.resolve(2010, at("2026-11-23 08:35"))  # 08:10 → 08:35 = 25 (5 if legacy won)
    s.resolve(2011, at("2026-11-24 10:30"))  # 10:07:30 → 10:30 = 22.5
    s.run()

    value = s.check_against_oracle()
    # sorted 10, 15, 20, 22.5, 25, 30, 40, 50, 70 (n = 9)
    # median: position 4   → 25
    # p90:    position 7.2 → 50 + 0.2 × (70 − 50) = 54
    assert_figures(value, 9, "25.00", "54.00")
    pairs = s.pairs()
    assert set(pairs) == {str(n) for n in range(2001, 2012)} - {"2005", "2006"}
    assert pairs["2004"][0] == at("2026-11-22 07:00")
    assert pairs["2009"][0] == at("2026-11-23 08:30")
    assert pairs["2010"][0] == at("2026-11-23 08:10")
    assert pairs["2011"][0] == at("2026-11-24 10:07:30")
    assert s.sla_fact()["metadata"]["breachCandidatesRejected"] == 0


def test_a_decision_before_the_breach_does_not_resolve_it(source_db):
    s = Scenario(source_db)
    s.snapshot(
        at("2026-11-24 10:05"),
        breach(3001, "2026-11-24T10:00:00.000Z"),
        breach(3002, "2026-11-24T10:00:00.000Z"),
        breach(3003, "2026-11-24T10:00:00.000Z"),
    )
    s.resolve(3001, at("2026-11-24 09:00"))  # before the breach: ignored
    s.resolve(3001, at("2026-11-24 11:30"))  # the resolution: 90 min
    s.resolve(3001, at("2026-11-24 12:00"))  # later still: ignored
    s.resolve(3002, at("2026-11-24 10:00") - MS)  # only one, 1 ms before: unresolved
    s.resolve(3003, at("2026-11-24 10:00"))  # exactly at the breach: 0 min
    s.run()

    value = s.check_against_oracle()
    # durations 0, 90: median 45; p90 = 0 + 0.9 × 90 = 81
    assert_figures(value, 2, "45.00", "81.00")
    assert (value["windowStart"], value["windowEnd"]) == (
        f"{WINDOW_START:%Y-%m-%dT%H:%M:%S}.000Z",
        f"{WINDOW_END:%Y-%m-%dT%H:%M:%S}.000Z",
    )
    assert s.pairs()["3002"] == (at("2026-11-24 10:00"), None, False)


def test_look_back_reaches_30_days_before_the_window_and_no_further(source_db):
    s = Scenario(source_db)
    # 4001: recorded 20 days before the window, resolved inside it:
    # 2026-11-01 07:00 → 2026-11-21 07:00 = 20 days = 28 800 min
    s.snapshot(at("2026-11-01 08:00"), breach(4001, "2026-11-01T07:00:00.000Z"))
    s.resolve(4001, at("2026-11-21 07:00"))
    # 4002: recorded 31 days before the window (before 2026-10-22): not a breach we see
    s.snapshot(at("2026-10-21 12:00"), breach(4002, "2026-10-21T11:00:00.000Z"))
    s.resolve(4002, at("2026-11-22 11:00"))
    # 4003: recorded exactly at the start of the look-back: seen.
    # 2026-10-21 23:00 → 2026-11-21 23:00 = 31 days = 44 640 min
    s.snapshot(LOOKBACK_START, breach(4003, "2026-10-21T23:00:00.000Z"))
    s.resolve(4003, at("2026-11-21 23:00"))
    # 4004: recorded 1 ms before the look-back: not seen
    s.snapshot(LOOKBACK_START - MS, breach(4004, "2026-10-21T22:00:00.000Z"))
    s.resolve(4004, at("2026-11-23 00:00"))
    # 4005: recorded exactly at windowEnd: not read, though breach and decision are inside
    s.snapshot(WINDOW_END, breach(4005, "2026-11-27T20:00:00.000Z"))
    s.resolve(4005, at("2026-11-27 21:00"))
    # 4006: resolved exactly at windowEnd: not in the sample (but seen)
    s.snapshot(at("2026-11-27 22:00"), breach(4006, "2026-11-27T21:00:00.000Z"))
    s.resolve(4006, WINDOW_END)
    # 4007: resolved exactly at windowStart: in the sample, 23:00 → 00:00 = 60 min
    s.snapshot(at("2026-11-20 23:30"), breach(4007, "2026-11-20T23:00:00.000Z"))
    s.resolve(4007, WINDOW_START)
    # 4008: first recorded before the look-back (2026-10-20 10:00, not read), then re-stamped
    # in a snapshot inside the range at 2026-11-21 00:30: the breach we see is at 00:30,
    # resolved 01:30 → 60 min (from 10-20 it would be about 32 days)
    s.snapshot(at("2026-10-20 10:05"), breach(4008, "2026-10-20T10:00:00.000Z"))
    s.snapshot(at("2026-11-21 01:00"), breach(4008, "2026-11-21T00:30:00.000Z"))
    s.resolve(4008, at("2026-11-21 01:30"))
    s.run()

    value = s.check_against_oracle()
    # sorted 60, 60, 28 800, 44 640:
    #   median: position 1.5 → 60 + 0.5 × (28 800 − 60) = 14 430
    #   p90:    position 2.7 → 28 800 + 0.7 × (44 640 − 28 800) = 28 800 + 11 088 = 39 888
    assert_figures(value, 4, "14430.00", "39888.00")
    assert s.sla_fact()["metadata"]["breachesSeen"] == 5  # 4001, 4003, 4006, 4007, 4008

    # The look-back is configurable: with 10 days (from 2026-11-11) only 4006, 4007 and 4008
    # are seen; in the sample 4007 and 4008, 60 min each.
    # (a shorter look-back reads fewer snapshots: without --allow-fewer-rows the
    # rerun would keep the figure computed from the longer one)
    s.run(lookback_days=10, allow_fewer_rows=True)
    value = s.check_against_oracle(lookback_days=10)
    assert_figures(value, 2, "60.00", "60.00")
    assert s.sla_fact()["metadata"]["breachesSeen"] == 3


def test_a_first_resolution_before_the_window_keeps_the_breach_out(source_db):
    s = Scenario(source_db)
    s.snapshot(
        at("2026-11-19 10:05"),
        breach(5001, "2026-11-19T10:00:00.000Z"),
        breach(5002, "2026-11-19T10:00:00.000Z"),
        breach(5003, "2026-11-19T10:00:00.000Z"),
    )
    # 5001: first resolution the day before the window; a later one inside does not count
    s.resolve(5001, at("2026-11-20 10:00"))
    s.resolve(5001, at("2026-11-22 10:00"))
    # 5002: first resolution exactly at windowStart: 11-19 10:00 → 11-21 00:00 = 38 h = 2280 min
    s.resolve(5002, WINDOW_START)
    s.resolve(5002, at("2026-11-23 10:00"))
    # 5003: first resolution 1 ms before the window
    s.resolve(5003, WINDOW_START - MS)
    s.resolve(5003, at("2026-11-23 10:00"))
    s.run()

    value = s.check_against_oracle()
    # exactly one breach in the sample: median = p90 = its duration
    assert_figures(value, 1, "2280.00", "2280.00")


def test_no_breach_in_the_sample_gives_nulls(source_db):
    s = Scenario(source_db)
    s.snapshot(
        at("2026-11-23 10:05"),
        breach(6001, "2026-11-23T10:00:00.000Z"),  # never resolved
        breach(6002, "2026-11-23T10:00:00.000Z"),  # resolved exactly at windowEnd
        breach(6003, "2026-11-23T10:00:00.000Z"),  # "resolved" by another scope only
    )
    s.snapshot(at("2026-11-10 10:05"), breach(6004, "2026-11-10T10:00:00.000Z"))
    s.resolve(6002, WINDOW_END)
    s.resolve(6003, at("2026-11-23 11:00"), scope="growth")
    s.resolve(6004, at("2026-11-10 11:00"))  # resolved before the window
    s.run()

    value = s.check_against_oracle()
    assert_figures(value, 0, None, None)
    assert s.sla_fact()["metadata"]["breachesSeen"] == 4


def test_percentiles_interpolate_linearly(source_db):
    s = Scenario(source_db)
    s.snapshot(
        at("2026-11-25 10:05"),
        *(breach(7000 + n, "2026-11-25T10:00:00.000Z") for n in (1, 2, 3, 4)),
    )
    # resolved out of order: the percentiles sort the durations themselves
    for n, minutes in ((4, 40), (2, 20), (1, 10), (3, 30)):
        s.resolve(7000 + n, at("2026-11-25 10:00") + timedelta(minutes=minutes))
    s.run()

    value = s.check_against_oracle()
    # percentile_cont over 10, 20, 30, 40:
    #   median: position 0.5 × 3 = 1.5 → 20 + 0.5 × 10 = 25
    #   p90:    position 0.9 × 3 = 2.7 → 30 + 0.7 × 10 = 37
    # (nearest rank, sorted[floor(n q)], would give 30 and 40)
    assert_figures(value, 4, "25.00", "37.00")


# ----------------------------------------------------------------- time zones and spellings


def load_time_zone_fixture(s: Scenario) -> None:
    s.snapshot(
        at("2026-11-23 12:00"),
        # +02:00 → 10:00Z; resolved 10:10 → 10
        breach(8001, "2026-11-22T12:00:00.000+02:00"),
        # -05:30 → 15:30Z; resolved 15:50 → 20
        breach(8002, "2026-11-22T10:00:00.000-05:30"),
        # no offset: UTC 10:00; resolved 10:30 → 30
        breach(8003, "2026-11-22T10:00:00.000"),
        # no fraction: 10:00Z; resolved 10:40 → 40
        breach(8004, "2026-11-22T10:00:00Z"),
        # lowercase z: 10:00Z; resolved 10:50 → 50
        breach(8005, "2026-11-22T10:00:00.000z"),
        # one-digit fraction: 10:00:00.500Z; resolved 11:00:00.500 → 60
        breach(8006, "2026-11-22T10:00:00.5Z"),
        # -01:00 across midnight → 2026-11-23 00:30Z; resolved 01:40 → 70
        breach(8007, "2026-11-22T23:30:00.000-01:00"),
        # +14:00 → 2026-11-21 20:00Z; resolved 21:20 → 80
        breach(8008, "2026-11-22T10:00:00+14:00"),
        # +02:00 → 2026-11-20 23:00Z (before the window in UTC, inside it locally);
        # resolved 2026-11-20 23:59:59.999Z: before the window, not in the sample
        breach(8011, "2026-11-21T01:00:00.000+02:00"),
        # -03:00 → 2026-11-28 01:00Z (after windowEnd); the 23:30 decision precedes it and
        # the next one is after the window: not in the sample (in it if the offset were lost)
        breach(8012, "2026-11-27T22:00:00.000-03:00"),
    )
    # Legacy, slaMinutes 15:
    s.escalations(
        at("2026-11-24 06:00"),
        [
            # epoch 1795478400 = 2026-11-24 00:00:00Z, + 15 → 00:15; resolved 01:45 → 90
            legacy(8009, created_at=1795478400),
            # no offset: 05:00Z + 15 → 05:15; resolved 06:55 → 100
            legacy(8010, createdAt="2026-11-24T05:00:00.000"),
        ],
        {"slaMinutes": 15},
    )
    s.resolve(8001, at("2026-11-22 10:10"))
    s.resolve(8002, at("2026-11-22 15:50"))
    s.resolve(8003, at("2026-11-22 10:30"))
    s.resolve(8004, at("2026-11-22 10:40"))
    s.resolve(8005, at("2026-11-22 10:50"))
    s.resolve(8006, at("2026-11-22 11:00:00.500"))
    s.resolve(8007, at("2026-11-23 01:40"))
    s.resolve(8008, at("2026-11-21 21:20"))
    s.resolve(8009, at("2026-11-24 01:45"))
    s.resolve(8010, at("2026-11-24 06:55"))
    s.resolve(8011, WINDOW_START - MS)
    s.resolve(8012, at("2026-11-27 23:30"))
    s.resolve(8012, at("2026-11-28 02:00"))
    # Sessions at the window edges, for the activation figures: shop-1 (00:00 windowStart,
    # activated by a decision 1 ms before windowEnd) and shop-2 count; shop-3 and shop-4 not.
    s.session("shop-1", WINDOW_START)
    s.session("shop-2", WINDOW_END - MS)
    s.session("shop-3", WINDOW_START - MS)
    s.session("shop-4", WINDOW_END)
    s.decision(WINDOW_END - MS, shop="shop-1")


def assert_time_zone_figures(s: Scenario) -> None:
    value = s.check_against_oracle()
    # durations 10, 20, …, 100 (n = 10)
    # median: position 4.5 → 50 + 0.5 × 10 = 55; p90: position 8.1 → 90 + 0.1 × 10 = 91
    assert_figures(value, 10, "55.00", "91.00")
    assert value["windowStart"] == "2026-11-21T00:00:00.000Z"
    assert value["windowEnd"] == "2026-11-28T00:00:00.000Z"
    pairs = s.pairs()
    assert pairs["8001"][0] == at("2026-11-22 10:00")
    assert pairs["8002"][0] == at("2026-11-22 15:30")
    assert pairs["8006"][0] == at("2026-11-22 10:00:00.500")
    assert pairs["8007"][0] == at("2026-11-23 00:30")
    assert pairs["8008"][0] == at("2026-11-21 20:00")
    assert pairs["8009"][0] == at("2026-11-24 00:15")
    # resolved 1 ms before the window: no decision inside it references the breach,
    # so the pairing never lists it (and the sample of 10 above leaves it out)
    assert "8011" not in pairs
    assert (pairs["8012"][0], pairs["8012"][2]) == (at("2026-11-28 01:00"), False)
    activation = s.db.fact_value(ACTIVATION, AS_OF)
    assert (activation["totalActiveShops"], activation["activatedShops"]) == (2, 1)
    assert activation["activationRate"] == Decimal("0.5")
    assert s.sla_fact()["createdAt"] == WINDOW_END


def test_time_zone_offsets_and_timestamp_spellings(source_db):
    s = Scenario(source_db)
    load_time_zone_fixture(s)
    s.run()
    assert_time_zone_figures(s)


def test_server_session_and_machine_time_zones_change_nothing(source_db):
    s = Scenario(source_db)
    load_time_zone_fixture(s)
    # server default for this database: UTC+14; sessions (libpq PGTZ): UTC−03:30;
    # the machine: UTC+05:45
    source_db.execute(f"alter database \"{source_db.name}\" set timezone to 'Pacific/Kiritimati'")
    saved = {key: os.environ.get(key) for key in ("PGTZ", "TZ")}
    os.environ.update(PGTZ="America/St_Johns", TZ="Asia/Kathmandu")
    time.tzset()
    try:
        s.run()
    finally:
        for key, previous in saved.items():
            if previous is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = previous
        time.tzset()
    assert_time_zone_figures(s)
    meta = s.sla_fact()["metadata"]
    generated = datetime.strptime(meta["generatedAt"], "%Y-%m-%dT%H:%M:%S.%fZ")
    assert abs(generated - datetime.utcnow()) < timedelta(minutes=5)


def test_a_time_is_its_instant_whatever_its_fraction_digits_and_offset(source_db):
    """The contract: `10:00:00.1+05:45` is `04:15:00.100000Z`, whatever the number of
    fraction digits and the offset, so a decision logged at exactly that instant resolves
    the breach (0 minutes). Most of these spellings have a digit of 5 or more inside the
    offset where a six-digit fraction's 7th digit would stand: read as a rounding digit,
    it would make the breach 1 µs later than its decision."""
    s = Scenario(source_db)
    s.snapshot(
        at("2026-11-23 12:00"),
        # 1 digit, +05:45 → 04:15:00.100Z
        breach(9101, "2026-11-22T10:00:00.1+05:45"),
        # 2 digits, -03:50 → 13:50:00.120Z
        breach(9102, "2026-11-22T10:00:00.12-03:50"),
        # 4 digits, +09:00 → 01:00:00.123Z
        breach(9104, "2026-11-22T10:00:00.1230+09:00"),
        # 5 digits, -12:00 → 22:00:00.456Z
        breach(9105, "2026-11-22T10:00:00.45600-12:00"),
        # 3 digits, +14:00 → 2026-11-21 20:00:00.123Z; resolved an hour later → 60
        breach(9103, "2026-11-22T10:00:00.123+14:00"),
    )
    # DecisionLog keeps milliseconds: each tie is logged at exactly its breach's instant.
    s.resolve(9101, at("2026-11-22 04:15:00.100"))
    s.resolve(9102, at("2026-11-22 13:50:00.120"))
    s.resolve(9104, at("2026-11-22 01:00:00.123"))
    s.resolve(9105, at("2026-11-22 22:00:00.456"))
    s.resolve(9103, at("2026-11-21 21:00:00.123"))
    s.run()

    value = s.check_against_oracle()
    # durations 0, 0, 0, 0, 60 (n = 5), percentile_cont:
    #   median: position 0.5 × 4 = 2 → 0; p90: position 0.9 × 4 = 3.6 → 0 + 0.6 × 60 = 36
    assert_figures(value, 5, "0.00", "36.00")
    pairs = s.pairs()
    for conversation, instant in (
        ("9101", at("2026-11-22 04:15:00.100")),
        ("9102", at("2026-11-22 13:50:00.120")),
        ("9104", at("2026-11-22 01:00:00.123")),
        ("9105", at("2026-11-22 22:00:00.456")),
    ):
        assert pairs[conversation] == (instant, instant, True), conversation
    assert pairs["9103"][:2] == (at("2026-11-21 20:00:00.123"), at("2026-11-21 21:00:00.123"))


# ------------------------------------------------------------------------ conversation ids


def test_conversation_ids_of_any_size_and_external_refs_that_do_not_resolve(source_db):
    s = Scenario(source_db)
    big_31 = 2**31 + 5  # 2147483653
    big_63 = 2**63 + 5  # 9223372036854775813
    huge = "123456789012345678901234"
    huge_number = 123456789012345678901299
    s.snapshot(
        at("2026-11-22 10:05"),
        breach("0042", "2026-11-22T10:00:00.000Z"),
        breach(0, "2026-11-22T10:00:00.000Z"),
        breach(big_31, "2026-11-22T10:00:00.000Z"),
        breach(big_63, "2026-11-22T10:00:00.000Z"),
        breach(huge, "2026-11-22T10:00:00.000Z"),
    )
    # A legacy element with a JSON number id beyond 2^63: 09:00 + 60 → 10:00
    s.escalations(
        at("2026-11-22 10:06"),
        [legacy(huge_number, createdAt="2026-11-22T09:00:00.000Z")],
        {"slaMinutes": 60},
    )
    # Decisions that resolve nothing, all before the real resolutions:
    t = at("2026-11-22 10:01")
    for ref in (
        "Chatwoot:42",
        "chatwoot:42 ",
        " chatwoot:42",
        "chatwoot:42\n",
        "chatwoot:",
        "chatwoot:4a2",
        "chatwoot: 42",
        "chatwoot:+42",
        "chatwoot:-42",
        "chatwoot:42:1",
        "chatwoot:\u0664\u0662",  # Arabic-Indic digits for 42
        "chatwoot:42.0",
        "chatwoot:9223372036854775808",  # big_63 as a double would collide with this
        "chatwoot:123456789012345678901233",
        "chatwoot:123456789012345678901298",
        "chatwoot:5",
    ):
        s.decision(t, ref)
    s.decision(t, "chatwoot:42", scope="growth")
    s.decision(t, "chatwoot:42", scope="Ops")
    s.decision(t, "chatwoot:0", scope="ops ")
    # The resolutions:
    s.resolve(42, at("2026-11-22 11:00"))  # "0042" ↔ chatwoot:42: 60 min
    s.resolve("000", at("2026-11-22 10:20"))  # 0 ↔ chatwoot:000 (not chatwoot:): 20 min
    s.resolve(big_31, at("2026-11-22 10:30"))  # 30 min
    s.resolve(big_63, at("2026-11-22 10:40"))  # 40 min
    s.resolve(huge, at("2026-11-22 10:50"))  # 50 min
    s.resolve(huge_number, at("2026-11-22 11:10"))  # 70 min
    s.run()

    value = s.check_against_oracle()
    # sorted 20, 30, 40, 50, 60, 70: median position 2.5 → 45; p90 position 4.5 → 65
    assert_figures(value, 6, "45.00", "65.00")
    pairs = s.pairs()
    assert {k: v[1] for k, v in pairs.items()} == {
        "42": at("2026-11-22 11:00"),
        "0": at("2026-11-22 10:20"),
        str(big_31): at("2026-11-22 10:30"),
        str(big_63): at("2026-11-22 10:40"),
        huge: at("2026-11-22 10:50"),
        str(huge_number): at("2026-11-22 11:10"),
    }


# -------------------------------------------------------------------------- malformed input


def test_malformed_elements_are_rejected_counted_and_never_fail_the_run(source_db):
    s = Scenario(source_db)
    ok = "2026-11-21T10:00:00.000Z"
    # F1: metadata.breaches is an object, not an array → one rejection for the fact
    f1 = s.escalations(
        at("2026-11-22 00:00"), [], {"breaches": {"conversationId": 9000, "breachedAt": ok}}
    )
    s.resolve(9000, at("2026-11-21 10:30"))  # would be a 30-min sample if it were read
    # F2: current format, one element of each kind
    f2 = s.snapshot(
        at("2026-11-22 01:00"),
        breach("0042", ok),  # 1 fine: conversation 42, resolved 10:15 → 15
        breach(12.5, ok),  # 2 not an integer
        breach(-3, ok),  # 3 negative
        "conversation 9004 breached at 2026-11-21T10:00:00Z",  # 4 a string, not an object
        breach(9005),  # 5 no breachedAt
        breach(9006, "2026-02-30T10:00:00Z"),  # 6 no such day
        breach(9007, "not-a-date"),  # 7
        breach(SQLI, ok),  # 8 SQL-looking conversationId
        breach(9009, SQLI),  # 9 SQL-looking breachedAt
        None,  # 10 null
        breach(9011, 1795255200),  # 11 epoch number where a string belongs
        breach(9012, "1969-12-31T23:59:59Z"),  # 12 before 1970
        breach(True, ok),  # 13 boolean id
        ["9014", ok],  # 14 an array, not an object
        breach(9015, ok),  # 15 fine: resolved 10:45 → 45
    )
    for conversation in (42, 12, 125, 3, 9004, 9005, 9006, 9007, 9009, 9011, 9012, 1, 9014):
        s.resolve(conversation, at("2026-11-21 10:15"))
    s.resolve(9015, at("2026-11-21 10:45"))
    # F3: legacy, slaMinutes 30
    f3 = s.escalations(
        at("2026-11-22 02:00"),
        [
            legacy(9101),  # 1 no start at all
            legacy(  # 2 no usable start (bad text, impossible date, epoch as a string)
                9102,
                createdAt="not-a-date",
                lastMessageAt="2026-02-30T10:00:00Z",
                created_at="1795255200",
            ),
            None,  # 3 null: not slaBreached, so neither a breach nor rejected
            "a string",  # 4 likewise
            legacy(9105, breached=False),  # 5 not breached
            legacy("9106", createdAt=ok),  # 6 legacy ids must be JSON integers
            legacy(-9107, createdAt=ok),  # 7 negative
            legacy(9108, createdAt="2026-11-21T11:00:00.000Z"),  # 8 fine: 11:30, resolved 12:25
            legacy(SQLI, createdAt=ok),  # 9 SQL-looking id
        ],
        {"slaMinutes": 30},
    )
    for conversation in (9101, 9102, 9105, 9106, 9107):
        s.resolve(conversation, at("2026-11-21 12:00"))
    s.resolve(9108, at("2026-11-21 12:25"))  # 11:30 → 12:25 = 55
    # F4: legacy without slaMinutes
    f4 = s.escalations(
        at("2026-11-22 03:00"),
        [
            legacy(9201, createdAt=ok),  # 1 slaMinutes missing
            legacy(9202, createdAt=ok, breachedAt=ok),  # 2 fine (breachedAt): resolved 11:05
        ],
        {"source": "legacy"},
    )
    s.resolve(9201, at("2026-11-21 12:00"))
    s.resolve(9202, at("2026-11-21 11:05"))  # 10:00 → 11:05 = 65
    # F5: slaMinutes is a string, not a JSON number
    f5 = s.escalations(at("2026-11-22 04:00"), [legacy(9301, createdAt=ok)], {"slaMinutes": "30"})
    # F6: slaMinutes of 5e9 minutes (~9 500 years) pushes 2026 past year 9999
    f6 = s.escalations(
        at("2026-11-22 05:00"),
        [legacy(9401, createdAt=ok), legacy(9402, created_at=1795255200)],
        {"slaMinutes": 5_000_000_000},
    )
    # F7: 9999-12-31 23:00 + 120 minutes = 10000-01-01 01:00
    f7 = s.escalations(
        at("2026-11-22 06:00"),
        [legacy(9501, createdAt="9999-12-31T23:00:00.000Z")],
        {"slaMinutes": 120},
    )
    for conversation in (9301, 9401, 9402, 9501):
        s.resolve(conversation, at("2026-11-21 12:00"))
    # F8: breaches is a string holding JSON → one rejection for the fact
    f8 = s.escalations(
        at("2026-11-22 07:00"), [], {"breaches": '[{"conversationId": 9601, "breachedAt": "x"}]'}
    )
    # F9: breaches null is "no list" (not rejected); its legacy element is fine:
    # 12:00 + 10 → 12:10, resolved 12:45 → 35
    s.escalations(
        at("2026-11-22 08:00"),
        [legacy(9701, createdAt="2026-11-21T12:00:00.000Z")],
        {"breaches": None, "slaMinutes": 10},
    )
    s.resolve(9701, at("2026-11-21 12:45"))
    # F10: metadata is an array: no slaMinutes → the breached element is rejected
    f10 = s.escalations(at("2026-11-22 09:00"), [legacy(9801, createdAt=ok)], ["slaMinutes", 30])
    # F11: in the look-back: its null element is counted; 9901 is seen, resolved before the window
    f11 = s.snapshot(at("2026-11-10 00:00"), None, breach(9901, "2026-11-09T10:00:00.000Z"))
    s.resolve(9901, at("2026-11-09 10:30"))
    # F12: before the look-back: neither read nor counted
    s.snapshot(at("2026-10-01 00:00"), None, "x", breach(-1, ok))
    s.escalations(at("2026-10-01 00:00"), [], {"breaches": {"not": "an array"}})

    before = source_db.execute('select count(*) from "DashboardFact"')[0][0]
    untouched = source_db.non_aggregate_snapshot()
    s.run()  # stays green: run_job raises on any failure

    value = s.check_against_oracle()
    # in the sample: 42 → 15, 9015 → 45, 9108 → 55, 9202 → 65, 9701 → 35
    # sorted 15, 35, 45, 55, 65: median 45; p90 position 3.6 → 55 + 0.6 × 10 = 61
    assert_figures(value, 5, "45.00", "61.00")
    meta = s.sla_fact()["metadata"]
    # seen: 42, 9015, 9108, 9202, 9701, 9901
    assert meta["breachesSeen"] == 6
    # rejected: F1 1 + F2 13 + F3 5 + F4 1 + F5 1 + F6 2 + F7 1 + F8 1 + F10 1 + F11 1 = 27
    # (the oracle counts 25: it ignores F1's and F8's non-array `breaches`)
    assert meta["breachCandidatesRejected"] == 27
    _, oracle_rejected = contract_oracle.breach_candidates(s.facts, AS_OF)
    assert oracle_rejected == 25
    assert s.expected_rejected() == 27

    mb, val = "metadata.breaches", "value"
    expected_rejects = [
        (f1, None, mb, "breaches_not_an_array"),
        (f2, 2, mb, "invalid_conversation_id"),
        (f2, 3, mb, "invalid_conversation_id"),
        (f2, 4, mb, "element_not_an_object"),
        (f2, 5, mb, "invalid_breached_at"),
        (f2, 6, mb, "invalid_breached_at"),
        (f2, 7, mb, "invalid_breached_at"),
        (f2, 8, mb, "invalid_conversation_id"),
        (f2, 9, mb, "invalid_breached_at"),
        (f2, 10, mb, "element_not_an_object"),
        (f2, 11, mb, "invalid_breached_at"),
        (f2, 12, mb, "breach_time_out_of_range"),
        (f2, 13, mb, "invalid_conversation_id"),
        (f2, 14, mb, "element_not_an_object"),
        (f3, 1, val, "no_usable_start_time"),
        (f3, 2, val, "no_usable_start_time"),
        (f3, 6, val, "invalid_conversation_id"),
        (f3, 7, val, "invalid_conversation_id"),
        (f3, 9, val, "invalid_conversation_id"),
        (f4, 1, val, "missing_sla_minutes"),
        (f5, 1, val, "missing_sla_minutes"),
        (f6, 1, val, "breach_time_out_of_range"),
        (f6, 2, val, "breach_time_out_of_range"),
        (f7, 1, val, "breach_time_out_of_range"),
        (f8, None, mb, "breaches_not_an_array"),
        (f10, 1, val, "missing_sla_minutes"),
        (f11, 1, mb, "element_not_an_object"),
    ]
    rejects = s.rejects()
    assert [r[:4] for r in rejects] == expected_rejects
    raw = {(r[0], r[1]): r[4] for r in rejects}
    assert SQLI.replace('"', '\\"') in raw[(f2, 8)]  # the raw element, as JSON text
    assert SQLI.replace('"', '\\"') in raw[(f2, 9)]
    assert raw[(f2, 10)] == "null"
    assert all(r[4] is not None for r in rejects)

    # Nothing dropped or changed: every source row is still there, plus our two facts.
    assert source_db.execute('select count(*) from "DashboardFact"')[0][0] == before + 2
    assert source_db.non_aggregate_snapshot() == untouched
    assert source_db.execute("select to_regclass('public.\"DashboardFact\"') is not null") == [
        (True,)
    ]
