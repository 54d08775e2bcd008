"""The report's sections other than the charts, as HTML: the KPI cards, what
moved each KPI, the data's health and the last runs."""

from __future__ import annotations

import html

from . import history
from .report_data import ACTIVATION, SLA, ReportData
from .report_kpis import change_text, kpi_cards, value_text
from .report_markdown import CHANGES, earlier_text
from .wording import window_wording


def kpis_section(data: ReportData) -> str:
    cards = kpi_cards(data.windows)
    if not cards:
        return '<section id="kpis"><p>No stored window in this period yet.</p></section>'
    items = "".join(
        f'<div class="card {card.verdict}" id="card-{card.key}"'
        f' data-value="{"" if card.value is None else f"{card.value:.2f}"}"'
        f' data-change="{"" if card.change is None else f"{card.change:.2f}"}">'
        f"<h3>{html.escape(card.title)}</h3>"
        f'<p class="value">{html.escape(value_text(card))}</p>'
        f'<p class="change">{html.escape(change_text(card))}</p>'
        f'<p class="sample">{html.escape(card.sample)}</p></div>'
        for card in cards
    )
    return (
        f'<section id="kpis"><h2>Window {html.escape(window_wording(cards[0].as_of))}</h2>'
        f'<div class="cards">{items}</div></section>'
    )


def drivers_section(drivers: dict) -> str:
    parts = ['<section id="drivers"><h2>What moved them, against 7 days earlier</h2>']
    activation = drivers.get("activation")
    if activation:
        rows = "".join(
            f'<tr id="driver-{count}"><th>{html.escape(label)}</th>'
            f'<td class="count">{activation[count]}</td>'
            f"<td>{html.escape(', '.join(activation[first] or []) or 'none')}"
            f"{html.escape(more_text(activation[count], activation[first]))}</td></tr>"
            for label, count, first in CHANGES
        )
        parts.append(f'<table id="activation-drivers"><caption>Shops</caption>{rows}</table>')
    else:
        parts.append("<p>No activation drivers for this window.</p>")
    slowest = drivers.get("slowest")
    if slowest:
        rows = "".join(
            f"<tr><td>{html.escape(str(conversation))}</td>"
            f"<td>{breached:%Y-%m-%d %H:%M} UTC</td><td>{minutes:,.0f} min</td></tr>"
            for conversation, breached, minutes in slowest
        )
        parts.append(
            '<table id="slowest-breaches"><caption>Slowest resolved breaches</caption>'
            "<tr><th>conversation</th><th>breached</th><th>to resolution</th></tr>"
            f"{rows}</table>"
        )
    else:
        parts.append("<p>No breach was resolved in the window.</p>")
    parts.append(flow_html(drivers))
    parts.append("</section>")
    return "".join(parts)


def flow_html(drivers: dict) -> str:
    flow = drivers.get("flow")
    if not flow:
        return ""
    rows = "".join(
        f"<tr><td>{html.escape(str(conversation))}</td>"
        f"<td>{breached:%Y-%m-%d %H:%M} UTC</td><td>{minutes:,.0f} min</td></tr>"
        for conversation, breached, minutes in drivers.get("open") or []
    )
    table = (
        '<table id="open-breaches"><caption>Oldest breaches still open</caption>'
        f"<tr><th>conversation</th><th>breached</th><th>age</th></tr>{rows}</table>"
        if rows
        else ""
    )
    return (
        f'<p id="breach-flow">Breaches that came in: {flow["breaches_in"]} (7 days earlier:'
        f" {flow['breaches_in_7d_earlier']}); resolved: {flow['breaches_resolved']}"
        f" (7 days earlier: {earlier_text(drivers.get('resolved_7d_earlier'))}); still open"
        f" at the window's end: {flow['open_breaches']}.</p>{table}"
    )


def more_text(count: int, listed) -> str:
    more = count - len(listed or [])
    return f" and {more} more" if more > 0 else ""


def quality_section(data: ReportData) -> str:
    items = []
    for fact_type, name in ((ACTIVATION, "activation"), (SLA, "SLA resolution")):
        marks = data.marks[fact_type]
        withheld = ", ".join(map(str, marks.withheld)) or "none"
        missing = ", ".join(map(str, marks.missing_days)) or "none"
        items.append(
            f"<li>{name}: windows withheld: {withheld}; source days missing: {missing}</li>"
        )
    rejected = data.marks[SLA].rejected
    listed = "; ".join(f"{day}: {count}" for day, count in sorted(rejected.items())) or "none"
    items.append(f"<li>breach elements rejected as unusable, per window: {listed}</li>")
    return (
        '<section id="data-quality"><h2>Data quality</h2><ul>'
        + "".join(items)
        + '</ul><p class="meta">From the job\'s run history: a withheld window had a source'
        " day that never arrived; a missing source day had no rows where its stream is busy."
        "</p></section>"
    )


def runs_section(runs: list[dict] | None) -> str:
    return f'<section id="runs"><h2>Last runs</h2>{runs_table(runs)}</section>'


def runs_table(runs: list[dict] | None) -> str:
    if runs is None:
        return "<p>No run has been recorded yet (the table <code>job_runs</code> is missing).</p>"
    if not runs:
        return "<p>No run has been recorded yet.</p>"
    header = (*history.SUMMARY_COLUMNS, "problems")
    head = "<tr>" + "".join(f"<th>{html.escape(name)}</th>" for name in header) + "</tr>"
    body = []
    for run in runs:
        cells, problems = history.summarize(run)
        body.append(
            f'<tr class="run {html.escape(run["status"] or "")}">'
            + "".join(f"<td>{html.escape(cell)}</td>" for cell in (*cells, problems[:300]))
            + "</tr>"
        )
    return f'<table id="runs-table">{head}{"".join(body)}</table>'
