"""Runs the dbt project for a range of as-of dates and reports what it did.

The logic lives in the dbt models; this module only maps settings onto dbt's
programmatic runner, serializes concurrent runs, and reads back the result."""

from __future__ import annotations

import json
import os
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import psycopg

from . import history
from .console import log
from .database_url import ConnectionSettings
from .db import (
    LOCK_TIMEOUT_DEFAULT_SECONDS,
    check_sources,
    connect,
    connection_lost,
    drop_schema,
    run_lock,
)
from .dbt_invoke import (
    FAILED_RUNS_DIR,
    DbtOutcome,
    dbt_session,
    describe_parse,
    keep_failed_target,
)
from .errors import ExitCode, JobError
from .parse_cache import ParseCache
from .project import LOOKBACK_DAYS_DEFAULT, TARGET_SCHEMA_DEFAULT, WINDOW_DAYS
from .readback import (
    ROWS_READ_STREAMS,
    read_missing_days,
    read_rows_read,
    read_run_outcomes,
    read_stored_facts,
)
from .result import JobResult, Phases, describe_written, read_back_when_stopped
from .verdict import failed_build_error, judge


class Interruption:
    """The signal that stopped the run (set by the CLI's handler), for its history
    row, and what the run had committed by then (set by run_job), for the CLI."""

    signal_number: int | None = None
    committed: str | None = None


def run_job(
    settings: ConnectionSettings,
    as_of_start: date,
    as_of_end: date,
    *,
    command: str = "run",
    target_schema: str = TARGET_SCHEMA_DEFAULT,
    dry_run: bool = False,
    **options,
) -> JobResult:
    """Builds the project for the as-of range and reports what it did. A fact
    withheld for a missing source day gives a result with exit_code 4, a failed
    data test one with exit_code 1, the reasons in problems (the facts that were
    written are in facts all the same); a build that fails raises JobError.

    Whatever the outcome, a run that reached the database leaves one row in
    the run history (<target_schema>.job_runs, see history.py); a dry run
    leaves none. Options: see plan_run."""
    record = history.RunRecord(command, as_of_start, as_of_end)

    def finish(**outcome) -> None:
        if not dry_run:
            record_run(settings, target_schema, record, result=record.result, **outcome)

    try:
        result = _run_job(
            settings,
            as_of_start,
            as_of_end,
            record,
            target_schema=target_schema,
            dry_run=dry_run,
            **options,
        )
    except JobError as error:
        finish(exit_code=error.exit_code, problems=[str(error)])
        raise
    except Exception as error:
        # Not one of ours (a bug, a driver error): still a run that leaves its row.
        finish(exit_code=ExitCode.BUILD_FAILED, problems=[f"{type(error).__name__}: {error}"])
        raise
    except KeyboardInterrupt:
        # What it had committed stays: the CLI's last line and the history say it.
        Interruption.committed = describe_written(
            record.result or JobResult(as_of_start, as_of_end)
        )
        number = Interruption.signal_number
        finish(
            exit_code=128 + number if number else None,
            interrupted=True,
            problems=[f"stopped by a signal; {Interruption.committed}"],
        )
        raise
    finish(exit_code=result.exit_code, problems=result.problems)
    return result


def record_run(settings: ConnectionSettings, target_schema: str, record, **outcome) -> None:
    """Writes the run's history row, in a transaction of its own. A history that
    cannot be written is a warning: it never changes what the run reports."""
    if not record.reached_database:
        return
    try:
        with connect(settings, autocommit=True) as conn, conn.transaction():
            # set local: through a transaction pooler, a session setting would stay
            # behind on the server connection for its next client.
            conn.execute("set local statement_timeout = '30s'")
            history.insert(conn, target_schema, record.row(**outcome))
    except Exception as error:  # whatever it is, the run's outcome stands
        log(f"warning: the run's history row was not written: {' '.join(str(error).split())}")


@dataclass
class RunPlan:
    """What one run will do: its dates, schema, dbt vars and environment."""

    settings: ConnectionSettings
    as_of_start: date
    as_of_end: date
    target_schema: str
    dry_run: bool
    lookback_days: int
    allow_missing_days: bool
    quiet: bool
    lock_timeout_seconds: float
    vars_json: str
    environment: dict[str, str]

    @property
    def label(self) -> str:
        if self.as_of_start == self.as_of_end:
            return str(self.as_of_start)
        return f"{self.as_of_start} to {self.as_of_end}"

    @property
    def window_start(self) -> date:
        """The first day of the run's first window."""
        return self.as_of_start - timedelta(days=WINDOW_DAYS)

    @property
    def read_start(self) -> date:
        """The first day the run reads: its first window less the escalation look-back."""
        return self.window_start - timedelta(days=self.lookback_days)


