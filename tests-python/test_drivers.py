"""What moved each KPI (issue 21): the driver models, against the contract
oracle's shop sets and per-conversation durations, computed independently
from the same rows, and reconciled with the facts the run wrote."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import contract_oracle
from contract_oracle import ACTIVATION_FACT_TYPE, SLA_FACT_TYPE, Decision, Fact

from nightly_metrics.synthetic import Scale, generate

AS_OF = date(2026, 11, 30)
DATES = [AS_OF - timedelta(days=n) for n in (2, 1, 0)]
SCALE = Scale(shops=30, history_days=50, escalation_retention_days=14)
LISTED = 10


def oracle_inputs(db) -> tuple[list[Fact], list[Decision]]:
    facts = [
        Fact(*row)
        for row in db.execute(
            'select "shopDomain", "factType", value, metadata, "createdAt" from "DashboardFact"'
            " where \"shopDomain\" <> '__aggregate__'"
        )
    ]
    decisions = [
        Decision(*row)
        for row in db.execute(
            'select scope, "shopDomain", "externalRef", "createdAt" from "DecisionLog"'
        )
    ]
    return facts, decisions


def test_activation_drivers_are_the_shops_that_changed_against_7_days_earlier(source_db):
    with source_db.connect() as conn:
        generate(conn, SCALE, as_of=AS_OF, seed=11)
    source_db.run(DATES[0], DATES[-1])
    facts, decisions = oracle_inputs(source_db)
    rows = source_db.execute(
        "select as_of_date, active_shops, active_shops_7d_earlier, newly_active_shops,"
        " no_longer_active_shops, activated_shops, activated_shops_7d_earlier,"
        " newly_activated_shops, no_longer_activated_shops, newly_active_first_shops,"
        " no_longer_active_first_shops, newly_activated_first_shops,"
        " no_longer_activated_first_shops"
        " from nightly_metrics.fct_activation_drivers_rolling7d order by as_of_date"
    )
    assert [r[0] for r in rows] == DATES
    moved = 0
    for row in rows:
        as_of = row[0]
        active, activated = contract_oracle.activation_shops(facts, decisions, as_of)
        before, activated_before = contract_oracle.activation_shops(
            facts, decisions, as_of - timedelta(days=7)
        )
        changes = [
            active - before,
            before - active,
            activated - activated_before,
            activated_before - activated,
        ]
        assert row[1:9] == (
            len(active), len(before), len(changes[0]), len(changes[1]),
            len(activated), len(activated_before), len(changes[2]), len(changes[3]),
        )  # fmt: skip
        assert list(row[9:]) == [sorted(change)[:LISTED] for change in changes]
        moved += sum(map(len, changes))
        # reconciled with the facts the run wrote for the date
        value = source_db.fact_value(ACTIVATION_FACT_TYPE, as_of)
        assert (value["totalActiveShops"], value["activatedShops"]) == (len(active), len(activated))
    assert moved > 0, "the data set moved no shop: the test would prove nothing"


def test_the_slowest_breaches_are_the_slowest_of_the_facts_sample(source_db):
    with source_db.connect() as conn:
        generate(conn, SCALE, as_of=AS_OF, seed=11)
    source_db.run(DATES[0], DATES[-1])
    facts, decisions = oracle_inputs(source_db)
    for as_of in DATES:
        durations = contract_oracle.resolution_minutes(facts, decisions, as_of)
        breaches, _ = contract_oracle.breach_candidates(facts, as_of)
        expected = sorted(durations, key=lambda c: (-durations[c], breaches[c], c))[:LISTED]
        rows = source_db.execute(
            "select slowness_rank, conversation_id, breached_at, resolution_minutes"
            " from nightly_metrics.fct_sla_slowest_breaches_rolling7d"
            " where as_of_date = %s order by slowness_rank",
            (as_of,),
        )
        assert [r[0] for r in rows] == list(range(1, len(expected) + 1))
        assert [r[1] for r in rows] == expected
        assert [r[2] for r in rows] == [breaches[c] for c in expected]
        assert [float(r[3]) for r in rows] == [durations[c] for c in expected]
        # the per-breach model behind it holds exactly the fact's sample
        sample = source_db.execute(
            "select count(*) from nightly_metrics.int_breaches_paired_to_resolutions"
            " where as_of_date = %s and is_in_sample",
            (as_of,),
        )[0][0]
        assert sample == source_db.fact_value(SLA_FACT_TYPE, as_of)["sampleSize"] == len(durations)
        assert len(durations) > LISTED, "too small a sample to tell the slowest apart"


def test_the_breach_flow_and_the_open_breaches_of_the_last_window(source_db):
    with source_db.connect() as conn:
        generate(conn, Scale(shops=30, history_days=50, unresolved_fraction=0.3), as_of=AS_OF,
                 seed=11)  # fmt: skip
    source_db.run(DATES[0], DATES[-1])
    facts, decisions = oracle_inputs(source_db)
    breaches, _ = contract_oracle.breach_candidates(facts, AS_OF)
    resolutions = contract_oracle._resolutions(decisions)
    end = datetime(*AS_OF.timetuple()[:3])

    def micros(ts: datetime) -> int:
        return contract_oracle._datetime_to_micros(ts)

    open_breaches = {
        c: at
        for c, at in breaches.items()
        if at < end and not any(micros(at) <= t < micros(end) for t in resolutions.get(c, []))
    }
    week = timedelta(days=7)
    (flow,) = source_db.execute(
        "select as_of_date, breaches_in, breaches_in_7d_earlier, breaches_resolved, open_breaches"
        " from nightly_metrics.fct_sla_breach_flow_rolling7d"
    )
    assert flow == (
        AS_OF,
        sum(end - week <= at < end for at in breaches.values()),
        sum(end - 2 * week <= at < end - week for at in breaches.values()),
        source_db.fact_value(SLA_FACT_TYPE, AS_OF)["sampleSize"],
        len(open_breaches),
    )
    assert flow[1] > 0 and flow[2] > 0 and len(open_breaches) > LISTED
    oldest = sorted(open_breaches, key=lambda c: (open_breaches[c], c))[:LISTED]
    rows = source_db.execute(
        "select age_rank, conversation_id, breached_at, age_minutes"
        " from nightly_metrics.fct_sla_open_breaches_rolling7d order by age_rank"
    )
    assert [r[1] for r in rows] == oldest
    assert [r[2] for r in rows] == [open_breaches[c] for c in oldest]
    assert [float(r[3]) for r in rows] == [
        (end - open_breaches[c]).total_seconds() / 60 for c in oldest
    ]
    # a rerun with every open breach resolved leaves no stale list behind
    for conversation in open_breaches:
        source_db.add_decision(end - timedelta(minutes=1), external_ref=f"chatwoot:{conversation}")
    source_db.run(AS_OF)
    assert source_db.execute(
        "select count(*) from nightly_metrics.fct_sla_open_breaches_rolling7d"
    ) == [(0,)]
