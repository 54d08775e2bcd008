"""Lint: SQLFluff on the dbt models and macros, ruff on the Python.

SQLFluff uses the dbt templater (.sqlfluff), which compiles every model with
dbt itself; dbt's compile looks the incremental models up in the database
(`is_incremental()`), so it needs a reachable PostgreSQL. The test gives it a
fresh database of the session's embedded server, builds the models once so
that the incremental branches are rendered (and linted) too, and points dbt
at a private copy of profiles.example.yml through DBT_PROFILES_DIR. Nothing
is written into the repository: dbt's target/ and logs/ go to temp folders.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from nightly_metrics import dbt_invoke, project

PROJECT_DIR = Path(__file__).resolve().parent.parent
AS_OF = "2026-11-28"


def _tool(name: str) -> list[str]:
    """The venv's console script when there is one, else `python -m name`."""
    script = Path(sys.executable).with_name(name)
    return [str(script)] if script.exists() else [sys.executable, "-m", name]


def _report(result: subprocess.CompletedProcess) -> str:
    return f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"


def test_sqlfluff_lint_is_clean(source_db, tmp_path):
    settings = source_db.settings
    # Build once, so that `is_incremental()` is true while linting and the
    # incremental-only SQL is checked as well.
    variables = {"as_of": AS_OF, "write_back": False}
    outcome = dbt_invoke.invoke_dbt(
        ["run", "--vars", json.dumps(variables)],
        settings,
        project.TARGET_SCHEMA_DEFAULT,
        target_path=tmp_path / "target-build",
    )
    assert outcome.success, outcome.exception or outcome.failed_nodes

    profiles = tmp_path / "profiles"
    profiles.mkdir()
    shutil.copy(PROJECT_DIR / "profiles.example.yml", profiles / "profiles.yml")
    env = {
        **os.environ,
        **settings.dbt_environment(project.TARGET_SCHEMA_DEFAULT),
        "DBT_PROFILES_DIR": str(profiles),
        "DBT_TARGET_PATH": str(tmp_path / "target"),
        "DBT_LOG_PATH": str(tmp_path / "logs"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    result = subprocess.run(
        [*_tool("sqlfluff"), "lint", "models", "macros", "--format", "json"],
        capture_output=True,
        text=True,
        env=env,
        cwd=PROJECT_DIR,
        timeout=600,
    )
    assert result.returncode == 0, _report(result)
    # Every model was templated and linted, none skipped. (The dbt templater
    # skips macro files themselves: macros are linted as rendered in models.)
    linted = {Path(entry["filepath"]).resolve() for entry in json.loads(result.stdout)}
    models = {path.resolve() for path in (PROJECT_DIR / "models").rglob("*.sql")}
    assert models and models <= linted, sorted(map(str, models - linted))


def test_ruff_check_is_clean():
    result = subprocess.run(
        [*_tool("ruff"), "check", "nightly_metrics", "scripts", "tests-python"],
        capture_output=True,
        text=True,
        cwd=PROJECT_DIR,
        timeout=300,
    )
    assert result.returncode == 0, _report(result)
