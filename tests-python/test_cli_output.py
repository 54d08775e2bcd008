"""What a person reads on the terminal: the facts table and the help screens."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime
from decimal import Decimal

import pytest

from nightly_metrics import cli, render

WINDOW = {"windowStart": "2026-11-21T00:00:00.000Z", "windowEnd": "2026-11-28T00:00:00.000Z"}


def fact(fact_type: str, value: dict, metadata: dict | None = None) -> dict:
    return {
        "factType": fact_type,
        "createdAt": datetime(2026, 11, 28),
        "value": {**WINDOW, **value},
        "metadata": metadata or {},
        "action": "written",
    }


def test_the_facts_table_names_the_window_and_formats_every_figure_alike():
    table = render.facts_as_table(
        [
            fact(
                "metrics.activation.rolling7d",
                {"activatedShops": 1, "totalActiveShops": 3, "activationRate": Decimal("0.3333")},
            ),
            fact(
                "metrics.sla_resolution.rolling7d",
                {"sampleSize": 4, "medianMinutes": Decimal("1993.4"), "p90Minutes": 2010},
                {"breachCandidatesRejected": 2},
            ),
            fact(
                "metrics.sla_resolution.rolling7d",
                {"sampleSize": 0, "medianMinutes": None, "p90Minutes": None},
            ),
        ]
    )
    header, rule, activation, sla, empty = table.splitlines()
    assert header.startswith("window (UTC days, as-of date)")
    assert activation.startswith("2026-11-21 – 2026-11-27 (as of 2026-11-28)  metrics.activation")
    assert "1 of 3 active shops activated: rate 0.3333 (33.33%)" in activation
    assert "4 resolved breaches: median 1993.40 min, p90 2010.00 min" in sla
    assert "2 malformed breach elements skipped" in sla
    assert "0 resolved breaches: median – min, p90 – min" in empty
    assert "None" not in table


COMMANDS = ["run", "backfill", "history", "report", "demo", "docs"]


@pytest.mark.parametrize("command", [None, *COMMANDS])
def test_every_help_screen_documents_every_option_and_database_url(command):
    args = [command, "--help"] if command else ["--help"]
    shown = subprocess.run(
        [sys.executable, "-m", "nightly_metrics.cli", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    assert "DATABASE_URL" in shown
    parser = cli.build_parser()
    if command is None:
        return
    sub = next(
        action for action in parser._actions if action.__class__.__name__ == "_SubParsersAction"
    ).choices[command]
    for action in sub._actions:
        if action.option_strings and action.help is None:
            pytest.fail(f"{command} {action.option_strings[0]} has no help text")
