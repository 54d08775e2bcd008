"""metrics.activation.rolling7d against the contract, on hand-built fixtures
whose figures are worked out by hand below."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from decimal import Decimal

ACTIVATION = "metrics.activation.rolling7d"
SLA = "metrics.sla_resolution.rolling7d"
AS_OF = date(2026, 11, 28)
WINDOW_START = datetime(2026, 11, 21)
WINDOW_END = datetime(2026, 11, 28)
ISO_MS_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
MS = timedelta(milliseconds=1)


def load_boundary_fixture(db) -> None:
    # shop-a: session exactly at windowStart (counts), ops decision at windowStart (activated)
    db.add_session("shop-a", WINDOW_START)
    db.add_decision(WINDOW_START, shop_domain="shop-a")
    # shop-b: session 1 ms before windowEnd (counts); its decision exactly at windowEnd (does not)
    db.add_session("shop-b", WINDOW_END - MS)
    db.add_decision(WINDOW_END, shop_domain="shop-b")
    # shop-c: session exactly at windowEnd (does not count), decision inside the window
    db.add_session("shop-c", WINDOW_END)
    db.add_decision(WINDOW_START + timedelta(days=2), shop_domain="shop-c")
    # shop-d: session 1 ms before windowStart (does not count)
    db.add_session("shop-d", WINDOW_START - MS)
    # blank, whitespace-only and __aggregate__ domains never count
    for blank in ("", "   ", "\t", "__aggregate__"):
        db.add_session(blank, WINDOW_START + timedelta(days=1))
        db.add_decision(WINDOW_START + timedelta(days=1), shop_domain=blank)
    # shop-e: session, but its decision has another scope (not activated)
    db.add_session("shop-e", WINDOW_START + timedelta(days=3))
    db.add_decision(WINDOW_START + timedelta(days=3), scope="growth", shop_domain="shop-e")
    # shop-f: three sessions (one shop), decision for "Shop-F" (case differs: not activated)
    for hour in (1, 2, 3):
        db.add_session("shop-f", WINDOW_START + timedelta(days=4, hours=hour))
    db.add_decision(WINDOW_START + timedelta(days=4), shop_domain="Shop-F")
    # shop-g: session and ops decision on different days of the window (activated)
    db.add_session("shop-g", WINDOW_START + timedelta(days=1))
    db.add_decision(WINDOW_START + timedelta(days=6, hours=23), shop_domain="shop-g")
    # other fact types never count
    db.add_fact("shop-h", "shopify.order.synced", WINDOW_START + timedelta(days=1))


def test_window_boundaries_blank_shops_and_scopes(source_db):
    load_boundary_fixture(source_db)
    source_db.run(AS_OF)

    # active: a, b, e, f, g = 5; activated: a, g = 2; 2/5 = 0.4
    value = source_db.fact_value(ACTIVATION, AS_OF)
    assert value["totalActiveShops"] == 5
    assert value["activatedShops"] == 2
    assert value["activationRate"] == Decimal("0.4")


def test_rate_is_rounded_to_four_places(source_db):
    # 1 activated of 3 active: 0.33333… → 0.3333; 2 of 3 → 0.6667 (half up)
    for shop in ("x", "y", "z"):
        source_db.add_session(shop, WINDOW_START + timedelta(hours=5))
    source_db.add_decision(WINDOW_START + timedelta(hours=6), shop_domain="x")
    source_db.run(AS_OF)
    assert source_db.fact_value(ACTIVATION, AS_OF)["activationRate"] == Decimal("0.3333")

    source_db.add_decision(WINDOW_START + timedelta(hours=7), shop_domain="y")
    source_db.run(AS_OF)
    assert source_db.fact_value(ACTIVATION, AS_OF)["activationRate"] == Decimal("0.6667")


def test_zero_sessions_gives_rate_zero_and_both_rows(source_db):
    source_db.add_decision(WINDOW_START + timedelta(days=1), shop_domain="shop-a")
    source_db.run(AS_OF)

    activation = source_db.fact_value(ACTIVATION, AS_OF)
    assert activation["totalActiveShops"] == 0
    assert activation["activatedShops"] == 0
    assert activation["activationRate"] == 0
    sla = source_db.fact_value(SLA, AS_OF)
    assert sla["sampleSize"] == 0
    assert sla["medianMinutes"] is None and sla["p90Minutes"] is None


def test_written_rows_have_the_contract_shape(source_db):
    load_boundary_fixture(source_db)
    before = datetime.utcnow() - timedelta(seconds=5)
    source_db.run(AS_OF)
    facts = source_db.aggregate_facts()

    assert sorted(f["factType"] for f in facts) == [ACTIVATION, SLA]
    for fact in facts:
        assert fact["scope"] == "ops"
        assert fact["createdAt"] == WINDOW_END
        assert fact["updatedAt"] >= before
        assert fact["value"]["windowStart"] == "2026-11-21T00:00:00.000Z"
        assert fact["value"]["windowEnd"] == "2026-11-28T00:00:00.000Z"
        assert ISO_MS_Z.match(fact["metadata"]["generatedAt"])
        assert isinstance(fact["metadata"]["notes"], str) and fact["metadata"]["notes"]
    by_type = {f["factType"]: f for f in facts}
    assert set(by_type[ACTIVATION]["value"]) == {
        "windowStart",
        "windowEnd",
        "totalActiveShops",
        "activatedShops",
        "activationRate",
    }
    assert set(by_type[SLA]["value"]) == {
        "windowStart",
        "windowEnd",
        "sampleSize",
        "medianMinutes",
        "p90Minutes",
    }
    assert {"generatedAt", "notes"} <= set(by_type[ACTIVATION]["metadata"])
    assert {"generatedAt", "sampleSize", "notes"} <= set(by_type[SLA]["metadata"])
    # counts are JSON integers
    assert source_db.execute(
        "select jsonb_typeof(value->'totalActiveShops'), (value->>'totalActiveShops') ~ '^[0-9]+$'"
        ' from "DashboardFact" where "factType" = %s',
        (ACTIVATION,),
    ) == [("number", True)]


def test_rerun_replaces_values_and_never_adds_a_row(source_db):
    load_boundary_fixture(source_db)
    source_db.run(AS_OF)
    first = {f["factType"]: f for f in source_db.aggregate_facts()}

    # a late-arriving session for a new shop, inside the already-computed window
    source_db.add_session("shop-late", WINDOW_START + timedelta(days=5))
    source_db.run(AS_OF)
    second = {f["factType"]: f for f in source_db.aggregate_facts()}

    assert len(source_db.aggregate_facts()) == 2
    assert second[ACTIVATION]["id"] == first[ACTIVATION]["id"]
    assert second[ACTIVATION]["value"]["totalActiveShops"] == 6
    assert second[ACTIVATION]["value"]["activationRate"] == Decimal("0.3333")
    assert second[ACTIVATION]["updatedAt"] >= first[ACTIVATION]["updatedAt"]


def test_figures_do_not_depend_on_the_server_time_zone(source_db):
    load_boundary_fixture(source_db)
    source_db.execute(f"alter database \"{source_db.name}\" set timezone to 'Pacific/Kiritimati'")
    source_db.run(AS_OF)
    value = source_db.fact_value(ACTIVATION, AS_OF)
    assert (value["totalActiveShops"], value["activatedShops"]) == (5, 2)
    assert value["windowStart"] == "2026-11-21T00:00:00.000Z"
    assert source_db.aggregate_facts()[0]["createdAt"] == WINDOW_END


def test_only_ascii_whitespace_makes_a_shop_domain_blank(source_db):
    """Blank is empty or the six ASCII white-space characters only, whatever the
    database's locale (PostgreSQL's [[:space:]] would follow it): a domain of U+3000
    or U+00A0 is a shop, however odd; one of tab, VT, FF, CR, LF and space is not."""
    day = WINDOW_START + timedelta(days=2)
    for domain in ("\u3000", "\u00a0", " \t\v\f\r\n", "shop-a"):
        source_db.add_session(domain, day)
    source_db.add_decision(day, shop_domain="\u3000")
    source_db.run(AS_OF)
    value = source_db.fact_value(ACTIVATION, AS_OF)
    assert (value["totalActiveShops"], value["activatedShops"]) == (3, 1)
