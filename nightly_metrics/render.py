"""How the runner prints what it did: facts as a table or JSON, runs as a table.
Shared by the CLI and the demo."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal

from . import history
from .project import FACT_TYPES
from .wording import window_wording


def json_default(value):
    if isinstance(value, Decimal):
        return (
            int(value)
            if value == value.to_integral_value() and value.as_tuple().exponent >= 0
            else float(value)
        )
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(type(value).__name__)


def facts_as_json(facts: list[dict]) -> str:
    rows = [
        {
            "shopDomain": "__aggregate__",
            "factType": fact["factType"],
            "createdAt": fact["createdAt"].strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            "value": fact["value"],
            "metadata": fact["metadata"],
            # "written" by this run, or "kept" as stored (sources have shrunk)
            "runAction": fact.get("action", "written"),
        }
        for fact in facts
    ]
    return json.dumps(rows, default=json_default, indent=2)


def two_decimals(value) -> str:
    """A figure with two decimals ("1993.40", not "1993.4"), or a dash when there is none."""
    return "–" if value is None else f"{Decimal(str(value)):.2f}"


def facts_as_table(facts: list[dict]) -> str:
    """A readable table: one line per fact, its window, its figures in words."""
    header = ("window (UTC days, as-of date)", "metric", "figures")
    lines = []
    for fact in facts:
        value = fact["value"]
        if fact["factType"] == FACT_TYPES["activation"]:
            rate = Decimal(str(value["activationRate"]))
            figures = (
                f"{value['activatedShops']} of {value['totalActiveShops']} active shops"
                f" activated: rate {rate} ({rate * 100:.2f}%)"
            )
        else:
            figures = (
                f"{value['sampleSize']} resolved breaches: median"
                f" {two_decimals(value.get('medianMinutes'))} min, p90"
                f" {two_decimals(value.get('p90Minutes'))} min"
            )
            if not value["sampleSize"]:
                figures += " (no breach was resolved in the window)"
            rejected = (fact.get("metadata") or {}).get("breachCandidatesRejected")
            if rejected:
                figures += f"; {rejected} malformed breach elements skipped"
        if fact.get("action") == "kept":
            figures += " [kept as stored: its sources have shrunk since]"
        lines.append((window_wording(fact["createdAt"].date()), fact["factType"], figures))
    widths = [max(len(row[i]) for row in [header, *lines]) for i in range(2)]
    out = ["  ".join(f"{header[i]:<{widths[i]}}" for i in range(2)) + f"  {header[2]}"]
    out.append("  ".join("-" * widths[i] for i in range(2)) + "  " + "-" * 40)
    out += ["  ".join(f"{row[i]:<{widths[i]}}" for i in range(2)) + f"  {row[2]}" for row in lines]
    return "\n".join(out)


def print_facts(facts: list[dict], as_json: bool) -> None:
    print(facts_as_json(facts) if as_json else facts_as_table(facts), flush=True)


def runs_as_table(runs: list[dict]) -> str:
    """The last runs, newest first: one line each, then what went wrong, if anything."""
    header = history.SUMMARY_COLUMNS
    lines = []
    notes = []
    for run in runs:
        cells, problems = history.summarize(run)
        lines.append(cells)
        if problems:
            said = problems if len(problems) <= 240 else problems[:239] + "…"
            notes.append(f"{cells[0]}  {said}")
    widths = [max(len(row[i]) for row in [header, *lines]) for i in range(len(header))]
    numeric = {4, 5, 6, 7, 8}

    def format_row(row) -> str:
        return "  ".join(
            f"{cell:>{widths[i]}}" if i in numeric else f"{cell:<{widths[i]}}"
            for i, cell in enumerate(row)
        ).rstrip()

    out = [format_row(header), "  ".join("-" * w for w in widths)]
    out += [format_row(row) for row in lines]
    if notes:
        out += ["", "problems reported:"] + [f"  {note}" for note in notes]
    return "\n".join(out)
