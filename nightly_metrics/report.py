"""`nightly-metrics report`: one self-contained HTML file with the KPI trend, the
health of the data behind it, and the job's last runs.

Charts are drawn by matplotlib (Agg, no display) and embedded in the page as
inline SVG, so the file opens offline in any browser and makes no request at
all: no script, no stylesheet, no font or image is fetched. Each plotted
series is an SVG group with a stable id (e.g. `activation-rate`), one marker
per stored window, which tests and readers can find in the page. `--png DIR`
also writes the charts as PNG images."""

from __future__ import annotations

import html
import io
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import psycopg
from psycopg import sql

from . import history
from .project import FACT_TYPES

ACTIVATION = FACT_TYPES["activation"]
SLA = FACT_TYPES["sla_resolution"]
# The source streams each fact reads (int_source_days_checked).
STREAMS = {
    ACTIVATION: ("dashboardSessions", "opsDecisions"),
    SLA: ("escalationSnapshots", "opsDecisions"),
}
CHART_IDS = {
    ACTIVATION: ("activation-rate", "active-shops", "activated-shops"),
    SLA: ("sla-median", "sla-p90", "sla-sample-size"),
}


class ReportError(Exception):
    """A report that cannot be made (e.g. matplotlib missing): one line for the user."""


@dataclass
class Window:
    """One stored fact: its window end (the as-of date) and its figures."""

    as_of: date
    value: dict
    metadata: dict


@dataclass
class Marks:
    """Data-quality marks of one fact type, by as-of date, from the run history."""

    withheld: list[date] = field(default_factory=list)
    missing_days: list[date] = field(default_factory=list)
    rejected: dict[date, int] = field(default_factory=dict)


@dataclass
class ReportData:
    since: date
    windows: dict[str, list[Window]]
    marks: dict[str, Marks]
    runs: list[dict] | None


def read_report_data(
    conn: psycopg.Connection, source_schema: str, target_schema: str, since: date
) -> ReportData:
    """The stored facts since `since` and what the run history says about them."""
    rows = conn.execute(
        sql.SQL(
            """
            select "factType", "createdAt", value, metadata
            from {facts}
            where "shopDomain" = '__aggregate__'
              and "factType" = any(%(types)s)
              and "createdAt" >= %(since)s
              and "createdAt" = date_trunc('day', "createdAt")
              and metadata ? 'sourceRowsRead'
            order by "createdAt"
            """
        ).format(facts=sql.Identifier(source_schema, "DashboardFact")),
        {"types": [ACTIVATION, SLA], "since": since},
    ).fetchall()
    windows: dict[str, list[Window]] = {ACTIVATION: [], SLA: []}
    for fact_type, created_at, value, metadata in rows:
        windows[fact_type].append(Window(created_at.date(), value or {}, metadata or {}))

    runs = history.read(conn, target_schema, 10)
    marks = {ACTIVATION: Marks(), SLA: Marks()}
    if runs is not None:
        marks = quality_marks(conn, target_schema, since)
    return ReportData(since, windows, marks, runs)


def quality_marks(conn: psycopg.Connection, target_schema: str, since: date) -> dict[str, Marks]:
    """Per fact type: the windows whose latest run withheld them, the source days
    the latest run of each window found missing, and the breach elements it
    rejected. The latest run of a window decides: a window withheld one night and
    written the next carries no withheld mark."""
    rows = conn.execute(
        sql.SQL(
            """
            select distinct on (window_entry ->> 'factType', window_entry ->> 'asOf')
                window_entry
            from {runs}, jsonb_array_elements(windows) as window_entry
            where cast(window_entry ->> 'asOf' as date) >= %(since)s
            order by window_entry ->> 'factType', window_entry ->> 'asOf', started_at desc
            """
        ).format(runs=sql.Identifier(target_schema, history.TABLE)),
        {"since": since},
    ).fetchall()
    marks = {ACTIVATION: Marks(), SLA: Marks()}
    for (entry,) in rows:
        fact_type = entry.get("factType")
        if fact_type not in marks:
            continue
        as_of = date.fromisoformat(entry["asOf"])
        mark = marks[fact_type]
        if entry.get("action") == "withheld":
            mark.withheld.append(as_of)
        for stream, days in (entry.get("missingSourceDays") or {}).items():
            if stream in STREAMS[fact_type]:
                mark.missing_days += [date.fromisoformat(day) for day in days]
        if entry.get("breachCandidatesRejected"):
            mark.rejected[as_of] = int(entry["breachCandidatesRejected"])
    for mark in marks.values():
        mark.missing_days = sorted(set(mark.missing_days))
    return marks


# ---------------------------------------------------------------------------
# Charts
# ---------------------------------------------------------------------------


