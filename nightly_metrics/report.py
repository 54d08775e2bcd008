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
from datetime import date, datetime
from pathlib import Path

import psycopg

from . import history
from .report_charts import as_number, chart_id, draw_chart, pyplot, svg_of
from .report_data import (
    ACTIVATION,
    SLA,
    ReportData,
    Window,
    read_report_data,
)
from .wording import window_wording

# ---------------------------------------------------------------------------
# The page
# ---------------------------------------------------------------------------


def describe_latest(windows: dict[str, list[Window]]) -> list[str]:
    """The latest figures in words."""
    lines = []
    if windows[ACTIVATION]:
        w = windows[ACTIVATION][-1]
        rate = as_number(w.value.get("activationRate")) or 0.0
        lines.append(
            f"Activation, window {window_text(w.as_of)}: {w.value.get('activatedShops')} of"
            f" {w.value.get('totalActiveShops')} active shops logged an ops decision"
            f" ({rate * 100:.1f}%)."
        )
    if windows[SLA]:
        w = windows[SLA][-1]
        if w.value.get("sampleSize"):
            median = as_number(w.value.get("medianMinutes"))
            p90 = as_number(w.value.get("p90Minutes"))
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
    return window_wording(as_of)


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
    plt = pyplot()
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
