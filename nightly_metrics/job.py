"""Runs the dbt project for a range of as-of dates and reports what it did.

The logic lives in the dbt models; this module only maps settings onto dbt's
programmatic runner, serializes concurrent runs, and reads back the result."""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stdout
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import psycopg
from psycopg import sql

from .database_url import ConnectionSettings

PROJECT_DIR = Path(__file__).resolve().parent.parent
TARGET_SCHEMA_DEFAULT = "nightly_metrics"
METRIC_FACT_TYPES = ("metrics.activation.rolling7d", "metrics.sla_resolution.rolling7d")
WINDOW_DAYS = 7
LOOKBACK_DAYS_DEFAULT = 30

# Exit codes, listed in the README.
EXIT_OK = 0
EXIT_BUILD_FAILED = 1
EXIT_CONFIG = 2
EXIT_DATABASE_UNREACHABLE = 3
EXIT_DATA_TEST_FAILED = 4


class JobError(Exception):
    def __init__(self, message: str, exit_code: int):
        super().__init__(message)
        self.exit_code = exit_code


@dataclass
class JobResult:
    as_of_start: date
    as_of_end: date
    facts: list[dict] = field(default_factory=list)
    rows_read: dict[str, int] = field(default_factory=dict)
    rows_written: int = 0
    elapsed_seconds: float = 0.0
    dbt_seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)


def log(message: str) -> None:
    """Progress goes to stderr, so stdout can carry --json output alone."""
    print(f"nightly-metrics: {message}", file=sys.stderr, flush=True)


def connect(settings: ConnectionSettings, **kwargs) -> psycopg.Connection:
    try:
        return psycopg.connect(**settings.libpq_kwargs(), **kwargs)
    except psycopg.OperationalError as error:
        reason = " ".join(str(error).split()) or "no reason given"
        if settings.password:
            reason = reason.replace(settings.password, "***")
        raise JobError(
            f"cannot connect to the database at {settings.describe()}: {reason}",
            EXIT_DATABASE_UNREACHABLE,
        ) from None


def check_sources(conn: psycopg.Connection, schema: str) -> None:
    """Fails with a configuration error when the app's tables are not where
    DATABASE_URL says they are."""
    for table in ("DashboardFact", "DecisionLog"):
        found = conn.execute(
            "select to_regclass(format('%%I.%%I', %s::text, %s::text))", (schema, table)
        ).fetchone()[0]
        if found is None:
            raise JobError(
                f'table "{table}" not found in schema "{schema}": check DATABASE_URL '
                "(and its ?schema= parameter)",
                EXIT_CONFIG,
            )


def count_rows_read(
    conn: psycopg.Connection, schema: str, start: date, end: date, lookback_days: int
) -> dict[str, int]:
    """Source rows in the run's read window, per source and kind."""
    window_start = start - timedelta(days=WINDOW_DAYS)
    read_start = window_start - timedelta(days=lookback_days)
    facts = sql.Identifier(schema, "DashboardFact")
    decisions = sql.Identifier(schema, "DecisionLog")
    row = conn.execute(
        sql.SQL(
            """
            select
                (select count(*) from {facts} where "factType" = 'dashboard.session.opened'
                    and "createdAt" >= %(window_start)s and "createdAt" < %(end)s),
                (select count(*) from {facts} where "factType" = 'chatwoot.escalations'
                    and "createdAt" >= %(read_start)s and "createdAt" < %(end)s),
                (select count(*) from {decisions} where scope = 'ops'
                    and "createdAt" >= %(read_start)s and "createdAt" < %(end)s)
            """
        ).format(facts=facts, decisions=decisions),
        {"window_start": window_start, "read_start": read_start, "end": end},
    ).fetchone()
    return {
        "DashboardFact sessions": row[0],
        "DashboardFact escalation snapshots": row[1],
        "DecisionLog ops decisions": row[2],
    }


def read_written_facts(conn: psycopg.Connection, schema: str, start: date, end: date) -> list[dict]:
    rows = conn.execute(
        sql.SQL(
            """
            select "factType", "createdAt", value, metadata, "updatedAt"
            from {facts}
            where "shopDomain" = '__aggregate__' and "factType" = any(%(types)s)
              and "createdAt" >= %(start)s and "createdAt" <= %(end)s
            order by "createdAt", "factType"
            """
        ).format(facts=sql.Identifier(schema, "DashboardFact")),
        {"types": list(METRIC_FACT_TYPES), "start": start, "end": end},
    ).fetchall()
    return [
        {"factType": r[0], "createdAt": r[1], "value": r[2], "metadata": r[3], "updatedAt": r[4]}
        for r in rows
    ]


def read_mart_facts(
    conn: psycopg.Connection, target_schema: str, start: date, end: date
) -> list[dict]:
    rows = conn.execute(
        sql.SQL(
            """
            select metric_fact_type, window_end_at, fact_value, fact_metadata
            from {mart}
            where as_of_date between %(start)s and %(end)s
            order by window_end_at, metric_fact_type
            """
        ).format(mart=sql.Identifier(target_schema, "fct_ops_metrics_rolling7d")),
        {"start": start, "end": end},
    ).fetchall()
    return [{"factType": r[0], "createdAt": r[1], "value": r[2], "metadata": r[3]} for r in rows]


