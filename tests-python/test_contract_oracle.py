"""Unit tests of the contract oracle itself, on tiny inputs worked out by hand.

No database: these pin down that ``contract_oracle`` says what
docs/metrics-contract.md says, before anything is compared with it.

Unless a test says otherwise the run is as of D = 2026-11-21, so
  window          = [2026-11-14 00:00, 2026-11-21 00:00)
  look-back range = [2026-10-15 00:00, 2026-11-21 00:00)   (30 days before windowStart)
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from contract_oracle import (
    Decision,
    Fact,
    activation,
    breach_candidates,
    canonical_conversation_id,
    expected_facts,
    iso_utc,
    parse_timestamp,
    percentile_cont,
    pg_round,
    sla_resolution,
    window,
)

# The oracle's own tests, not the product's: `pytest -m "not oracle"` leaves them out.
pytestmark = pytest.mark.oracle

AS_OF = date(2026, 11, 21)
WINDOW_START = datetime(2026, 11, 14)
WINDOW_END = datetime(2026, 11, 21)
LOOKBACK_START = datetime(2026, 10, 15)
MS = timedelta(milliseconds=1)


def session(shop: str, at: datetime) -> Fact:
    return Fact(shop, "dashboard.session.opened", {}, None, at)


def ops(shop: str | None, at: datetime, ref: str | None = None, scope: str = "ops") -> Decision:
    return Decision(scope, shop, ref, at)


def resolve(conversation: int | str, at: datetime, scope: str = "ops") -> Decision:
    return Decision(scope, "shop.example", f"chatwoot:{conversation}", at)


def escalations(at: datetime, value: Any = None, metadata: Any = None) -> Fact:
    return Fact(
        "__aggregate__", "chatwoot.escalations", [] if value is None else value, metadata, at
    )


def breach(conversation: Any, breached_at: Any) -> dict:
    return {"conversationId": conversation, "breachedAt": breached_at}


# ----------------------------------------------------------------------------- window


def test_window_is_the_seven_whole_days_before_as_of():
    assert window(AS_OF) == (WINDOW_START, WINDOW_END)
    # Across a year boundary: 2027-01-03 minus 7 days is 2026-12-27.
    assert window(date(2027, 1, 3)) == (datetime(2026, 12, 27), datetime(2027, 1, 3))


def test_iso_utc_writes_like_javascript_to_iso_string():
    assert iso_utc(datetime(2026, 11, 21)) == "2026-11-21T00:00:00.000Z"
    # Milliseconds only, cut (toISOString has no microseconds).
    assert iso_utc(datetime(2026, 11, 20, 9, 5, 7, 123999)) == "2026-11-20T09:05:07.123Z"
    # An aware time is converted: 12:00+02:00 is 10:00Z.
    plus_two = timezone(timedelta(hours=2))
    assert iso_utc(datetime(2026, 11, 20, 12, tzinfo=plus_two)) == "2026-11-20T10:00:00.000Z"


# ------------------------------------------------------------------------- activation


def test_activation_window_edges_are_half_open():
    facts = [
        session("at-start.example", WINDOW_START),  # counts: windowStart <= createdAt
        session("before-start.example", WINDOW_START - MS),  # 1 ms early: no
        session("last-ms.example", WINDOW_END - MS),  # counts
        session("at-end.example", WINDOW_END),  # createdAt < windowEnd fails: no
    ]
    decisions = [
        ops("at-start.example", WINDOW_START - MS),  # decision outside the window: no
        ops("last-ms.example", WINDOW_END - MS),  # in the window: activates last-ms
        ops("at-end.example", WINDOW_START),  # shop had no session in the window
    ]
    # total = {at-start, last-ms} = 2; activated = {last-ms} = 1; 1/2 = 0.5000.
    assert activation(facts, decisions, AS_OF) == {
        "windowStart": "2026-11-14T00:00:00.000Z",
        "windowEnd": "2026-11-21T00:00:00.000Z",
        "totalActiveShops": 2,
        "activatedShops": 1,
        "activationRate": Decimal("0.5000"),
    }


def test_activation_ignores_blank_and_aggregate_shops_and_matches_case_sensitively():
    day = datetime(2026, 11, 16, 12)
    facts = [
        session("a.example", day),
        session("a.example", day + MS),  # same shop twice: one shop
        session("A.example", day),  # a different shop (case-sensitive)
        session("", day),  # blank
        session("   ", day),  # whitespace only
        session(" \t\n\r\v\f", day),  # all six ASCII white-space characters
        session("__aggregate__", day),  # the metrics' own rows
        Fact("b.example", "dashboard.session.closed", {}, None, day),  # not a session
    ]
    decisions = [
        ops("A.EXAMPLE", day),  # matches neither a.example nor A.example
        ops("a.example", day),  # activates a.example
        ops("__aggregate__", day),
        ops("", day),
        ops(None, day),
    ]
    # total = {a.example, A.example} = 2; activated = {a.example} = 1; rate 0.5000.
    value = activation(facts, decisions, AS_OF)
    assert (value["totalActiveShops"], value["activatedShops"]) == (2, 1)
    assert value["activationRate"] == Decimal("0.5")


def test_activation_non_ascii_whitespace_is_not_blank():
    # Decision recorded in the oracle: "blank" means ASCII white space only, so a domain
    # of one no-break space (U+00A0) is a (strange) shop.
    value = activation([session("\u00a0", datetime(2026, 11, 16))], [], AS_OF)
    assert value["totalActiveShops"] == 1


def test_activation_counts_only_ops_decisions():
    day = datetime(2026, 11, 16)
    facts = [session("a.example", day)]
    decisions = [
        ops("a.example", day, scope="support"),
        ops("a.example", day, scope="Ops"),  # scope is exact
        ops("a.example", day, scope="ops "),
    ]
    # 1 shop, no ops decision: 0 / 1 = 0.0000.
    value = activation(facts, decisions, AS_OF)
    assert (value["totalActiveShops"], value["activatedShops"]) == (1, 0)
    assert value["activationRate"] == Decimal("0")


def test_activation_without_sessions_has_rate_zero():
    decisions = [ops("a.example", datetime(2026, 11, 16))]
    value = activation([], decisions, AS_OF)
    assert value["totalActiveShops"] == 0
    assert value["activatedShops"] == 0
    assert value["activationRate"] == Decimal("0")
    assert isinstance(value["activationRate"], Decimal)


@pytest.mark.parametrize(
    ("activated", "total", "rate"),
    [
        (2, 3, "0.6667"),  # 0.666666... rounds up
        (1, 3, "0.3333"),  # 0.333333... rounds down
        (1, 32, "0.0313"),  # exactly 0.03125: half rounds up
        (3, 32, "0.0938"),  # exactly 0.09375: half rounds up
        (4, 4, "1.0000"),
    ],
)
def test_activation_rate_rounds_half_up_to_four_places(activated, total, rate):
    day = datetime(2026, 11, 16)
    shops = [f"shop{i}.example" for i in range(total)]
    facts = [session(shop, day) for shop in shops]
    decisions = [ops(shop, day) for shop in shops[:activated]]
    assert activation(facts, decisions, AS_OF)["activationRate"] == Decimal(rate)


# ------------------------------------------------------------------------- timestamps


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-20T10:00:00.000Z", datetime(2026, 11, 20, 10)),
        ("2026-11-20T10:00:00Z", datetime(2026, 11, 20, 10)),
        ("2026-11-20T10:00:00", datetime(2026, 11, 20, 10)),  # no offset: UTC
        ("2026-11-20T12:00:00+02:00", datetime(2026, 11, 20, 10)),
        ("2026-11-20T05:30:00.000-04:30", datetime(2026, 11, 20, 10)),
        ("2026-11-20T10:00:00-00:00", datetime(2026, 11, 20, 10)),
        ("2026-11-21T01:00:00+02:00", datetime(2026, 11, 20, 23)),  # back over midnight
        ("2026-11-20T10:00:00.5Z", datetime(2026, 11, 20, 10, 0, 0, 500000)),
        ("2026-11-20T10:00:00.123456Z", datetime(2026, 11, 20, 10, 0, 0, 123456)),
        # Fractions beyond microseconds: the 7th digit rounds half up.
        ("2026-11-20T10:00:00.1234564Z", datetime(2026, 11, 20, 10, 0, 0, 123456)),
        ("2026-11-20T10:00:00.1234565Z", datetime(2026, 11, 20, 10, 0, 0, 123457)),
        ("2026-11-20T10:00:00.123456789Z", datetime(2026, 11, 20, 10, 0, 0, 123457)),
        ("2026-12-31T23:59:59.9999995Z", datetime(2027, 1, 1)),  # carries into a new year
        # The contract's example, and fractions of any length before an offset: the
        # offset's characters are never a rounding digit.
        ("2026-11-20T10:00:00.1+05:45", datetime(2026, 11, 20, 4, 15, 0, 100000)),
        ("2026-11-20T10:00:00.12-03:50", datetime(2026, 11, 20, 13, 50, 0, 120000)),
        ("2026-11-20T10:00:00.1234+09:00", datetime(2026, 11, 20, 1, 0, 0, 123400)),
        ("2026-11-20T10:00:00.1234565+05:45", datetime(2026, 11, 20, 4, 15, 0, 123457)),
        ("2026-11-20T10:00:00.9999995-00:05", datetime(2026, 11, 20, 10, 5, 1)),
        # Other spellings the oracle accepts.
        ("2026-11-20t10:00:00z", datetime(2026, 11, 20, 10)),
        ("2026-11-20 10:00:00", datetime(2026, 11, 20, 10)),
        ("2026-11-20T10:00", datetime(2026, 11, 20, 10)),
        ("2026-11-20T12:00+02:00", datetime(2026, 11, 20, 10)),
        ("2024-02-29T00:00:00Z", datetime(2024, 2, 29)),  # leap day
        # Range edges, after the offset is applied.
        ("1970-01-01T00:00:00Z", datetime(1970, 1, 1)),
        ("1969-12-31T23:30:00-01:00", datetime(1970, 1, 1, 0, 30)),
        ("9999-12-31T23:59:59.999999Z", datetime(9999, 12, 31, 23, 59, 59, 999999)),
        ("10000-01-01T00:00:00Z", None),  # five-digit year: not this format
    ],
)
def test_parse_timestamp_accepts(text, expected):
    assert parse_timestamp(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "2026-02-30T00:00:00Z",  # no such date
        "2025-02-29T00:00:00Z",  # not a leap year
        "2026-13-01T00:00:00Z",
        "2026-11-20T24:00:00Z",  # hour > 23
        "2026-11-20T10:60:00Z",  # minute > 59
        "2026-11-20T10:00:60Z",  # second > 59
        "2026-11-20T10:00:00+24:00",  # offset hours > 23
        "2026-11-20T10:00:00+02:60",  # offset minutes > 59
        "2026-11-20T10:00:00+0200",  # offsets are ±HH:MM only
        "2026-11-20T10:00:00.Z",  # a fraction needs digits
        "2026-11-20",  # no time
        " 2026-11-20T10:00:00Z",
        "2026-11-20T10:00:00Z\n",
        "\u0662\u0660\u0662\u0666-11-20T10:00:00Z",  # Arabic-Indic digits
        "0000-01-01T00:00:00Z",
        "1969-12-31T23:59:59.999Z",  # before 1970
        "1970-01-01T00:30:00+01:00",  # 1969-12-31T23:30Z
        "9999-12-31T23:59:59.9999995Z",  # rounds to 10000-01-01
        "9999-12-31T23:30:00-01:00",  # 10000-01-01T00:30Z
        "garbage",
        "",
        1794733200,  # a number is not a timestamp string
        None,
    ],
)
def test_parse_timestamp_rejects(text):
    assert parse_timestamp(text) is None


# ------------------------------------------------------------------- conversation ids


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        (42, "42"),
        ("42", "42"),
        ("0042", "42"),
        ("0", "0"),
        ("000", "0"),
        (0, "0"),
        (10**30, "1" + "0" * 30),
        ("9" * 5000, "9" * 5000),  # longer than int()'s default 4300-digit limit
        (-1, None),
        ("-1", None),
        ("+1", None),
        (True, None),  # JSON true is not an integer
        (12.5, None),
        (12.0, None),  # a JSON float, not a JSON integer
        ("12 ", None),
        ("", None),
        ("\u0664\u0662", None),  # Arabic-Indic "42"
        (None, None),
    ],
)
def test_canonical_conversation_id(raw, canonical):
    assert canonical_conversation_id(raw) == canonical


def test_legacy_ids_must_be_json_integers():
    assert canonical_conversation_id(42, allow_digit_string=False) == "42"
    assert canonical_conversation_id("42", allow_digit_string=False) is None


# -------------------------------------------------------------------------- breaches


def test_metadata_breach_is_read():
    fact = escalations(
        datetime(2026, 11, 15),
        metadata={
            "breaches": [breach(42, "2026-11-15T10:00:00.000Z")],
        },
    )
    assert breach_candidates([fact], AS_OF) == ({"42": datetime(2026, 11, 15, 10)}, 0)


def test_duplicate_snapshots_are_one_breach_at_the_earliest_time():
    snapshot = {"breaches": [breach(42, "2026-11-15T10:00:00.000Z")]}
    facts = [
        escalations(datetime(2026, 11, 15, 11), metadata=snapshot),
        escalations(datetime(2026, 11, 16, 11), metadata=snapshot),  # same breach again
        # A later sighting of the same conversation, as a digit string with zeros.
        escalations(
            datetime(2026, 11, 17, 11),
            metadata={
                "breaches": [breach("0042", "2026-11-16T10:00:00Z")],
            },
        ),
    ]
    decisions = [resolve(42, datetime(2026, 11, 15, 10, 30))]
    assert breach_candidates(facts, AS_OF) == ({"42": datetime(2026, 11, 15, 10)}, 0)
    # One breach, so one duration (30 minutes), not one per snapshot.
    value = sla_resolution(facts, decisions, AS_OF)
    assert value["sampleSize"] == 1
    assert value["medianMinutes"] == Decimal("30.00")


def test_digit_string_and_integer_ids_are_the_same_conversation():
    facts = [
        escalations(
            datetime(2026, 11, 15),
            metadata={
                "breaches": [
                    breach("0042", "2026-11-15T09:00:00Z"),
                    breach(42, "2026-11-15T10:00:00Z"),
                    breach("0", "2026-11-15T11:00:00Z"),
                ]
            },
        )
    ]
    # "0042" and 42 are both conversation 42; the earlier time (09:00) is kept.
    assert breach_candidates(facts, AS_OF) == (
        {"42": datetime(2026, 11, 15, 9), "0": datetime(2026, 11, 15, 11)},
        0,
    )


def test_bad_metadata_elements_are_rejected_and_counted():
    ok = "2026-11-15T10:00:00Z"
    facts = [
        escalations(
            datetime(2026, 11, 15),
            metadata={
                "breaches": [
                    "conversation 7 breached",  # not an object: rejected
                    None,  # not an object: rejected
                    [7, ok],  # not an object: rejected
                    breach(12.5, ok),  # not an integer: rejected
                    breach(True, ok),  # rejected
                    breach(-3, ok),  # negative: rejected
                    breach("12a", ok),  # not digits: rejected
                    {"breachedAt": ok},  # no id: rejected
                    {"conversationId": 8},  # no time: rejected
                    breach(9, "yesterday"),  # not a timestamp: rejected
                    breach(10, "2026-02-30T10:00:00Z"),  # no such date: rejected
                    breach(11, 1794733200),  # epoch numbers are not breachedAt: rejected
                    breach(7, ok),  # the one good breach
                ]
            },
        )
    ]
    # 12 rejected, 1 breach.
    assert breach_candidates(facts, AS_OF) == ({"7": datetime(2026, 11, 15, 10)}, 12)


def test_breaches_that_are_not_an_array_are_ignored_without_rejection():
    facts = [
        escalations(datetime(2026, 11, 15), metadata={"breaches": {"conversationId": 1}}),
        escalations(datetime(2026, 11, 15), metadata={"breaches": None}),
        escalations(datetime(2026, 11, 15), metadata=["breaches"]),
        escalations(datetime(2026, 11, 15), metadata=None),
        escalations(datetime(2026, 11, 15), value={"id": 1, "slaBreached": True}),
    ]
    assert breach_candidates(facts, AS_OF) == ({}, 0)


def test_legacy_element_starts_at_created_at_plus_sla_minutes():
    fact = escalations(
        datetime(2026, 11, 15, 12),
        value=[
            # 09:00Z + 60 min = 10:00Z
            {"id": 101, "slaBreached": True, "createdAt": "2026-11-15T09:00:00.000Z"},
            # 11:00+02:00 is 09:00Z, + 60 min = 10:00Z
            {"id": 102, "slaBreached": True, "createdAt": "2026-11-15T11:00:00+02:00"},
        ],
        metadata={"slaMinutes": 60},
    )
    assert breach_candidates([fact], AS_OF) == (
        {"101": datetime(2026, 11, 15, 10), "102": datetime(2026, 11, 15, 10)},
        0,
    )


def test_legacy_element_with_epoch_created_at():
    # 2026-11-15 is day 20 772 after 1970-01-01: 20 772 * 86 400 + 9 * 3 600
    # = 1 794 700 800 + 32 400 = 1 794 733 200 s is 2026-11-15T09:00:00Z.
    fact = escalations(
        datetime(2026, 11, 15, 12),
        value=[
            {"id": 201, "slaBreached": True, "created_at": 1794733200},  # 09:00 + 2.5 min
            {"id": 202, "slaBreached": True, "created_at": 1794733200.25},  # 09:00:00.25 + 2.5
        ],
        metadata={"slaMinutes": 2.5},
    )
    assert breach_candidates([fact], AS_OF) == (
        {
            "201": datetime(2026, 11, 15, 9, 2, 30),
            "202": datetime(2026, 11, 15, 9, 2, 30, 250000),
        },
        0,
    )


def test_legacy_element_start_is_the_first_valid_of_three():
    meta = {"slaMinutes": 10}
    fact = escalations(
        datetime(2026, 11, 15, 12),
        value=[
            # createdAt wins over lastMessageAt: 08:00 + 10 min.
            {
                "id": 1,
                "slaBreached": True,
                "createdAt": "2026-11-15T08:00:00Z",
                "lastMessageAt": "2026-11-15T09:00:00Z",
                "created_at": 1794733200,
            },
            # createdAt invalid: lastMessageAt 09:00 + 10 min.
            {
                "id": 2,
                "slaBreached": True,
                "createdAt": "not a time",
                "lastMessageAt": "2026-11-15T09:00:00Z",
                "created_at": 0,
            },
            # createdAt before 1970 is not valid either: epoch 09:00 + 10 min.
            {
                "id": 3,
                "slaBreached": True,
                "createdAt": "1960-01-01T00:00:00Z",
                "created_at": 1794733200,
            },
            # A valid breachedAt needs no start at all.
            {
                "id": 4,
                "slaBreached": True,
                "breachedAt": "2026-11-15T11:11:00Z",
                "createdAt": "2026-11-15T08:00:00Z",
            },
            # An invalid breachedAt falls back to the start: 08:00 + 10 min.
            {
                "id": 5,
                "slaBreached": True,
                "breachedAt": "soon",
                "createdAt": "2026-11-15T08:00:00Z",
            },
        ],
        metadata=meta,
    )
    assert breach_candidates([fact], AS_OF) == (
        {
            "1": datetime(2026, 11, 15, 8, 10),
            "2": datetime(2026, 11, 15, 9, 10),
            "3": datetime(2026, 11, 15, 9, 10),
            "4": datetime(2026, 11, 15, 11, 11),
            "5": datetime(2026, 11, 15, 8, 10),
        },
        0,
    )


def test_legacy_elements_without_sla_breached_true_are_neither_breach_nor_rejected():
    start = "2026-11-15T08:00:00Z"
    fact = escalations(
        datetime(2026, 11, 15, 12),
        value=[
            {"id": 1, "slaBreached": False, "createdAt": start},
            {"id": 2, "slaBreached": 1, "createdAt": start},  # 1 is not JSON true
            {"id": 3, "slaBreached": "true", "createdAt": start},
            {"id": 4, "createdAt": start},
            {"id": 5, "slaBreached": None, "createdAt": start},
            "a string",
            7,
            None,
        ],
        metadata={"slaMinutes": 10},
    )
    assert breach_candidates([fact], AS_OF) == ({}, 0)


def test_legacy_elements_rejected():
    start = "2026-11-15T08:00:00Z"
    good = {"slaBreached": True, "createdAt": start}
    fact = escalations(
        datetime(2026, 11, 15, 12),
        value=[
            {**good, "id": "42"},  # legacy ids are JSON integers only
            {**good, "id": 12.5},
            {**good, "id": True},
            {**good, "id": -1},
            {**good},  # no id
            {"id": 6, "slaBreached": True},  # no start
            {
                "id": 7,
                "slaBreached": True,
                "createdAt": "bad",
                "lastMessageAt": "bad",
                "created_at": "1794733200",
            },  # no usable start (a string is no epoch)
            {"id": 8, "slaBreached": True, "created_at": -1},  # epoch before 1970
            {**good, "id": 9},  # the one good element: 08:00 + 10 min
        ],
        metadata={"slaMinutes": 10},
    )
    assert breach_candidates([fact], AS_OF) == ({"9": datetime(2026, 11, 15, 8, 10)}, 8)


@pytest.mark.parametrize(
    "metadata", [None, {}, {"slaMinutes": "60"}, {"slaMinutes": True}, {"slaMinutes": None}]
)
def test_legacy_element_without_numeric_sla_minutes_is_rejected(metadata):
    fact = escalations(
        datetime(2026, 11, 15, 12),
        value=[{"id": 1, "slaBreached": True, "createdAt": "2026-11-15T08:00:00Z"}],
        metadata=metadata,
    )
    assert breach_candidates([fact], AS_OF) == ({}, 1)


def test_legacy_time_outside_1970_to_9999_after_sla_minutes_is_rejected():
    fact = escalations(
        datetime(2026, 11, 15, 12),
        value=[
            # 9999-12-31T23:00Z + 120 min = 10000-01-01T01:00Z: unusable.
            {"id": 1, "slaBreached": True, "createdAt": "9999-12-31T23:00:00Z"},
        ],
        metadata={"slaMinutes": 120},
    )
    assert breach_candidates([fact], AS_OF) == ({}, 1)
    # And below: 1970-01-01T00:30Z - 60 min = 1969-12-31T23:30Z: unusable.
    fact = escalations(
        datetime(2026, 11, 15, 12),
        value=[{"id": 2, "slaBreached": True, "createdAt": "1970-01-01T00:30:00Z"}],
        metadata={"slaMinutes": -60},
    )
    assert breach_candidates([fact], AS_OF) == ({}, 1)


def test_same_conversation_in_metadata_and_value_is_one_breach():
    fact = escalations(
        datetime(2026, 11, 15, 12),
        # Legacy: 08:00 + 30 min = 08:30, earlier than the metadata's 09:00.
        value=[{"id": 42, "slaBreached": True, "createdAt": "2026-11-15T08:00:00Z"}],
        metadata={"slaMinutes": 30, "breaches": [breach("42", "2026-11-15T09:00:00Z")]},
    )
    assert breach_candidates([fact], AS_OF) == ({"42": datetime(2026, 11, 15, 8, 30)}, 0)


def test_look_back_range_is_half_open_and_configurable():
    def fact(at: datetime, conversation: int) -> Fact:
        return escalations(
            at,
            metadata={
                "breaches": [
                    breach(conversation, "2026-11-15T10:00:00Z"),
                    "rejected element",
                ]
            },
        )

    facts = [
        fact(LOOKBACK_START, 1),  # 2026-10-15 00:00: first instant of the range
        fact(LOOKBACK_START - MS, 2),  # 1 ms before it: not read, nor its rejection
        fact(WINDOW_END - MS, 3),
        fact(WINDOW_END, 4),  # windowEnd is outside
        Fact(
            "__aggregate__",
            "chatwoot.escalation",
            [],  # other factType
            {"breaches": [breach(5, "2026-11-15T10:00:00Z")]},
            WINDOW_START,
        ),
    ]
    conversations, rejected = breach_candidates(facts, AS_OF)
    assert (sorted(conversations), rejected) == (["1", "3"], 2)
    # Look-back 0: only the window's facts.
    conversations, rejected = breach_candidates(facts, AS_OF, lookback_days=0)
    assert (sorted(conversations), rejected) == (["3"], 1)


# --------------------------------------------------------------------- SLA resolution


def one_breach(conversation: int, breached_at: str, fact_at: datetime) -> Fact:
    return escalations(fact_at, metadata={"breaches": [breach(conversation, breached_at)]})


def test_only_ops_chatwoot_refs_resolve():
    facts = [one_breach(42, "2026-11-15T10:00:00Z", datetime(2026, 11, 15, 10))]
    later = datetime(2026, 11, 15, 11)
    not_resolutions = [
        resolve(42, later, scope="support"),
        Decision("ops", None, "chatwoot:42\n", later),  # full match: no trailing newline
        Decision("ops", None, "Chatwoot:42", later),
        Decision("ops", None, "chatwoot:42 ", later),
        Decision("ops", None, " chatwoot:42", later),
        Decision("ops", None, "chatwoot:", later),
        Decision("ops", None, "chatwoot:+42", later),
        Decision("ops", None, "chatwoot:\u0664\u0662", later),  # Arabic-Indic 42
        Decision("ops", None, "shopify:42", later),
        Decision("ops", None, None, later),
    ]
    assert sla_resolution(facts, not_resolutions, AS_OF)["sampleSize"] == 0
    # Leading zeros in the ref name the same conversation: 10:00 -> 11:00 is 60 minutes.
    decisions = [Decision("ops", None, "chatwoot:0042", later)]
    value = sla_resolution(facts, decisions, AS_OF)
    assert (value["sampleSize"], value["medianMinutes"]) == (1, Decimal("60.00"))


def test_breach_twenty_days_before_the_window_resolved_in_it_is_in_the_sample():
    # Recorded 2026-10-25 (inside the 30-day look-back), resolved at windowStart exactly:
    # 20 days = 20 * 1 440 = 28 800 minutes.
    facts = [one_breach(42, "2026-10-25T00:00:00Z", datetime(2026, 10, 25, 0, 5))]
    decisions = [resolve(42, WINDOW_START)]
    value = sla_resolution(facts, decisions, AS_OF)
    assert value["sampleSize"] == 1
    assert value["medianMinutes"] == value["p90Minutes"] == Decimal("28800.00")


def test_breach_beyond_the_look_back_is_not_counted():
    # The escalation fact is 1 ms before windowStart - 30 days: never read, so the
    # resolution inside the window has no breach to resolve.
    facts = [one_breach(42, "2026-10-14T23:00:00Z", LOOKBACK_START - MS)]
    decisions = [resolve(42, datetime(2026, 11, 15))]
    assert sla_resolution(facts, decisions, AS_OF) == {
        "windowStart": "2026-11-14T00:00:00.000Z",
        "windowEnd": "2026-11-21T00:00:00.000Z",
        "sampleSize": 0,
        "medianMinutes": None,
        "p90Minutes": None,
    }
    # With a 31-day look-back it is read and in the sample.
    assert sla_resolution(facts, decisions, AS_OF, lookback_days=31)["sampleSize"] == 1


def test_resolution_must_itself_be_in_the_window():
    facts = [
        one_breach(1, "2026-11-01T10:00:00Z", datetime(2026, 11, 1, 10)),
        one_breach(2, "2026-11-20T10:00:00Z", datetime(2026, 11, 20, 10)),
        one_breach(3, "2026-11-20T10:00:00Z", datetime(2026, 11, 20, 10)),
    ]
    decisions = [
        # 1: the earliest resolution (11-05) is before the window, so 1 is not in the
        # sample even though another decision (11-16) falls inside it.
        resolve(1, datetime(2026, 11, 5)),
        resolve(1, datetime(2026, 11, 16)),
        resolve(2, WINDOW_END),  # 2: resolved at windowEnd: outside
        resolve(3, WINDOW_END - MS),  # 3: in; 13 h 59 min 59.999 s = 839.99998... min
    ]
    value = sla_resolution(facts, decisions, AS_OF)
    assert value["sampleSize"] == 1
    assert value["medianMinutes"] == Decimal("840.00")


def test_breach_with_an_offset_is_compared_in_utc():
    # 12:00+02:00 is 10:00Z; the resolution at 10:30Z is 30 minutes later (not -90).
    facts = [one_breach(42, "2026-11-15T12:00:00+02:00", datetime(2026, 11, 15, 10))]
    decisions = [resolve(42, datetime(2026, 11, 15, 10, 30))]
    value = sla_resolution(facts, decisions, AS_OF)
    assert (value["sampleSize"], value["medianMinutes"]) == (1, Decimal("30.00"))


def test_rounding_follows_postgresql_float_to_numeric():
    # 160.5 s = 2.675 min. The nearest float is 2.67499999999999982..., which rounded as
    # it is would give 2.67; PostgreSQL first takes 15 significant digits (2.675), then
    # rounds half up: 2.68.
    facts = [one_breach(42, "2026-11-15T10:00:00Z", datetime(2026, 11, 15, 10))]
    decisions = [resolve(42, datetime(2026, 11, 15, 10, 2, 40, 500000))]
    assert sla_resolution(facts, decisions, AS_OF)["medianMinutes"] == Decimal("2.68")
    assert pg_round(2.675) == Decimal("2.68")
    assert pg_round(0.125) == Decimal("0.13")  # exactly half: up
    assert pg_round(0.0) == Decimal("0.00")


def test_percentile_cont_interpolates_linearly():
    assert percentile_cont([7.0], 0.9) == 7.0
    assert percentile_cont([1.0, 2.0], 0.5) == 1.5
    # pos 0.9 * 9 = 8.1: 9 + (10 - 9) * 0.1 (floats) -> 9.10 after rounding.
    values = [float(n) for n in range(1, 11)]
    assert pg_round(percentile_cont(values, 0.9)) == Decimal("9.10")
    assert percentile_cont(values, 0.5) == 5.5


# --------------------------------------------------------------------- expected facts


def test_expected_facts_are_both_values():
    facts = [
        session("a.example", datetime(2026, 11, 16)),
        session("b.example", datetime(2026, 11, 16)),
        one_breach(42, "2026-11-15T10:00:00Z", datetime(2026, 11, 15, 10)),
    ]
    decisions = [
        ops("a.example", datetime(2026, 11, 17)),
        resolve(42, datetime(2026, 11, 15, 10, 1, 30)),  # 1.5 minutes
    ]
    expected = expected_facts(iter(facts), iter(decisions), AS_OF)
    assert expected == {
        "metrics.activation.rolling7d": {
            "windowStart": "2026-11-14T00:00:00.000Z",
            "windowEnd": "2026-11-21T00:00:00.000Z",
            "totalActiveShops": 2,
            "activatedShops": 1,
            "activationRate": Decimal("0.5000"),
        },
        "metrics.sla_resolution.rolling7d": {
            "windowStart": "2026-11-14T00:00:00.000Z",
            "windowEnd": "2026-11-21T00:00:00.000Z",
            "sampleSize": 1,
            "medianMinutes": Decimal("1.50"),
            "p90Minutes": Decimal("1.50"),
        },
    }
    assert type(expected["metrics.sla_resolution.rolling7d"]["sampleSize"]) is int
