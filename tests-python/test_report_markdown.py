"""`nightly-metrics report --markdown` (issue 21): the standup's summary, its
KPI cards against the window 7 days earlier worked out here from the stored
facts, what moved them from the driver models, and a failed last run."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

from conftest import run_cli

from nightly_metrics.report_data import ACTIVATION, SLA, Window
from nightly_metrics.report_kpis import change_text, kpi_cards, value_text
from nightly_metrics.synthetic import Scale, generate

AS_OF = date(2026, 11, 30)
EARLIER = AS_OF - timedelta(days=7)


def window(as_of, **value) -> Window:
    return Window(as_of, value, {})


def test_cards_compare_with_7_days_earlier_and_a_window_without_data_is_no_data():
    cards = kpi_cards(
        {
            ACTIVATION: [
                window(EARLIER, totalActiveShops=50, activatedShops=19, activationRate=0.38),
                window(AS_OF, totalActiveShops=50, activatedShops=18, activationRate=0.36),
            ],
            SLA: [
                window(EARLIER, sampleSize=40, medianMinutes=600, p90Minutes=2000),
                window(AS_OF, sampleSize=0, medianMinutes=None, p90Minutes=None),
            ],
        }
    )
    rate, median, p90 = cards
    assert (value_text(rate), change_text(rate)) == ("36.0%", "-2.0 pts vs 7 days earlier (bad)")
    assert value_text(median) == "no data" and change_text(median) == "no data"
    faster = kpi_cards({ACTIVATION: [], SLA: [window(EARLIER, sampleSize=4, medianMinutes=600,
                                                     p90Minutes=900),
                                              window(AS_OF, sampleSize=5, medianMinutes=540,
                                                     p90Minutes=990)]})  # fmt: skip
    assert change_text(faster[0]) == "-60 min, -10% vs 7 days earlier (good)"
    assert change_text(faster[1]) == "+90 min, +10% vs 7 days earlier (bad)"
    # no active shop is no data, never a 0% rate
    empty = kpi_cards({ACTIVATION: [window(AS_OF, totalActiveShops=0, activatedShops=0,
                                           activationRate=0)], SLA: []})  # fmt: skip
    assert value_text(empty[0]) == "no data"
    lonely = kpi_cards({ACTIVATION: [window(AS_OF, totalActiveShops=4, activatedShops=1,
                                            activationRate=0.25)], SLA: []})  # fmt: skip
    assert change_text(lonely[0]) == "no comparison (no data 7 days earlier)"


def table_rows(markdown: str) -> dict[str, list[str]]:
    rows = {}
    for line in markdown.splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if line.startswith("| ") and cells[0] not in ("KPI", "---"):
            rows[cells[0]] = cells[1:]
    return rows


def test_the_summary_shows_the_stored_kpis_their_change_and_what_moved_them(source_db):
    with source_db.connect() as conn:
        generate(conn, Scale(shops=30, history_days=50), as_of=AS_OF, seed=5)
    source_db.run(EARLIER, AS_OF)
    shown = run_cli(["report", "--markdown", "--since", "2026-11-01"],
                    env={"DATABASE_URL": source_db.uri})  # fmt: skip
    assert shown.returncode == 0, shown.stderr
    summary = shown.stdout
    assert summary.startswith(
        "## Nightly metrics: window 2026-11-23 – 2026-11-29 (as of 2026-11-30)"
    )
    now, before = source_db.fact_value(ACTIVATION, AS_OF), source_db.fact_value(ACTIVATION, EARLIER)
    rows = table_rows(summary)
    points = (now["activationRate"] - before["activationRate"]) * 100
    assert rows["Activation rate"][0] == f"{now['activationRate'] * 100:.1f}%"
    assert rows["Activation rate"][1].startswith(f"{points:+.1f} pts vs 7 days earlier")
    assert rows["Activation rate"][2] == (
        f"{now['activatedShops']} of {now['totalActiveShops']} active shops"
    )
    sla_now, sla_before = source_db.fact_value(SLA, AS_OF), source_db.fact_value(SLA, EARLIER)
    change = sla_now["medianMinutes"] - sla_before["medianMinutes"]
    percent = change / sla_before["medianMinutes"] * 100
    assert rows["SLA resolution, median"][1] == (
        f"{change:+,.0f} min, {percent:+.0f}% vs 7 days earlier ({'good' if change < 0 else 'bad'})"
    )
    assert rows["SLA resolution, p90"][2] == f"{sla_now['sampleSize']} resolved breaches"
    # what moved it: the driver model's counts for the window
    (drivers,) = source_db.execute(
        "select newly_activated_shops, no_longer_activated_shops"
        " from nightly_metrics.fct_activation_drivers_rolling7d where as_of_date = %s",
        (AS_OF,),
    )
    assert f"{drivers[0]} newly activated" in summary
    assert f"{drivers[1]} no longer activated" in summary
    (slowest,) = source_db.execute(
        "select conversation_id, resolution_minutes from"
        " nightly_metrics.fct_sla_slowest_breaches_rolling7d"
        " where as_of_date = %s and slowness_rank = 1",
        (AS_OF,),
    )
    assert f"conversation {slowest[0]} (breached" in summary
    assert f": {slowest[1]:,.0f} min" in summary
    (flow,) = source_db.execute(
        "select breaches_in, breaches_in_7d_earlier, breaches_resolved, open_breaches"
        " from nightly_metrics.fct_sla_breach_flow_rolling7d where as_of_date = %s",
        (AS_OF,),
    )
    assert (
        f"- SLA breaches: {flow[0]} came in (7 days earlier: {flow[1]}), {flow[2]} were"
        f" resolved (7 days earlier: {sla_before['sampleSize']}), {flow[3]} are still open"
        " at the window's end"
    ) in summary
    assert "windows withheld: none; source days missing: none." in summary
    assert "did not succeed" not in summary

    # A night whose session day never arrived: the summary says what was withheld and why.
    missing = AS_OF - timedelta(days=3)
    source_db.execute(
        'delete from "DashboardFact" where "factType" = %s and "createdAt" >= %s'
        ' and "createdAt" < %s',
        ("dashboard.session.opened", datetime(*missing.timetuple()[:3]),
         datetime(*(missing + timedelta(days=1)).timetuple()[:3])),
    )  # fmt: skip
    failed = source_db.run(AS_OF, check=False)
    assert failed.exit_code == 4
    summary = run_cli(["report", "--markdown", "--since", "2026-11-01"],
                      env={"DATABASE_URL": source_db.uri}).stdout  # fmt: skip
    assert "### The last run did not succeed" in summary
    assert re.search(r"`run`: withheld, exit code 4\.", summary), summary
    assert (
        "- Withheld: `metrics.activation.rolling7d` for 2026-11-23 – 2026-11-29 (as of"
        f" 2026-11-30), source days that never arrived (dashboardSessions: {missing})."
    ) in summary
