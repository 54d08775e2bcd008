#!/usr/bin/env python
"""The facts a run printed with --json, as a Markdown table (for a CI job summary,
a ticket or a release review).

    nightly-metrics run --json > facts.json
    python scripts/facts_to_markdown.py facts.json >> "$GITHUB_STEP_SUMMARY"

An empty or missing file (a run that failed before writing) gives a line saying so.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def figures(fact: dict) -> str:
    value = fact["value"]
    if fact["factType"] == "metrics.activation.rolling7d":
        rate = value["activationRate"]
        return (
            f"{value['activatedShops']} of {value['totalActiveShops']} active shops activated"
            f" ({rate * 100:.2f} %)"
        )
    if not value["sampleSize"]:
        return "no breach resolved in the window"
    return (
        f"median {value['medianMinutes']:.2f} min, p90 {value['p90Minutes']:.2f} min"
        f" over {value['sampleSize']} resolved breaches"
    )


def to_markdown(facts: list[dict]) -> str:
    lines = [
        "| window (UTC) | metric | figures | run |",
        "| --- | --- | --- | --- |",
    ]
    for fact in facts:
        value = fact["value"]
        window = f"{value['windowStart'][:10]} to {value['windowEnd'][:10]}"
        lines.append(
            f"| {window} | `{fact['factType']}` | {figures(fact)} |"
            f" {fact.get('runAction', 'written')} |"
        )
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: facts_to_markdown.py FACTS.json", file=sys.stderr)
        return 2
    path = Path(argv[1])
    text = path.read_text() if path.exists() else ""
    facts = json.loads(text) if text.strip() else []
    print("### Nightly metrics\n")
    print(to_markdown(facts) if facts else "No facts were written (see the job's log).")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