def _pyplot():
    try:
        import matplotlib
    except ImportError:
        raise ReportError(
            "the report needs matplotlib: pip install 'nightly-metrics[report]'"
        ) from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update(
        {
            "svg.hashsalt": "nightly-metrics",  # the same data gives the same SVG
            "font.size": 9,
            "axes.spines.top": False,
            "axes.spines.right": False,
        }
    )
    return plt


def _number(value) -> float | None:
    return None if value is None else float(Decimal(str(value)))


def draw_chart(fact_type: str, windows: list[Window], marks: Marks, since: date, until: date):
    """One figure: the fact's figures per window above, its data-quality marks below,
    on the same time axis."""
    plt = _pyplot()
    figure, (main, quality) = plt.subplots(
        2,
        1,
        sharex=True,
        figsize=(9, 4.6),
        gridspec_kw={"height_ratios": [4, 1.1]},
        constrained_layout=True,
    )
    days = [w.as_of for w in windows]
    counts = main.twinx()
    counts.spines["right"].set_visible(True)
    if fact_type == ACTIVATION:
        rate_id, active_id, activated_id = CHART_IDS[ACTIVATION]
        rates = [_number(w.value.get("activationRate")) * 100 for w in windows]
        active = [w.value.get("totalActiveShops") for w in windows]
        activated = [w.value.get("activatedShops") for w in windows]
        bars = counts.bar(days, active, width=0.8, color="#d9e3f0", label="active shops")
        name_bars(bars, active_id, days)
        bars = counts.bar(days, activated, width=0.5, color="#9fb7d9", label="activated shops")
        name_bars(bars, activated_id, days)
        main.plot(days, rates, marker="o", color="#1f4e99", label="activation rate", gid=rate_id)
        main.set_ylabel("activation rate (%)")
        counts.set_ylabel("shops")
        main.set_title("Operator activation, rolling 7 days (by window end)", loc="left")
    else:
        median_id, p90_id, sample_id = CHART_IDS[SLA]
        sample = [w.value.get("sampleSize") or 0 for w in windows]
        bars = counts.bar(days, sample, width=0.8, color="#e8e1d5", label="sample size")
        name_bars(bars, sample_id, days)
        for key, marker, color, label, gid in (
            ("medianMinutes", "o", "#a14a1a", "median", median_id),
            ("p90Minutes", "s", "#d98a2b", "p90", p90_id),
        ):
            minutes = [_number(w.value.get(key)) for w in windows]
            main.plot(days, minutes, marker=marker, color=color, label=label, gid=gid)
        main.set_ylabel("minutes from breach to resolution")
        counts.set_ylabel("resolved breaches (sample)")
        main.set_title("Chatwoot SLA resolution time, rolling 7 days (by window end)", loc="left")
    # The lines in front of the bars, and one legend for both axes.
    main.set_zorder(counts.get_zorder() + 1)
    main.patch.set_visible(False)
    handles, labels = main.get_legend_handles_labels()
    more_handles, more_labels = counts.get_legend_handles_labels()
    main.legend(handles + more_handles, labels + more_labels, loc="upper left", fontsize=8)
    main.grid(axis="y", color="#eeeeee")

    rows = ["withheld window", "missing source day"]
    if fact_type == SLA:
        rows.append("rejected elements")
    quality.scatter(
        marks.withheld,
        [0] * len(marks.withheld),
        marker="X",
        s=60,
        color="#c0392b",
        gid=f"{chart_id(fact_type)}-withheld-windows",
    )
    quality.scatter(
        marks.missing_days,
        [1] * len(marks.missing_days),
        marker="|",
        s=120,
        color="#e67e22",
        gid=f"{chart_id(fact_type)}-missing-days",
    )
    if fact_type == SLA:
        rejected = sorted(marks.rejected.items())
        quality.scatter(
            [day for day, _ in rejected],
            [2] * len(rejected),
            s=[min(20 + 4 * count, 200) for _, count in rejected],
            color="#7f8c8d",
            gid=f"{chart_id(fact_type)}-rejected-elements",
        )
    quality.set_yticks(range(len(rows)), rows)
    quality.set_ylim(-0.7, len(rows) - 0.3)
    quality.set_title("data quality (from the run history)", loc="left", fontsize=8)
    quality.set_xlim(since - timedelta(days=1), until + timedelta(days=1))
    figure.autofmt_xdate()
    return figure


def name_bars(bars, series_id: str, days: list[date]) -> None:
    """Each bar an SVG id of its own: `<series>-<window end>`."""
    for bar, day in zip(bars, days, strict=True):
        bar.set_gid(f"{series_id}-{day:%Y-%m-%d}")


def chart_id(fact_type: str) -> str:
    return "activation" if fact_type == ACTIVATION else "sla"