@contextmanager
def run_lock(settings: ConnectionSettings) -> Iterator[None]:
    """One run of the job at a time per database: a session-level advisory lock
    held for the whole dbt build (the write itself also takes a
    transaction-level lock, for plain `dbt build` users)."""
    conn = connect(settings, autocommit=True)
    try:
        got = conn.execute(
            "select pg_try_advisory_lock(hashtext('nightly_metrics.run'))"
        ).fetchone()[0]
        if not got:
            log("another run of the job holds the lock; waiting for it to finish")
            conn.execute("select pg_advisory_lock(hashtext('nightly_metrics.run'))")
        yield
    finally:
        conn.close()


@contextmanager
def dbt_profiles_dir() -> Iterator[Path]:
    """profiles.example.yml reads every setting from the environment, so the
    runner uses it as is, from a private temporary folder."""
    folder = Path(tempfile.mkdtemp(prefix="nightly-metrics-profiles-"))
    try:
        shutil.copy(PROJECT_DIR / "profiles.example.yml", folder / "profiles.yml")
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@dataclass
class FailedTest:
    name: str
    message: str
    failures_relation: str | None  # where dbt stored the failing rows, if it did


@dataclass
class DbtOutcome:
    success: bool
    failed_tests: list[FailedTest]
    failed_nodes: list[tuple[str, str]]
    skipped: int
    exception: str | None
    seconds: float
    warned_tests: list[FailedTest] = field(default_factory=list)
    freshness: list[str] = field(default_factory=list)
    result: object = None  # dbt's own result: the Manifest, for `parse`


