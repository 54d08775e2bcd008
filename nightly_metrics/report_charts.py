"""The report's charts (matplotlib, the report extra): one figure per fact, its
figures per window above and its data-quality marks below, as inline SVG."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta
from decimal import Decimal

from .report_data import ACTIVATION, SLA, Marks, ReportError, Window

CHART_IDS = {
    ACTIVATION: ("activation-rate", "active-shops", "activated-shops"),
    SLA: ("sla-median", "sla-p90", "sla-sample-size"),
}


# ---------------------------------------------------------------------------
# Charts
# ---------------------------------------------------------------------------


def pyplot():
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


def as_number(value) -> float | None:
    return None if value is None else float(Decimal(str(value)))


# A window without data (no active shop, no resolved breach) is a gap in the
# line, labelled, never a 0 point.
NO_DATA = "no data"


def draw_chart(fact_type: str, windows: list[Window], marks: Marks, since: date, until: date):
    """One figure per fact: one quantity per axis (the KPI above, its sample
    below it, the data-quality strip at the bottom), on one time axis with a
    tick every 7 days ending at the newest window, legends outside the data."""
    plt = pyplot()
    figure, (main, counts, quality) = plt.subplots(
        3,
        1,
        sharex=True,
        figsize=(9, 5.6),
        gridspec_kw={"height_ratios": [4, 1.8, 1.1]},
        constrained_layout=True,
    )
    draw = draw_activation if fact_type == ACTIVATION else draw_sla_resolution
    draw(main, counts, windows, [w.as_of for w in windows])
    for axis in (main, counts):
        axis.grid(axis="y", color="#eeeeee")
        axis.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8, frameon=False)
    draw_quality(quality, fact_type, marks)
    newest = max([w.as_of for w in windows], default=until)
    ticks = [newest - timedelta(days=7 * n) for n in range((newest - since).days // 7 + 1)]
    quality.set_xticks(ticks, [f"{day:%m-%d}" for day in ticks])
    quality.set_xlim(since - timedelta(days=1), max(newest, until) + timedelta(days=1))
    quality.set_xlabel("window end (as-of date, UTC)")
    return figure


def mark_no_data(axis, days: list[date], series_id: str, y: float) -> None:
    """A labelled gap where a window has no data."""
    for day in days:
        axis.annotate(
            NO_DATA, (day, y), rotation=90, ha="center", va="bottom", fontsize=7,
            color="#888888", gid=f"{series_id}-no-data-{day:%Y-%m-%d}",
        )  # fmt: skip


def draw_activation(main, counts, windows: list[Window], days: list[date]) -> None:
    rate_id, active_id, activated_id = CHART_IDS[ACTIVATION]
    active = [w.value.get("totalActiveShops") or 0 for w in windows]
    rates = [
        as_number(w.value.get("activationRate")) * 100 if shops else float("nan")
        for w, shops in zip(windows, active, strict=True)
    ]
    main.plot(days, rates, marker="o", color="#1f4e99", label="activation rate", gid=rate_id)
    mark_no_data(main, [d for d, n in zip(days, active, strict=True) if not n], rate_id, 2)
    # The rate's scale never moves: 0 to 100 %.
    main.set_ylim(0, 100)
    main.set_ylabel("activation rate (%)")
    main.set_title("Operator activation, rolling 7 days", loc="left")
    activated = [w.value.get("activatedShops") or 0 for w in windows]
    bars = counts.bar(days, active, width=0.8, color="#d9e3f0", label="active shops")
    name_bars(bars, active_id, days)
    bars = counts.bar(days, activated, width=0.5, color="#9fb7d9", label="activated shops")
    name_bars(bars, activated_id, days)
    counts.set_ylim(bottom=0)
    counts.set_ylabel("shops")


def draw_sla_resolution(main, counts, windows: list[Window], days: list[date]) -> None:
    median_id, p90_id, sample_id = CHART_IDS[SLA]
    sample = [w.value.get("sampleSize") or 0 for w in windows]
    for key, marker, color, label, gid in (
        ("medianMinutes", "o", "#a14a1a", "median", median_id),
        ("p90Minutes", "s", "#d98a2b", "p90", p90_id),
    ):
        minutes = [
            as_number(w.value.get(key)) if n else float("nan")
            for w, n in zip(windows, sample, strict=True)
        ]
        main.plot(days, minutes, marker=marker, color=color, label=label, gid=gid)
    mark_no_data(main, [d for d, n in zip(days, sample, strict=True) if not n], median_id, 0)
    main.set_ylim(bottom=0)
    main.set_ylabel("minutes, breach to resolution")
    main.set_title("Chatwoot SLA resolution time, rolling 7 days", loc="left")
    bars = counts.bar(days, sample, width=0.8, color="#e8e1d5", label="resolved breaches")
    name_bars(bars, sample_id, days)
    counts.set_ylim(bottom=0)
    counts.set_ylabel("sample")


def draw_quality(quality, fact_type: str, marks: Marks) -> None:
    """The data-quality strip: withheld windows, missing source days and, for the
    SLA fact, rejected breach elements with their numbers; "none" where a row
    has nothing."""
    rows = ["withheld window", "missing source day"]
    strips = [
        (marks.withheld, "X", 60, "#c0392b", "withheld-windows"),
        (marks.missing_days, "|", 120, "#e67e22", "missing-days"),
    ]
    if fact_type == SLA:
        rows.append("rejected elements")
    for row, (days, marker, size, color, name) in enumerate(strips):
        quality.scatter(
            days, [row] * len(days), marker=marker, s=size, color=color,
            gid=f"{chart_id(fact_type)}-{name}",
        )  # fmt: skip
    if fact_type == SLA:
        rejected = sorted(marks.rejected.items())
        quality.scatter(
            [day for day, _ in rejected], [2] * len(rejected), s=20, color="#7f8c8d",
            gid=f"{chart_id(fact_type)}-rejected-elements",
        )  # fmt: skip
        for day, count in rejected:
            quality.annotate(str(count), (day, 2), xytext=(0, 5), textcoords="offset points",
                             ha="center", fontsize=7, color="#555555")  # fmt: skip
    empty = [not marks.withheld, not marks.missing_days, not marks.rejected][: len(rows)]
    for row, is_empty in enumerate(empty):
        if is_empty:
            quality.text(0.01, row, "none", transform=quality.get_yaxis_transform(),
                         va="center", fontsize=7, color="#888888")  # fmt: skip
    quality.set_yticks(range(len(rows)), rows)
    quality.set_ylim(-0.7, len(rows) - 0.3)
    quality.set_title("data quality (from the run history)", loc="left", fontsize=8)


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
