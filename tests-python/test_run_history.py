"""The job's run history (issue 14): one row per invocation that reached the database,
in nightly_metrics.job_runs, whatever the run's outcome; `nightly-metrics history`
prints it."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta

from conftest import run_cli
from contract_oracle import ACTIVATION_FACT_TYPE, SLA_FACT_TYPE
from test_interrupts import run_while_another_run_holds_the_lock
from test_source_days_and_reruns import AS_OF, dense_streams

from nightly_metrics import dbt_invoke, project
from nightly_metrics.errors import ExitCode

COLUMNS = (
    "command, status, exit_code, facts_written, facts_withheld, facts_kept,"
    " as_of_start_date, as_of_end_date, rows_read, windows, invocation_id, problems,"
    " started_at <= finished_at, elapsed_seconds, dbt_version"
)


def history_rows(db) -> list[dict]:
    names = [n.strip() for n in COLUMNS.split(",")]
    rows = db.execute(f"select {COLUMNS} from nightly_metrics.job_runs order by started_at")
    return [dict(zip(names, row, strict=True)) for row in rows]


def test_each_run_leaves_one_row_whatever_its_outcome(source_db):
    empty = AS_OF - timedelta(days=3)
    dense_streams(empty_session_day=empty).insert(source_db)
    env = {"DATABASE_URL": source_db.uri}

    # a 5-day backfill that ends before the empty day: all written
    backfill_end = empty - timedelta(days=0)
    backfill = run_cli(
        ["backfill", "--start", str(backfill_end - timedelta(days=4)), "--end", str(backfill_end)],
        env=env,
    )
    assert backfill.returncode == 0, backfill.stderr
    # a backfill tells how far its build is, on stderr only
    progress = re.findall(r"build of \S+ to \S+: (\d+) of (\d+) nodes done", backfill.stderr)
    assert progress and progress[-1][0] == progress[-1][1]
    assert "nodes done" not in backfill.stdout
    # the as-of date whose window holds the empty session day: activation withheld
    withheld = run_cli(["run", "--as-of", str(AS_OF)], env=env)
    assert withheld.returncode == ExitCode.DATA_MISSING, withheld.stderr
    # another run holds the job's lock: this one fails after connecting
    failed, _ = run_while_another_run_holds_the_lock(
        source_db, ["run", "--as-of", str(AS_OF), "--lock-timeout", "1s"]
    )
    assert failed.returncode == ExitCode.LOCK_TIMEOUT, failed.stderr
    # a build that fails (every statement cancelled after 1 ms): a failed run, exit 1
    broken = run_cli(["run", "--as-of", str(AS_OF), "--statement-timeout", "0.001s"], env=env)
    assert broken.returncode == ExitCode.BUILD_FAILED, broken.stderr
    # a dry run writes nothing, not even its history
    dry = run_cli(["run", "--as-of", str(AS_OF), "--dry-run", "--allow-missing-days"], env=env)
    assert dry.returncode == 0, dry.stderr
    # a database that cannot be reached leaves no row (there is nowhere to write it)
    unreachable = run_cli(
        ["run", "--as-of", str(AS_OF)],
        env={"DATABASE_URL": "postgresql://nobody@127.0.0.1:1/nowhere"},
    )
    assert unreachable.returncode == ExitCode.UNREACHABLE

    rows = history_rows(source_db)
    assert [(r["command"], r["status"], r["exit_code"]) for r in rows] == [
        ("backfill", "succeeded", 0),
        ("run", "withheld", ExitCode.DATA_MISSING),
        ("run", "failed", ExitCode.LOCK_TIMEOUT),
        ("run", "failed", ExitCode.BUILD_FAILED),
    ]
    first, second, third, fourth = rows
    assert "statement timeout" in fourth["problems"]
    # the build never reached its counts: nothing it could report as read
    assert (fourth["facts_written"], fourth["rows_read"]) == (0, {})
    assert (first["facts_written"], first["facts_withheld"], first["facts_kept"]) == (10, 0, 0)
    assert (first["as_of_start_date"], first["as_of_end_date"]) == (
        backfill_end - timedelta(days=4),
        backfill_end,
    )
    assert len(first["windows"]) == 10
    assert {w["action"] for w in first["windows"]} == {"written"}
    # what it read, per stream, counted here from the source tables
    first_window = first["as_of_start_date"] - timedelta(days=7)
    look_back = first_window - timedelta(days=30)
    end = first["as_of_end_date"]
    counted = source_db.execute(
        """select
            (select count(*) from "DashboardFact" where "factType" = 'dashboard.session.opened'
                and "createdAt" >= %(window)s and "createdAt" < %(end)s),
            (select count(*) from "DashboardFact" where "factType" = 'chatwoot.escalations'
                and "createdAt" >= %(look_back)s and "createdAt" < %(end)s),
            (select count(*) from "DecisionLog" where scope = 'ops'
                and "createdAt" >= %(look_back)s and "createdAt" < %(end)s)""",
        {"window": first_window, "look_back": look_back, "end": end},
    )[0]
    assert first["rows_read"] == {
        "DashboardFact sessions": counted[0],
        "DashboardFact escalation snapshots": counted[1],
        "DecisionLog ops decisions": counted[2],
    }
    assert min(counted) > 0
    assert first["invocation_id"] and first["problems"] is None
    assert first["started_at <= finished_at"] and first["elapsed_seconds"] > 0
    assert first["dbt_version"].startswith("1.11.")

    assert (second["facts_written"], second["facts_withheld"]) == (1, 1)
    by_fact = {w["factType"]: w for w in second["windows"]}
    assert by_fact[ACTIVATION_FACT_TYPE]["action"] == "withheld"
    assert by_fact[ACTIVATION_FACT_TYPE]["missingSourceDays"]["dashboardSessions"] == [str(empty)]
    assert by_fact[SLA_FACT_TYPE]["action"] == "written"
    stored_sla = source_db.fact(SLA_FACT_TYPE, AS_OF)["metadata"]
    assert (
        by_fact[SLA_FACT_TYPE]["breachCandidatesRejected"]
        == (stored_sla["breachCandidatesRejected"])
    )
    assert str(empty) in second["problems"]

    assert (third["facts_written"], third["windows"], third["invocation_id"]) == (0, [], None)
    assert "--lock-timeout" in third["problems"]

    # `history` prints them, newest first; --json gives the same rows
    printed = run_cli(["history", "--limit", "3"], env=env)
    assert printed.returncode == 0, printed.stderr
    lines = printed.stdout.splitlines()
    assert lines[0].split()[:4] == ["started", "(UTC)", "command", "as-of"]
    assert "failed (1)" in lines[2] and "failed (5)" in lines[3] and "withheld (4)" in lines[4]
    assert len([line for line in lines[2:] if line[:4].isdigit()]) == 3
    problems = lines[lines.index("problems reported:") + 1 :]
    assert len(problems) == 3 and "statement timeout" in problems[0]
    as_json = json.loads(run_cli(["history", "--json"], env=env).stdout)
    assert [r["status"] for r in as_json] == ["failed", "failed", "withheld", "succeeded"]
    assert as_json[3]["as_of_end_date"] == str(backfill_end)


def test_the_history_survives_a_full_refresh_and_its_data_tests_run(source_db, tmp_path):
    env = {"DATABASE_URL": source_db.uri}
    source_db.add_session("shop-a", datetime(2026, 11, 25, 9))
    assert run_cli(["run", "--as-of", str(AS_OF)], env=env).returncode == 0
    with dbt_invoke.dbt_session(source_db.settings, project.TARGET_SCHEMA_DEFAULT) as dbt:
        outcome = dbt(["build", "--full-refresh", "--select", "source:runner.job_runs"])
    assert outcome.success, (outcome.failed_nodes, outcome.failed_tests, outcome.exception)
    assert len(history_rows(source_db)) == 1
    # a row that breaks the table's rules fails its data test
    source_db.execute(
        "insert into nightly_metrics.job_runs (run_id, command, status, started_at,"
        " finished_at, as_of_start_date, as_of_end_date, exit_code)"
        " values ('x', 'run', 'succeeded', now(), now() - interval '1 hour',"
        " current_date, current_date, 0)"
    )
    with dbt_invoke.dbt_session(source_db.settings, project.TARGET_SCHEMA_DEFAULT) as dbt:
        outcome = dbt(["test", "--select", "source:runner.job_runs"])
    # a warning: a bad history row must not fail the nights after it
    assert outcome.failed_tests == []
    assert [t.name for t in outcome.warned_tests] == ["job_runs_are_well_formed"]
    following = run_cli(["run", "--as-of", str(AS_OF)], env=env)
    assert following.returncode == 0, following.stderr
    assert "job_runs_are_well_formed" in following.stderr  # said, as a warning
    # a row with nothing but its id: both views still show the history
    source_db.execute("insert into nightly_metrics.job_runs (run_id) values ('empty')")
    printed = run_cli(["history"], env=env)
    assert printed.returncode == 0, printed.stderr
    assert len(printed.stdout.splitlines()) == 2 + 4, printed.stdout  # header, rule, 4 runs
    assert re.search(r"^-\s+-\s+-\s+- \(-\)\s+-\s+-\s+-\s+-\s+-$", printed.stdout, re.M), (
        printed.stdout
    )
    report = run_cli(["report", "--out", str(tmp_path / "report.html")], env=env)
    assert report.returncode == 0, report.stderr


def test_history_before_any_run(source_db):
    printed = run_cli(["history"], env={"DATABASE_URL": source_db.uri})
    assert printed.returncode == 0, printed.stderr
    assert printed.stdout.strip() == "no run recorded yet in nightly_metrics.job_runs"