@contextmanager
def temporary_environment(values: dict[str, str]) -> Iterator[None]:
    """Sets environment variables for the duration, then restores them."""
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@contextmanager
def dbt_session(
    settings: ConnectionSettings,
    target_schema: str,
    *,
    quiet: bool = True,
    target_path: str | Path | None = None,
) -> Iterator:
    """Yields invoke(args, manifest=None) -> DbtOutcome, with the connection
    settings in the environment for the duration and restored afterwards.
    Passing the manifest of an earlier `parse` skips parsing the project again."""
    from dbt.cli.main import dbtRunner

    environment = {"DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    environment.update(settings.dbt_environment(target_schema))
    with temporary_environment(environment), dbt_profiles_dir() as profiles:

        def invoke(args: list[str], manifest=None) -> DbtOutcome:
            full_args = [
                *args,
                "--project-dir",
                str(PROJECT_DIR),
                "--profiles-dir",
                str(profiles),
            ]
            if target_path is not None:
                full_args += ["--target-path", str(target_path)]
            if quiet:
                full_args.append("--quiet")
            started = time.perf_counter()
            # dbt logs to stdout; ours is for results (--json), so its lines go to stderr.
            with redirect_stdout(sys.stderr):
                result = dbtRunner(manifest=manifest).invoke(full_args)
            return summarize(result, time.perf_counter() - started, settings)

        yield invoke


def invoke_dbt(
    args: list[str],
    settings: ConnectionSettings,
    target_schema: str,
    *,
    quiet: bool = True,
    target_path: str | Path | None = None,
) -> DbtOutcome:
    """One dbt command, e.g. invoke_dbt(["docs", "generate"], ...)."""
    with dbt_session(settings, target_schema, quiet=quiet, target_path=target_path) as invoke:
        return invoke(args)


def summarize(result, seconds: float, settings: ConnectionSettings) -> DbtOutcome:
    failed_tests: list[FailedTest] = []
    warned_tests: list[FailedTest] = []
    freshness: list[str] = []
    failed_nodes: list[tuple[str, str]] = []
    skipped = 0
    for node_result in getattr(result.result, "results", None) or []:
        status = str(node_result.status)
        node = node_result.node
        if status == "skipped":
            skipped += 1
        if hasattr(node_result, "max_loaded_at"):
            age_hours = (node_result.age or 0) / 3600
            freshness.append(
                f"{node.source_name}.{node.name}: newest row"
                f" {node_result.max_loaded_at:%Y-%m-%d %H:%M} UTC, {age_hours:.1f} h old ({status})"
            )
            continue
        if str(getattr(node, "resource_type", "")) == "test" and status == "warn":
            warned_tests.append(
                FailedTest(
                    node.name,
                    (node_result.message or "").strip(),
                    getattr(node, "relation_name", None),
                )
            )
        if status not in ("fail", "error", "runtime error"):
            continue
        kind = str(getattr(node, "resource_type", ""))
        entry = (node.name, (node_result.message or "").strip())
        if kind == "test" and status == "fail":
            failed_tests.append(FailedTest(*entry, getattr(node, "relation_name", None)))
        else:
            failed_nodes.append(entry)
    exception = None
    if result.exception is not None:
        exception = str(result.exception).strip()
        if settings.password:
            exception = exception.replace(settings.password, "***")
    return DbtOutcome(
        result.success,
        failed_tests,
        failed_nodes,
        skipped,
        exception,
        seconds,
        warned_tests,
        freshness,
        result.result,
    )


def describe_failed_test(settings: ConnectionSettings, test: FailedTest) -> str:
    """The test's name and what failed; for the missing-source-day tests, the days."""
    if test.failures_relation:
        try:
            with connect(settings, autocommit=True) as conn:
                cursor = conn.execute(f"select * from {test.failures_relation} limit 50")
                columns = [column.name for column in cursor.description]
                rows = cursor.fetchall()
            if "missing_day" in columns:
                days = sorted(str(row[columns.index("missing_day")]) for row in rows)
                return f"{test.name}: no rows on {len(days)} day(s): {', '.join(days)}"
        except (JobError, psycopg.Error):
            pass
    return f"{test.name}: {test.message}"


def run_job(
    settings: ConnectionSettings,
    as_of_start: date,
    as_of_end: date,
    *,
    target_schema: str = TARGET_SCHEMA_DEFAULT,
    dry_run: bool = False,
    allow_missing_days: bool = False,
    lookback_days: int = LOOKBACK_DAYS_DEFAULT,
    quiet: bool = True,
) -> JobResult:
    started = time.perf_counter()
    result = JobResult(as_of_start, as_of_end)
    label = str(as_of_start) if as_of_start == as_of_end else f"{as_of_start} to {as_of_end}"
    window_start = as_of_start - timedelta(days=WINDOW_DAYS)
    log(
        f"as-of {label}: windows from {window_start}T00:00:00Z to {as_of_end}T00:00:00Z"
        f"{' (dry run: nothing is written)' if dry_run else ''}"
    )

    with connect(settings, autocommit=True) as conn:
        check_sources(conn, settings.source_schema)
        result.rows_read = count_rows_read(
            conn, settings.source_schema, as_of_start, as_of_end, lookback_days
        )
    for source_name, count in result.rows_read.items():
        log(f"rows read: {source_name}: {count}")

    if dry_run:
        # A dry run builds into a schema of its own and skips the write-back,
        # so neither the app's table nor the real marts model changes.
        target_schema = f"{target_schema}_dry_run"
    variables = {
        "as_of_start": str(as_of_start),
        "as_of_end": str(as_of_end),
        "escalation_lookback_days": lookback_days,
        "write_back": not dry_run,
        "missing_source_days_severity": "warn" if allow_missing_days else "error",
    }
    vars_json = json.dumps(variables)
    build_args = ["build", "--vars", vars_json, "--exclude-resource-type", "unit_test"]
    # Each run compiles into a folder of its own, so two runs started at once
    # never share dbt's target/ (the as-of vars force a full parse anyway).
    # The project is parsed once and the manifest reused by every command.
    dbt_started = time.perf_counter()
    with (
        run_lock(settings),
        tempfile.TemporaryDirectory(prefix="nightly-metrics-target-") as tmp,
        dbt_session(settings, target_schema, quiet=quiet, target_path=tmp) as dbt,
    ):
        parsed = dbt(["parse", "--vars", vars_json])
        manifest = parsed.result if parsed.success else None
        if as_of_end >= datetime.now(UTC).date():
            # Freshness speaks of today's data: only a run that reaches today checks it.
            for line in dbt(["source", "freshness", "--vars", vars_json], manifest).freshness:
                log(f"source freshness: {line}")
        outcome = dbt(build_args, manifest)
    result.dbt_seconds = time.perf_counter() - dbt_started
    for test in outcome.warned_tests:
        log(f"warning (run continued): {describe_failed_test(settings, test)}")

    if not outcome.success:
        if outcome.failed_tests:
            details = "; ".join(
                describe_failed_test(settings, test) for test in outcome.failed_tests
            )
            raise JobError(
                f"data tests failed, nothing was written for {label}: {details}",
                EXIT_DATA_TEST_FAILED,
            )
        # A database that went away mid-run is reported as such.
        try:
            with connect(settings):
                pass
        except JobError as error:
            raise JobError(
                f"the database went away during the run: {error}", EXIT_DATABASE_UNREACHABLE
            ) from None
        details = "; ".join(f"{name}: {message}" for name, message in outcome.failed_nodes)
        raise JobError(
            f"dbt build failed for {label}: {details or outcome.exception or 'see logs/dbt.log'}",
            EXIT_BUILD_FAILED,
        )

    with connect(settings, autocommit=True) as conn:
        if dry_run:
            result.facts = read_mart_facts(conn, target_schema, as_of_start, as_of_end)
        else:
            result.facts = read_written_facts(
                conn,
                settings.source_schema,
                as_of_start,
                as_of_end,
            )
            result.rows_written = len(result.facts)
    result.elapsed_seconds = time.perf_counter() - started
    log(
        f'rows written to "DashboardFact": {result.rows_written}; '
        f"elapsed {result.elapsed_seconds:.1f}s (dbt {result.dbt_seconds:.1f}s)"
    )
    return result