def plan_run(
    settings: ConnectionSettings,
    as_of_start: date,
    as_of_end: date,
    *,
    target_schema: str = TARGET_SCHEMA_DEFAULT,
    dry_run: bool = False,
    allow_missing_days: bool = False,
    allow_fewer_rows: bool = False,
    rebuild_breach_memory: bool = False,
    min_daily_rows: int | None = None,
    lookback_days: int = LOOKBACK_DAYS_DEFAULT,
    quiet: bool = True,
    lock_timeout_seconds: float = LOCK_TIMEOUT_DEFAULT_SECONDS,
    statement_timeout_seconds: float | None = None,
    evidence_url: str | None = None,
) -> RunPlan:
    """The run's options as dbt vars. A dry run builds into a scratch schema of
    its own and skips the write-back, computing from a copy of the real run's
    remembered breaches (dbt's on-run-start makes it)."""
    variables = {
        "escalation_lookback_days": lookback_days,
        "write_back": not dry_run,
        "allow_missing_days": allow_missing_days,
        "allow_fewer_rows": allow_fewer_rows,
        "rebuild_breach_memory": rebuild_breach_memory,
        "breach_memory_schema": target_schema,
    }
    if min_daily_rows is not None:
        variables["missing_day_min_daily_rows"] = min_daily_rows
    if statement_timeout_seconds is not None:
        variables["statement_timeout_seconds"] = statement_timeout_seconds
    return RunPlan(
        settings,
        as_of_start,
        as_of_end,
        f"{target_schema}_dry_run" if dry_run else target_schema,
        dry_run,
        lookback_days,
        allow_missing_days,
        quiet,
        lock_timeout_seconds,
        json.dumps(variables),
        # The as-of dates travel in the environment, not in --vars: changed vars
        # make dbt parse the whole project again, and these change every night.
        {
            "NIGHTLY_METRICS_AS_OF_START": str(as_of_start),
            "NIGHTLY_METRICS_AS_OF_END": str(as_of_end),
            # else the environment's own, read by the write-back (evidence_url)
            **({"NIGHTLY_METRICS_EVIDENCE_URL": evidence_url} if evidence_url is not None else {}),
        },
    )


@dataclass
class Build:
    """What the build did, as read back from the tables under the run's lock."""

    outcome: DbtOutcome
    outcomes: list[dict]
    missing: dict
    lost: bool


def _run_job(
    settings: ConnectionSettings, as_of_start: date, as_of_end: date, record, **options
) -> JobResult:
    started = time.perf_counter()
    plan = plan_run(settings, as_of_start, as_of_end, **options)
    result = JobResult(as_of_start, as_of_end)
    record.result = result  # what is known so far, for the history row of a failed run
    log(
        f"as-of {plan.label}: windows from {plan.window_start}T00:00:00Z to"
        f" {as_of_end}T00:00:00Z{' (dry run: nothing is written)' if plan.dry_run else ''}"
    )
    with connect(settings, autocommit=True) as conn:
        check_sources(conn, settings.source_schema)
    # From here on the run leaves a history row. Not before: a URL naming the wrong
    # database (no application tables there) must not get our schema created in it.
    record.reached_database = True
    build = build_and_read_back(plan, result, record)
    tally(plan, result, build)
    if not build.outcome.success and (
        build.outcome.failed_nodes or (not build.outcome.failed_tests and not build.outcomes)
    ):
        raise failed_build_error(
            settings, build.outcome, build.lost, plan.label, describe_written(result)
        )
    verdict = judge(
        build.outcome, build.outcomes, build.missing, plan.allow_missing_days, plan.label
    )
    result.warnings = verdict.warnings
    for warning in verdict.warnings:
        log(warning)
    result.problems += [
        problem.replace("{written}", describe_written(result)) for problem in verdict.problems
    ]
    result.exit_code = verdict.exit_code
    result.elapsed_seconds = time.perf_counter() - started
    log(
        "time per phase: "
        + ", ".join(f"{name} {seconds:.2f}s" for name, seconds in result.phases.items())
        + describe_parse(result.files_parsed)
    )
    log(
        f'rows written to "DashboardFact": {result.rows_written}; kept as stored:'
        f" {result.rows_kept}; withheld: {verdict.withheld}; elapsed"
        f" {result.elapsed_seconds:.1f}s (dbt {result.dbt_seconds:.1f}s)"
    )
    return result


def build_and_read_back(plan: RunPlan, result: JobResult, record) -> Build:
    """Under the run's lock: parse, check freshness, build, and read back what this
    run computed and did, whatever the build's outcome (a test that fails after
    the marts model has run does not undo its write). Each run compiles into a
    folder of its own, so two runs started at once never share dbt's target/."""
    dbt_started = time.perf_counter()
    kept_target = FAILED_RUNS_DIR / f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{os.getpid()}"
    with (
        run_lock(plan.settings, plan.lock_timeout_seconds) as lock,
        read_back_when_stopped(plan.settings, result, plan.dry_run) as run_start,
        tempfile.TemporaryDirectory(prefix="nightly-metrics-target-") as tmp,
        dbt_session(
            plan.settings,
            plan.target_schema,
            quiet=plan.quiet,
            target_path=tmp,
            # the run's id, for the facts' evidence links (evidence_url)
            run_environment={**plan.environment, "NIGHTLY_METRICS_RUN_ID": record.run_id},
            progress=f"build of {plan.label}" if plan.as_of_start != plan.as_of_end else None,
            kept_target_path=kept_target,
        ) as dbt,
    ):
        # dbt's import and set-up, and the wait for another run's lock
        result.phases["start-up"] = time.perf_counter() - dbt_started
        run_start.since = start_computing(plan)
        outcome = parse_and_build(plan, dbt, Path(tmp), result)
        record.invocation_id = outcome.invocation_id
        result.dbt_seconds = time.perf_counter() - dbt_started
        if not outcome.success:
            keep_failed_target(Path(tmp), kept_target)
        lost = not outcome.success and connection_lost(lock)
        outcomes, missing = read_back(plan, result, run_start.since)
    return Build(outcome, outcomes, missing, lost)