def svg_of(figure) -> str:
    """The figure as inline SVG: without the XML prolog, the doctype and the RDF
    metadata block (its creation date would make every report differ)."""
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None})
    text = buffer.getvalue()
    text = re.sub(r"\s*<metadata>.*?</metadata>", "", text, flags=re.DOTALL)
    return text[text.index("<svg") :]


# ---------------------------------------------------------------------------
# The page
# ---------------------------------------------------------------------------


def describe_latest(windows: dict[str, list[Window]]) -> list[str]:
    """The latest figures in words."""
    lines = []
    if windows[ACTIVATION]:
        w = windows[ACTIVATION][-1]
        rate = _number(w.value.get("activationRate")) or 0.0
        lines.append(
            f"Activation, window {window_text(w.as_of)}: {w.value.get('activatedShops')} of"
            f" {w.value.get('totalActiveShops')} active shops logged an ops decision"
            f" ({rate * 100:.1f}%)."
        )
    if windows[SLA]:
        w = windows[SLA][-1]
        if w.value.get("sampleSize"):
            median = _number(w.value.get("medianMinutes"))
            p90 = _number(w.value.get("p90Minutes"))
            lines.append(
                f"SLA resolution, window {window_text(w.as_of)}: {w.value['sampleSize']} breaches"
                f" resolved; half within {minutes_text(median)}, 90% within"
                f" {minutes_text(p90)}."
            )
        else:
            lines.append(
                f"SLA resolution, window {window_text(w.as_of)}: no breach was resolved in"
                " the window."
            )
    return lines or ["No stored window in this period yet."]


def window_text(as_of: date) -> str:
    return f"{as_of - timedelta(days=7):%Y-%m-%d} to {as_of - timedelta(days=1):%Y-%m-%d}"


def minutes_text(minutes: float | None) -> str:
    if minutes is None:
        return "n/a"
    if minutes < 60:
        return f"{minutes:.0f} min"
    return f"{minutes / 60:.1f} h ({minutes:,.0f} min)"


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
    return f'<table id="runs">{head}{"".join(body)}</table>'


STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 64em; color: #222; }
h1 { font-size: 1.5em; margin-bottom: 0.2em; } h2 { font-size: 1.15em; margin-top: 1.8em; }
.meta { color: #666; } .latest li { margin: 0.2em 0; }
figure { margin: 1em 0; } figure svg { width: 100%; height: auto; }
table { border-collapse: collapse; font-size: 0.9em; }
th, td { padding: 0.25em 0.6em; border-bottom: 1px solid #ddd; text-align: left; }
tr.failed td, tr.withheld td, tr.interrupted td { color: #a00; }
"""


def render_html(
    data: ReportData, charts: dict[str, str], generated_at: datetime, source: str
) -> str:
    # No request of any kind: the policy forbids every fetch but inline styles.
    policy = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
    version = html.escape(history.project_version())
    latest = "".join(f"<li>{html.escape(line)}</li>" for line in describe_latest(data.windows))
    figures = "".join(
        f'<figure id="{chart_id(fact_type)}-chart" data-windows="{len(data.windows[fact_type])}">'
        f"{svg}</figure>"
        for fact_type, svg in charts.items()
    )
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{policy}">
<title>Operator KPIs: activation and SLA resolution</title>
<style>{STYLE}</style>
</head>
<body>
<h1>Operator KPIs: activation and Chatwoot SLA resolution</h1>
<p class="meta">Stored windows since {data.since:%Y-%m-%d} from {html.escape(source)};
generated {generated_at:%Y-%m-%d %H:%M} UTC by nightly-metrics {version}.
Each point is one rolling 7-day window, dated by its end (the as-of date, midnight UTC).</p>
<h2>Latest figures</h2>
<ul class="latest">{latest}</ul>
<h2>Trend</h2>
{figures}
<p class="meta">Data quality, from the job's run history: a cross marks a window whose
fact was withheld (a source day never arrived), a tick a source day with no rows
where its stream is busy, a grey dot the breach elements left out as unusable.</p>
<h2>Last runs</h2>
{runs_table(data.runs)}
</body>
</html>
"""


def write_report(
    conn: psycopg.Connection,
    *,
    source_schema: str,
    target_schema: str,
    since: date,
    until: date,
    out: Path,
    png_dir: Path | None,
    source_description: str,
    generated_at: datetime,
) -> ReportData:
    data = read_report_data(conn, source_schema, target_schema, since)
    plt = _pyplot()
    charts = {}
    for fact_type in (ACTIVATION, SLA):
        figure = draw_chart(fact_type, data.windows[fact_type], data.marks[fact_type], since, until)
        charts[fact_type] = svg_of(figure)
        if png_dir is not None:
            png_dir.mkdir(parents=True, exist_ok=True)
            figure.savefig(png_dir / f"{chart_id(fact_type)}.png", dpi=150)
        plt.close(figure)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render_html(data, charts, generated_at, source_description), encoding="utf-8")
    return data
