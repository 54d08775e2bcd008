"""Settings that reach SQL, on every path (issue 18's "smaller holes"):
boolean vars are booleans, schema names from the environment cannot break out
of their quotes, and the statement timeout bounds data tests and freshness
queries as it bounds models."""

from __future__ import annotations

import re
import threading
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path

import psycopg
import pytest
from conftest import run_cli

from nightly_metrics import dbt_invoke, project
from nightly_metrics.errors import ExitCode

AS_OF = date(2026, 11, 28)


def plain_dbt(db, args: list[str], schema: str | None = None):
    settings = db.settings
    if schema is not None:
        settings = replace(settings, source_schema=schema)
    with dbt_invoke.dbt_session(settings, project.TARGET_SCHEMA_DEFAULT) as dbt:
        return dbt(args)


@pytest.mark.parametrize("write_back", ['"false"', '"False"', "false"])
def test_write_back_false_in_any_spelling_writes_nothing(source_db, write_back):
    source_db.add_session("shop-a", datetime(2026, 11, 25, 9))
    outcome = plain_dbt(
        source_db,
        ["build", "--vars", f'{{"as_of": "2026-11-28", "write_back": {write_back}}}'],
    )
    assert outcome.success, (outcome.failed_nodes, outcome.exception)
    assert source_db.aggregate_facts() == []
    # the model computed them all the same
    assert source_db.execute("select count(*) from nightly_metrics.fct_ops_metrics_rolling7d") == [
        (2,)
    ]


@pytest.mark.parametrize("name", ["write_back", "allow_missing_days", "allow_fewer_rows"])
def test_a_boolean_var_that_is_no_boolean_stops_the_build(source_db, name):
    source_db.add_session("shop-a", datetime(2026, 11, 25, 9))
    outcome = plain_dbt(
        source_db, ["build", "--vars", f'{{"as_of": "2026-11-28", "{name}": "no"}}']
    )
    assert not outcome.success
    messages = " ".join(m for _, m in outcome.failed_nodes) + str(outcome.exception)
    assert f"configuration error: the var {name} must be true or false" in messages
    assert source_db.aggregate_facts() == []
    assert source_db.execute("select to_regclass('nightly_metrics.fct_ops_metrics_rolling7d')") == [
        (None,)
    ]


def test_a_schema_name_with_a_quote_never_reaches_sql(source_db):
    """dbt quotes the source schema as "name" without doubling a quote in it."""
    injected = 'public"."DashboardFact" where false; drop table "DecisionLog"; --'
    source_db.add_decision(datetime(2026, 11, 25, 9))
    outcome = plain_dbt(source_db, ["build", "--vars", '{"as_of": "2026-11-28"}'], schema=injected)
    assert not outcome.success
    messages = " ".join(m for _, m in outcome.failed_nodes) + str(outcome.exception)
    assert "configuration error: NIGHTLY_METRICS_SOURCE_SCHEMA must be a schema name" in messages
    assert source_db.execute('select count(*) from "DecisionLog"') == [(1,)]
    freshness = plain_dbt(source_db, ["source", "freshness"], schema=injected)
    assert not freshness.success
    assert source_db.execute('select count(*) from "DecisionLog"') == [(1,)]
    # the runner: one line, exit 2
    quoted = source_db.uri + "&schema=" + "a%22b"
    result = run_cli(["run", "--as-of", str(AS_OF)], env={"DATABASE_URL": quoted})
    assert result.returncode == ExitCode.CONFIG, result.stderr
    assert "Traceback" not in result.stderr


def blocked_by_a_lock(db, table: str, dbt_args: list[str]):
    """Runs dbt while another session holds an exclusive lock on `table`; the
    lock is released after 60 s whatever happens, so an unbounded statement
    shows as a success after that wait rather than as a hung test."""
    holder = psycopg.connect(db.uri)
    holder.execute(f"lock table {table} in access exclusive mode")
    release = threading.Timer(60, holder.rollback)
    release.start()
    try:
        return plain_dbt(db, dbt_args)
    finally:
        release.cancel()
        holder.close()


def test_the_statement_timeout_bounds_data_tests_and_freshness(source_db):
    source_db.add_session("shop-a", datetime(2026, 11, 25, 9))
    assert (
        run_cli(["run", "--as-of", str(AS_OF)], env={"DATABASE_URL": source_db.uri}).returncode == 0
    )
    bounded = '{"as_of": "2026-11-28", "statement_timeout_seconds": 2}'
    # one data test of each kind that reads the mart: a generic one and the
    # project's own source-day check (each waits out the timeout)
    tested = blocked_by_a_lock(
        source_db,
        "nightly_metrics.fct_ops_metrics_rolling7d",
        [
            "test",
            "--select",
            "fct_ops_metrics_rolling7d,test_name:unique_combination_of_columns",
            "dashboard_sessions_arrived",
            "--vars",
            bounded,
        ],
    )
    assert not tested.success
    assert len(tested.failed_nodes) == 2, tested
    assert all("statement timeout" in message for _, message in tested.failed_nodes), tested
    fresh = blocked_by_a_lock(
        source_db, '"DashboardFact"', ["source", "freshness", "--vars", bounded]
    )
    assert not fresh.success
    assert any("statement timeout" in message for _, message in fresh.failed_nodes), fresh


def test_a_failed_run_names_only_files_that_still_exist(source_db):
    """dbt's messages name the compiled SQL of the node that failed; the run's
    own target folder is temporary, so the failure keeps a copy and the
    messages name the copy."""
    source_db.add_session("shop-a", datetime(2026, 11, 25, 9))
    holder = psycopg.connect(source_db.uri)
    holder.execute('lock table "DashboardFact" in access exclusive mode')
    release = threading.Timer(60, holder.rollback)
    release.start()
    try:
        failed = run_cli(
            ["run", "--as-of", str(AS_OF), "--statement-timeout", "2s"],
            env={"DATABASE_URL": source_db.uri},
        )
    finally:
        release.cancel()
        holder.close()
    assert failed.returncode == ExitCode.BUILD_FAILED, failed.stderr
    assert "statement timeout" in failed.stderr
    named = re.findall(r"(?:^|\s)(/\S+\.sql)\b", failed.stderr, re.M)
    assert named, failed.stderr
    missing = [path for path in named if not Path(path).is_file()]
    assert missing == [], failed.stderr