def start_computing(plan: RunPlan) -> datetime:
    """The time from which the marts rows this run computes carry their
    generated_at: taken once this run holds the lock, so a run that waited for
    another reports its own rows only. A stopped dry run's leftovers go. The
    history table is made here, before the build whose data tests read it."""
    with connect(plan.settings, autocommit=True) as conn:
        since = conn.execute(
            "select cast(date_trunc('milliseconds', now() at time zone 'UTC') as timestamp)"
        ).fetchone()[0]
        if plan.dry_run:
            drop_schema(plan.settings, plan.target_schema, conn)
        history.ensure_table(conn, plan.target_schema)
    return since


def parse_and_build(plan: RunPlan, dbt, target: Path, result: JobResult) -> DbtOutcome:
    """The project is parsed once per run (dbt's partial parse copied in from the
    parse cache and back) and the manifest reused by every command."""
    phase = Phases(result.phases)
    cache = ParseCache(plan.settings, plan.target_schema, target, plan.vars_json)
    with phase("parse"):
        cache.restore()
        # The build writes the manifest its results are read with (0.25 s saved)
        parsed = dbt(["parse", "--no-write-json", "--vars", plan.vars_json])
        if parsed.success:
            cache.save()
    result.files_parsed = cache.files_parsed()
    manifest = parsed.result if parsed.success else None
    if plan.as_of_end >= datetime.now(UTC).date():
        # Freshness speaks of today's data: only a run that reaches today checks it.
        with phase("freshness"):
            freshness = dbt(["source", "freshness", "--vars", plan.vars_json], manifest)
        for line in freshness.freshness:
            log(f"source freshness: {line}")
    build_args = ["build", "--vars", plan.vars_json, "--exclude-resource-type", "unit_test"]
    with phase("build"):
        return dbt(build_args, manifest)


def read_back(plan: RunPlan, result: JobResult, since: datetime) -> tuple[list[dict], dict]:
    """What this run computed (the marts rows from `since` on) and wrote, still
    under the lock: a run waiting for it must not write rows this one could
    take for its own, nor use the dry-run schema while this one drops it."""
    start, end, schema = plan.as_of_start, plan.as_of_end, plan.target_schema
    try:
        with Phases(result.phases)("read-back"), connect(plan.settings, autocommit=True) as conn:
            outcomes = read_run_outcomes(conn, schema, start, end, since)
            if plan.dry_run:
                result.facts = [
                    {**o, "action": "written"} for o in outcomes if o["action"] == "written"
                ]
            else:
                result.facts = read_stored_facts(conn, plan.settings.source_schema, outcomes)
            # Counted by the build itself, only when it got as far as the marts
            # model: then the tables are this run's.
            missing = read_missing_days(conn, schema, start, end) if outcomes else {}
            if outcomes:
                result.rows_read = read_rows_read(
                    conn, schema, plan.window_start, plan.read_start, end
                )
            if plan.dry_run:
                # The dry run's schema is scratch: dropped, so nothing it read
                # (the raw JSON of rejected breach elements) outlives the run.
                drop_schema(plan.settings, schema, conn)
    except (JobError, psycopg.Error) as error:
        result.committed_unknown = not plan.dry_run
        raise JobError(
            f"the database went away during the run ({' '.join(str(error).split())});"
            f" {describe_written(result)}",
            ExitCode.UNREACHABLE,
        ) from None
    return outcomes, missing


def tally(plan: RunPlan, result: JobResult, build: Build) -> None:
    """The result's counts, and the source rows read per stream, logged."""
    result.outcomes = build.outcomes
    result.missing_days = build.missing
    written = [f for f in result.facts if f["action"] == "written"]
    result.rows_written = 0 if plan.dry_run else len(written)
    result.rows_kept = sum(1 for f in result.facts if f["action"] == "kept")
    last_day = plan.as_of_end - timedelta(days=1)
    look_back = (
        f"{plan.read_start} to {last_day}, the windows and the {plan.lookback_days}-day look-back"
    )
    covers = {
        name: look_back if with_look_back else f"{plan.window_start} to {last_day}, the windows"
        for name, with_look_back in ROWS_READ_STREAMS.values()
    }
    for source_name, count in result.rows_read.items():
        log(f"rows read: {source_name}: {count} ({covers[source_name]})")
