"""The dbt unit tests (`unit_tests:` in the models' YAML) pass on PostgreSQL.
They run here, not in the nightly build (the runner excludes them)."""

from __future__ import annotations

import tempfile
from datetime import date

import yaml

from nightly_metrics import dbt_invoke, paths, project

PROJECT_DIR = paths.PROJECT_DIR


def declared_unit_tests() -> set[str]:
    """Every unit test the project's YAML declares."""
    names = set()
    for path in (PROJECT_DIR / "models").rglob("*.yml"):
        for test in (yaml.safe_load(path.read_text()) or {}).get("unit_tests", []):
            names.add(test["name"])
    return names


def test_dbt_unit_tests_pass(source_db):
    source_db.run(date(2026, 11, 28))  # unit tests read the column types of built parents
    with tempfile.TemporaryDirectory() as target:
        outcome = dbt_invoke.invoke_dbt(
            ["test", "--select", "test_type:unit", "--vars", '{"as_of": "2026-11-28"}'],
            source_db.settings,
            project.TARGET_SCHEMA_DEFAULT,
            quiet=False,
            target_path=target,
        )
    failures = [(t.name, t.message) for t in outcome.failed_tests] + outcome.failed_nodes
    assert outcome.success, failures or outcome.exception
    assert outcome.failed_tests == []
    # dbt reports success with "Nothing to do" when a selector picks nothing:
    # every declared unit test must have run and passed.
    ran = {
        r.node.name: str(r.status)
        for r in outcome.result.results
        if str(r.node.resource_type) == "unit_test"
    }
    assert set(ran) == declared_unit_tests() != set()
    assert set(ran.values()) == {"pass"}
