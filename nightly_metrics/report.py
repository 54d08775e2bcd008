"""`nightly-metrics report`: one self-contained HTML file for a standup, in
sections with stable ids: `kpis` (the latest window's figures against 7 days
earlier), `trend`, `drivers` (what moved them), `data-quality` and `runs`.

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
from .report_charts import chart_id, draw_chart, pyplot, svg_of
from .report_data import ACTIVATION, SLA, ReportData, read_report_data
from .report_kpis import sla_sample_7d_earlier
from .report_markdown import read_drivers
from .report_sections import drivers_section, kpis_section, quality_section, runs_section

STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 64em; color: #222; }
h1 { font-size: 1.5em; margin-bottom: 0.2em; } h2 { font-size: 1.15em; margin-top: 1.8em; }
.meta { color: #666; }
.cards { display: flex; gap: 1em; flex-wrap: wrap; }
.card { border: 1px solid #ddd; border-radius: 6px; padding: 0.6em 1em; min-width: 14em; }
.card h3 { font-size: 0.95em; margin: 0; } .card .value { font-size: 1.8em; margin: 0.1em 0; }
.card.good .change { color: #1e7b34; } .card.bad .change { color: #a00; }
.card p { margin: 0.1em 0; } caption { text-align: left; font-weight: 600; }
figure { margin: 1em 0; } figure svg { width: 100%; height: auto; }
table { border-collapse: collapse; font-size: 0.9em; }
th, td { padding: 0.25em 0.6em; border-bottom: 1px solid #ddd; text-align: left; }
tr.failed td, tr.withheld td, tr.interrupted td { color: #a00; }
"""


def render_html(
    data: ReportData, charts: dict[str, str], drivers: dict, generated_at: datetime, source: str
) -> str:
    # No request of any kind: the policy forbids every fetch but inline styles.
    policy = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
    version = html.escape(history.project_version())
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
generated {generated_at:%Y-%m-%d %H:%M} UTC by nightly-metrics {version}. A window is
7 whole UTC days, dated by its as-of date, the day after its last.</p>
{kpis_section(data)}
<section id="trend"><h2>Trend</h2>{figures}</section>
{drivers_section(drivers)}
{quality_section(data)}
{runs_section(data.runs)}
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
    latest = max((w[-1].as_of for w in data.windows.values() if w), default=None)
    drivers = {} if latest is None else read_drivers(conn, target_schema, latest)
    drivers["resolved_7d_earlier"] = sla_sample_7d_earlier(data.windows)
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
    out.write_text(
        render_html(data, charts, drivers, generated_at, source_description), encoding="utf-8"
    )
    return data
