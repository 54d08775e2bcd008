"""The scheduling workflows are valid GitHub Actions and say what operators expect."""

from __future__ import annotations

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
