"""`nightly-metrics report --markdown`: the standup's summary as Markdown, for
a job summary, a Linear comment or docs/directions/product_changelog.md: the
KPI cards against 7 days earlier, what moved them (the driver models), the
data's health, and, when the last run did not succeed, what it said."""

from __future__ import annotations

from datetime import date

import psycopg
from psycopg import sql

from .report_data import ACTIVATION, SLA, ReportData, read_report_data
from .report_kpis import change_text, kpi_cards, sla_sample_7d_earlier, value_text
from .wording import window_wording

ACTIVATION_DRIVERS = "fct_activation_drivers_rolling7d"
SLOWEST_BREACHES = "fct_sla_slowest_breaches_rolling7d"
BREACH_FLOW = "fct_sla_breach_flow_rolling7d"
OPEN_BREACHES = "fct_sla_open_breaches_rolling7d"
CHANGES = (
    ("newly activated", "newly_activated_shops", "newly_activated_first_shops"),
    ("no longer activated", "no_longer_activated_shops", "no_longer_activated_first_shops"),
    ("newly active", "newly_active_shops", "newly_active_first_shops"),
    ("no longer active", "no_longer_active_shops", "no_longer_active_first_shops"),
)


def markdown_summary(
    conn: psycopg.Connection, source_schema: str, target_schema: str, since: date
) -> str:
    """The summary of the stored windows since `since`, as of the latest."""
    data = read_report_data(conn, source_schema, target_schema, since)
    latest = max((w[-1].as_of for w in data.windows.values() if w), default=None)
    drivers = {} if latest is None else read_drivers(conn, target_schema, latest)
    drivers["resolved_7d_earlier"] = sla_sample_7d_earlier(data.windows)
    return render_markdown(data, drivers)


def read_drivers(conn: psycopg.Connection, schema: str, as_of: date) -> dict:
    """The driver models' rows of one as-of date ({} where a table is missing:
    a deployment built before they existed)."""
    drivers: dict = {}
    for key, table in (("activation", ACTIVATION_DRIVERS), ("flow", BREACH_FLOW)):
        rows = select_rows(conn, schema, table, "*", "as_of_date", as_of)
        if rows:
            drivers[key] = rows[0]
    for key, table, columns, order in (
        ("slowest", SLOWEST_BREACHES, "conversation_id, breached_at, resolution_minutes",
         "slowness_rank"),
        ("open", OPEN_BREACHES, "conversation_id, breached_at, age_minutes", "age_rank"),
    ):  # fmt: skip
        rows = select_rows(conn, schema, table, columns, order, as_of)
        if rows is not None:
            drivers[key] = [tuple(row.values()) for row in rows]
    return drivers


