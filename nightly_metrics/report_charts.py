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


def draw_chart(fact_type: str, windows: list[Window], marks: Marks, since: date, until: date):
    """One figure: the fact's figures per window above, its data-quality marks below,
    on the same time axis."""
    plt = pyplot()
    figure, (main, quality) = plt.subplots(
        2,
        1,
        sharex=True,
        figsize=(9, 4.6),
        gridspec_kw={"height_ratios": [4, 1.1]},
        constrained_layout=True,
    )
    counts = main.twinx()
    counts.spines["right"].set_visible(True)
    draw = draw_activation if fact_type == ACTIVATION else draw_sla_resolution
    draw(main, counts, windows, [w.as_of for w in windows])
    # The lines in front of the bars, and one legend for both axes.
    main.set_zorder(counts.get_zorder() + 1)
    main.patch.set_visible(False)
    handles, labels = main.get_legend_handles_labels()
    more_handles, more_labels = counts.get_legend_handles_labels()
    main.legend(handles + more_handles, labels + more_labels, loc="upper left", fontsize=8)
    main.grid(axis="y", color="#eeeeee")
    draw_quality(quality, fact_type, marks)
    quality.set_xlim(since - timedelta(days=1), until + timedelta(days=1))
    figure.autofmt_xdate()
    return figure


def draw_activation(main, counts, windows: list[Window], days: list[date]) -> None:
    rate_id, active_id, activated_id = CHART_IDS[ACTIVATION]
    rates = [as_number(w.value.get("activationRate")) * 100 for w in windows]
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


def draw_sla_resolution(main, counts, windows: list[Window], days: list[date]) -> None:
    median_id, p90_id, sample_id = CHART_IDS[SLA]
    sample = [w.value.get("sampleSize") or 0 for w in windows]
    bars = counts.bar(days, sample, width=0.8, color="#e8e1d5", label="sample size")
    name_bars(bars, sample_id, days)
    for key, marker, color, label, gid in (
        ("medianMinutes", "o", "#a14a1a", "median", median_id),
        ("p90Minutes", "s", "#d98a2b", "p90", p90_id),
    ):
        minutes = [as_number(w.value.get(key)) for w in windows]
        main.plot(days, minutes, marker=marker, color=color, label=label, gid=gid)
    main.set_ylabel("minutes from breach to resolution")
    counts.set_ylabel("resolved breaches (sample)")
    main.set_title("Chatwoot SLA resolution time, rolling 7 days (by window end)", loc="left")


def draw_quality(quality, fact_type: str, marks: Marks) -> None:
    """The data-quality strip: withheld windows, missing source days and, for the
    SLA fact, rejected breach elements (the dot grows with their count)."""
    rows = ["withheld window", "missing source day"]
    strips = [
        (marks.withheld, "X", 60, "#c0392b", "withheld-windows"),
        (marks.missing_days, "|", 120, "#e67e22", "missing-days"),
    ]
    for row, (days, marker, size, color, name) in enumerate(strips):
        quality.scatter(
            days,
            [row] * len(days),
            marker=marker,
            s=size,
            color=color,
            gid=f"{chart_id(fact_type)}-{name}",
        )
    if fact_type == SLA:
        rows.append("rejected elements")
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
