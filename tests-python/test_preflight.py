"""Preflight (issue 20, part 1): before any model builds, every column the
project reads or writes is checked, by name and type class, against the
definition in the dbt sources. A mismatch stops the run with exit 2, names
each column and the fact that needs it, and writes nothing."""

from __future__ import annotations

from datetime import datetime

from conftest import run_cli

from nightly_metrics import dbt_invoke, project
from nightly_metrics.errors import ExitCode

AS_OF = "2026-11-28"


def some_rows(db) -> None:
    db.add_session("shop-a.myshopify.com", datetime(2026, 11, 25, 9))
    db.add_decision(datetime(2026, 11, 25, 10), shop_domain="shop-a.myshopify.com")


def test_missing_columns_stop_the_run_naming_the_facts_that_need_them(source_db):
    some_rows(source_db)
    source_db.execute('alter table "DecisionLog" drop column "externalRef"')
    source_db.execute('alter table "DecisionLog" drop column "shopDomain"')

    stopped = run_cli(["run", "--as-of", AS_OF], env={"DATABASE_URL": source_db.uri})
    assert stopped.returncode == ExitCode.CONFIG, stopped.stderr
    assert "Traceback" not in stopped.stderr
    assert "activation needs DecisionLog.shopDomain" in stopped.stderr, stopped.stderr
    assert "SLA resolution needs DecisionLog.externalRef" in stopped.stderr, stopped.stderr
    assert source_db.aggregate_facts() == []

    # plain dbt stops the same way, in its on-run-start hook
    with dbt_invoke.dbt_session(source_db.settings, project.TARGET_SCHEMA_DEFAULT) as dbt:
        outcome = dbt(["build", "--vars", f'{{"as_of": "{AS_OF}"}}'])
    assert not outcome.success
    # an on-run-start hook's error ends the invocation: dbt reports it as its exception
    messages = " ".join(m for _, m in outcome.failed_nodes) + str(outcome.exception)
    assert "activation needs DecisionLog.shopDomain" in messages, messages
    assert "SLA resolution needs DecisionLog.externalRef" in messages, messages
    assert source_db.aggregate_facts() == []


def test_a_mistyped_column_stops_the_run_naming_its_expected_class(source_db):
    some_rows(source_db)
    source_db.execute('alter table "DashboardFact" alter column value type text')

    stopped = run_cli(["run", "--as-of", AS_OF], env={"DATABASE_URL": source_db.uri})
    assert stopped.returncode == ExitCode.CONFIG, stopped.stderr
    assert "Traceback" not in stopped.stderr
    assert "DashboardFact.value" in stopped.stderr, stopped.stderr
    assert "json" in stopped.stderr.split("DashboardFact.value", 1)[1].splitlines()[0]
    assert source_db.aggregate_facts() == []


def test_timestamps_with_time_zone_pass_the_check(source_db):
    """Both timestamp types are the class "timestamp" (issue 20 reads either)."""
    source_db.execute(
        'alter table "DecisionLog" alter column "createdAt" type timestamptz(3)'
        " using \"createdAt\" at time zone 'UTC'"
    )
    with dbt_invoke.dbt_session(source_db.settings, project.TARGET_SCHEMA_DEFAULT) as dbt:
        outcome = dbt(["run-operation", "check_source_columns"])
    assert outcome.success, (outcome.failed_nodes, outcome.exception)