def select_rows(conn, schema: str, table: str, columns: str, order: str, as_of: date):
    """The rows of one as-of date, as dicts; None when the table is missing."""
    if conn.execute("select to_regclass(%s)", (f'"{schema}"."{table}"',)).fetchone()[0] is None:
        return None
    cursor = conn.execute(
        sql.SQL("select {} from {} where as_of_date = %s order by {}").format(
            sql.SQL(columns), sql.Identifier(schema, table), sql.SQL(order)
        ),
        (as_of,),
    )
    names = [column.name for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def render_markdown(data: ReportData, drivers: dict) -> str:
    cards = kpi_cards(data.windows)
    if not cards:
        return "## Nightly metrics\n\nNo stored window in this period yet.\n"
    lines = [f"## Nightly metrics: window {window_wording(cards[0].as_of)}", ""]
    lines += ["| KPI | latest | vs 7 days earlier | sample |", "| --- | --- | --- | --- |"]
    lines += [
        f"| {card.title} | {value_text(card)} | {change_text(card)} | {card.sample} |"
        for card in cards
    ]
    lines += ["", "### What moved it", ""]
    lines += driver_lines(drivers)
    lines += ["", "### Data health", ""]
    lines += health_lines(data)
    lines += last_run_lines(data.runs)
    return "\n".join(lines) + "\n"


def driver_lines(drivers: dict) -> list[str]:
    lines = []
    activation = drivers.get("activation")
    if activation:
        parts = []
        for label, count, first in CHANGES:
            shops = activation[first] or []
            more = activation[count] - len(shops)
            listed = ", ".join(f"`{shop}`" for shop in shops) + (
                f" and {more} more" if more else ""
            )
            parts.append(f"{activation[count]} {label}" + (f" ({listed})" if shops else ""))
        lines.append("- Activation, against 7 days earlier: " + "; ".join(parts) + ".")
    else:
        lines.append(
            "- Activation: no driver rows for this window (build the project to make them)."
        )
    slowest = drivers.get("slowest")
    if slowest:
        listed = "; ".join(
            f"conversation {conversation} (breached {breached:%Y-%m-%d %H:%M} UTC):"
            f" {minutes:,.0f} min"
            for conversation, breached, minutes in slowest[:5]
        )
        lines.append(f"- SLA, the slowest resolved breaches: {listed}.")
    else:
        lines.append("- SLA: no breach was resolved in the window.")
    flow = drivers.get("flow")
    if flow:
        oldest = drivers.get("open") or []
        lines.append(
            f"- SLA breaches: {flow['breaches_in']} came in (7 days earlier:"
            f" {flow['breaches_in_7d_earlier']}), {flow['breaches_resolved']} were resolved"
            f" (7 days earlier: {earlier_text(drivers.get('resolved_7d_earlier'))}),"
            f" {flow['open_breaches']} are still open at the window's end"
            + (f"; the oldest: {open_text(oldest)}." if oldest else ".")
        )
    return lines


def earlier_text(count: int | None) -> str:
    return "not stored" if count is None else str(count)


def open_text(open_breaches: list[tuple]) -> str:
    return "; ".join(
        f"conversation {conversation} (breached {breached:%Y-%m-%d %H:%M} UTC,"
        f" {minutes / 1440:,.1f} days before the window's end)"
        for conversation, breached, minutes in open_breaches[:5]
    )


def health_lines(data: ReportData) -> list[str]:
    lines = []
    for fact_type, name in ((ACTIVATION, "Activation"), (SLA, "SLA resolution")):
        marks = data.marks[fact_type]
        withheld = ", ".join(f"{d}" for d in marks.withheld) or "none"
        missing = ", ".join(f"{d}" for d in marks.missing_days) or "none"
        lines.append(f"- {name}: windows withheld: {withheld}; source days missing: {missing}.")
    rejected = data.marks[SLA].rejected
    if rejected:
        latest = max(rejected)
        lines.append(
            f"- Breach elements rejected as unusable: {rejected[latest]} in the read window of"
            f" {window_wording(latest)}."
        )
    else:
        lines.append("- Breach elements rejected as unusable: none.")
    return lines


def last_run_lines(runs: list[dict] | None) -> list[str]:
    """The last run, when it did not succeed: its exit code, what it withheld
    and why, the missing source days."""
    if not runs or runs[0]["status"] == "succeeded":
        return []
    run = runs[0]
    lines = ["", "### The last run did not succeed", ""]
    lines.append(
        f"- Started {run['started_at']:%Y-%m-%d %H:%M} UTC, `{run['command']}`: {run['status']},"
        f" exit code {run['exit_code']}."
    )
    for window in run["windows"] or []:
        if window.get("action") == "withheld":
            days = "; ".join(
                f"{stream}: {', '.join(found)}"
                for stream, found in (window.get("missingSourceDays") or {}).items()
                if found
            )
            as_of = date.fromisoformat(window["asOf"])
            lines.append(
                f"- Withheld: `{window['factType']}` for {window_wording(as_of)},"
                f" source days that never arrived ({days or 'see the problems'})."
            )
    for problem in (run["problems"] or "").splitlines():
        lines.append(f"- {problem}")
    return lines
