"""Runs the dbt project for a range of as-of dates and reports what it did.

The logic lives in the dbt models; this module only maps settings onto dbt's
programmatic runner, serializes concurrent runs, and reads back the result."""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import ClassVar

import psycopg
from psycopg import sql

from . import history
from .database_url import ConnectionSettings
from .errors import ExitCode, classify, classify_connection_failure
from .paths import LOG_DIR, PARSE_CACHE_DIR, PROJECT_DIR

TARGET_SCHEMA_DEFAULT = "nightly_metrics"
METRIC_FACT_TYPES = ("metrics.activation.rolling7d", "metrics.sla_resolution.rolling7d")
WINDOW_DAYS = 7
LOOKBACK_DAYS_DEFAULT = 30

# Exit codes, listed in the README (errors.ExitCode; these names are older).
EXIT_OK = ExitCode.OK
EXIT_BUILD_FAILED = ExitCode.BUILD_FAILED
EXIT_CONFIG = ExitCode.CONFIG
EXIT_DATABASE_UNREACHABLE = ExitCode.UNREACHABLE
EXIT_SOURCE_DAY_MISSING = ExitCode.DATA_MISSING
EXIT_LOCK_TIMEOUT = ExitCode.LOCK_TIMEOUT
EXIT_INTERRUPTED = ExitCode.SIGINT  # Ctrl+C; 143 for SIGTERM


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
    rows_kept: int = 0
    elapsed_seconds: float = 0.0
    dbt_seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)
    # What the marts model decided per fact (written, withheld or kept).
    outcomes: list[dict] = field(default_factory=list)
    # Source days that never arrived, per stream: [(day, expected daily rows)].
    missing_days: dict = field(default_factory=dict)
    # Seconds per phase: start-up (dbt's import and set-up, and any wait for
    # another run's lock), parse, freshness, build, read-back.
    phases: dict[str, float] = field(default_factory=dict)
    # (files dbt parsed, files in the project): (0, n) when the parse was reused.
    files_parsed: tuple[int, int] | None = None
    # Why the run did not do everything it should; exit_code says how bad.
    problems: list[str] = field(default_factory=list)
    exit_code: int = 0
    # Set when a stopped or failed run could not read back what it had committed.
    committed_unknown: bool = False


QUIET = False  # --quiet: only errors on stderr (set by the CLI)


def log(message: str) -> None:
    """Progress goes to stderr, so stdout can carry --json output alone."""
    if not QUIET:
        print(f"nightly-metrics: {message}", file=sys.stderr, flush=True)


def use_colors() -> bool:
    """ANSI colours only for a person at a terminal, never in a cron log."""
    return sys.stderr.isatty() and not os.environ.get("NO_COLOR")


def connect(settings: ConnectionSettings, **kwargs) -> psycopg.Connection:
    """A connection of the runner's own. No prepared statements: a transaction
    pooler may run the next statement on another server connection."""
    try:
        return psycopg.connect(
            **settings.libpq_kwargs(),
            application_name="nightly-metrics",
            prepare_threshold=None,
            **kwargs,
        )
    except psycopg.OperationalError as error:
        # libpq's message spans lines ("Connection refused" / "Is the server running
        # ..."): one line, its parts separated as sentences.
        lines = [" ".join(line.split()) for line in str(error).splitlines() if line.strip()]
        reason = "; ".join(lines) or "no reason given"
        if settings.password:
            reason = reason.replace(settings.password, "***")
        # Told apart by the shape of libpq's message, not its (translatable) words:
        # see errors.classify_connection_failure and the README's exit codes.
        code = classify_connection_failure(
            str(error),
            error.sqlstate,
            needs_password=bool(getattr(error.pgconn, "needs_password", False)),
        )
        if code == EXIT_CONFIG:
            raise JobError(
                f"the database at {settings.describe()} refused the connection: {reason}"
                " (check the user, password and database name in DATABASE_URL)",
                EXIT_CONFIG,
            ) from None
        raise JobError(
            f"cannot connect to the database at {settings.describe()}: {reason}", code
        ) from None


# The application's columns the models read (and the write sets).
SOURCE_COLUMNS = {
    "DashboardFact": (
        "id",
        "shopDomain",
        "factType",
        "scope",
        "value",
        "metadata",
        "createdAt",
        "updatedAt",
    ),
    "DecisionLog": ("id", "scope", "actor", "action", "shopDomain", "externalRef", "createdAt"),
}


def check_sources(conn: psycopg.Connection, schema: str) -> None:
    """Fails with a configuration error when the app's tables or columns are not
    where DATABASE_URL says they are, or the database takes no writes."""
    for table, columns in SOURCE_COLUMNS.items():
        found = conn.execute(
            "select attname from pg_attribute where attrelid ="
            " to_regclass(format('%%I.%%I', %s::text, %s::text)) and attnum > 0"
            " and not attisdropped",
            (schema, table),
        ).fetchall()
        if not found:
            raise JobError(
                f'table "{table}" not found in schema "{schema}": check DATABASE_URL '
                "(and its ?schema= parameter)",
                EXIT_CONFIG,
            )
        missing = [c for c in columns if c not in {name for (name,) in found}]
        if missing:
            names = ", ".join(f'"{column}"' for column in missing)
            raise JobError(
                f"column(s) {names} not found"
                f' in table "{table}" of schema "{schema}": is DATABASE_URL the application\'s'
                " database, and have its migrations run?",
                EXIT_CONFIG,
            )
    check_writable(conn)


def check_writable(conn: psycopg.Connection) -> None:
    """A standby, or a database with default_transaction_read_only, takes no
    writes: a configuration error (the URL names the wrong server), not a retry."""
    read_only, standby = conn.execute(
        "select current_setting('transaction_read_only'), pg_is_in_recovery()"
    ).fetchone()
    if read_only == "on" or standby:
        why = "a standby in recovery" if standby else "transaction_read_only is on"
        raise JobError(
            f"the database is read-only ({why}): DATABASE_URL must name the primary",
            EXIT_CONFIG,
        )


ROWS_READ_STREAMS = {
    # stream of int_source_stream_days: (name in logs and history, read from the look-back)
    "dashboard_sessions": ("DashboardFact sessions", False),
    "escalation_snapshots": ("DashboardFact escalation snapshots", True),
    "ops_decisions": ("DecisionLog ops decisions", True),
}


def read_rows_read(
    conn: psycopg.Connection, target_schema: str, start: date, end: date, lookback_days: int
) -> dict[str, int]:
    """Source rows the run's windows read, per stream, from the build's own daily
    counts (int_source_stream_days): sessions over the windows, escalation snapshots
    and ops decisions over the windows and the escalation look-back before them."""
    window_start = start - timedelta(days=WINDOW_DAYS)
    read_start = window_start - timedelta(days=lookback_days)
    rows = conn.execute(
        sql.SQL(
            """
            select
                stream,
                coalesce(sum(row_count) filter (where row_date >= %(window_start)s), 0),
                coalesce(sum(row_count) filter (where row_date >= %(read_start)s), 0)
            from {days}
            where row_date < %(end)s
            group by stream
            """
        ).format(days=sql.Identifier(target_schema, "int_source_stream_days")),
        {"window_start": window_start, "read_start": read_start, "end": end},
    ).fetchall()
    counted = {stream: (in_windows, in_read) for stream, in_windows, in_read in rows}
    return {
        name: int(counted.get(stream, (0, 0))[1 if with_look_back else 0])
        for stream, (name, with_look_back) in ROWS_READ_STREAMS.items()
    }


def read_run_outcomes(
    conn: psycopg.Connection,
    target_schema: str,
    start: date,
    end: date,
    computed_since: datetime,
) -> list[dict]:
    """What this run decided for each fact of its dates, from the marts model:
    only rows it computed itself (generated_at from this run on), so a build
    that never reached the model reports nothing instead of an older run."""
    mart = sql.Identifier(target_schema, "fct_ops_metrics_rolling7d")
    exists = conn.execute(
        "select to_regclass(%s)", (f'"{target_schema}"."fct_ops_metrics_rolling7d"',)
    ).fetchone()[0]
    if exists is None:
        return []
    rows = conn.execute(
        sql.SQL(
            """
            select metric_fact_type, window_start_at, window_end_at, write_action,
                source_rows_read, stored_source_rows_read, fact_value, fact_metadata
            from {mart}
            where as_of_date between %(start)s and %(end)s
              and generated_at >= %(since)s
            order by window_end_at, metric_fact_type
            """
        ).format(mart=mart),
        {"start": start, "end": end, "since": computed_since},
    ).fetchall()
    keys = (
        "factType",
        "windowStart",
        "createdAt",
        "action",
        "sourceRowsRead",
        "storedSourceRowsRead",
        "value",
        "metadata",
    )
    return [dict(zip(keys, row, strict=True)) for row in rows]


def read_stored_facts(conn: psycopg.Connection, schema: str, outcomes: list[dict]) -> list[dict]:
    """This run's own rows of "DashboardFact": one of our fact types, shopDomain
    '__aggregate__' and createdAt equal to the window end of one of the run's
    facts that it wrote or kept. Any other aggregate row (the earlier script's,
    with its own shapes and createdAt at run time) is never read."""
    ours = [o for o in outcomes if o["action"] in ("written", "kept")]
    if not ours:
        return []
    actions = {(o["factType"], o["createdAt"]): o["action"] for o in ours}
    rows = conn.execute(
        sql.SQL(
            """
            select facts."factType", facts."createdAt", facts.value, facts.metadata,
                facts."updatedAt"
            from {facts} as facts
            inner join unnest(%(types)s::text[], %(ends)s::timestamp[])
                as keys (fact_type, window_end)
                on facts."factType" = keys.fact_type and facts."createdAt" = keys.window_end
            where facts."shopDomain" = '__aggregate__'
            order by facts."createdAt", facts."factType", facts.id
            """
        ).format(facts=sql.Identifier(schema, "DashboardFact")),
        {"types": [o["factType"] for o in ours], "ends": [o["createdAt"] for o in ours]},
    ).fetchall()
    return [
        {
            "factType": r[0],
            "createdAt": r[1],
            "value": r[2],
            "metadata": r[3],
            "updatedAt": r[4],
            "action": actions[(r[0], r[1])],
        }
        for r in rows
    ]


def read_committed_facts(
    conn: psycopg.Connection, schema: str, start: date, end: date, since: datetime
) -> list[dict]:
    """This run's own rows of "DashboardFact" as committed, read from the table
    itself (after a stop the marts model may say nothing): our fact types,
    shopDomain '__aggregate__', createdAt a window end of the run's dates, and
    updatedAt from `since` on, a time taken once the run held its lock."""
    rows = conn.execute(
        sql.SQL(
            """
            select "factType", "createdAt", value, metadata, "updatedAt"
            from {facts}
            where "shopDomain" = '__aggregate__'
              and "factType" = any(%(types)s)
              and "createdAt" between %(start)s and %(end)s
              and "createdAt" = date_trunc('day', "createdAt")
              and "updatedAt" >= %(since)s
            order by "createdAt", "factType"
            """
        ).format(facts=sql.Identifier(schema, "DashboardFact")),
        {
            "types": list(METRIC_FACT_TYPES),
            "start": datetime.combine(start, datetime.min.time()),
            "end": datetime.combine(end, datetime.min.time()),
            "since": since,
        },
    ).fetchall()
    keys = ("factType", "createdAt", "value", "metadata", "updatedAt")
    return [{**dict(zip(keys, row, strict=True)), "action": "written"} for row in rows]


def read_back_committed(settings: ConnectionSettings, result: JobResult, since: datetime) -> None:
    """After a stop (a signal, a lost connection, a failure): the rows the run
    had committed become its facts, for its report and its history row. When the
    database cannot tell, the result says so (committed_unknown), never "nothing"."""
    try:
        with connect(settings, autocommit=True) as conn:
            facts = read_committed_facts(
                conn, settings.source_schema, result.as_of_start, result.as_of_end, since
            )
    except (JobError, psycopg.Error):
        result.committed_unknown = True
        return
    result.committed_unknown = False
    result.facts = facts
    result.rows_written = len(facts)
    result.outcomes = result.outcomes or facts


@dataclass
class RunStart:
    """When the run started computing, once it held the lock (None before)."""

    since: datetime | None = None


@contextmanager
def read_back_when_stopped(
    settings: ConnectionSettings, result: JobResult, dry_run: bool
) -> Iterator[RunStart]:
    """Around the build: when a signal or a failure ends it, the rows the run had
    committed by then (from run_start.since on) become its facts. Entered inside
    the run's lock, so the read-back still holds it."""
    run_start = RunStart()
    try:
        yield run_start
    except BaseException:
        if not dry_run and run_start.since is not None:
            read_back_committed(settings, result, run_start.since)
        raise


def failed_build_error(
    settings: ConnectionSettings, outcome: DbtOutcome, lost: bool, label: str, written: str
) -> JobError:
    """Why the build failed, as a scheduler must know it: the database gone or
    refusing us now, read-only now (a failover to a standby), the run's
    connections lost; else the build's own failure (a model error, a timeout)."""
    try:
        with connect(settings, autocommit=True) as conn:
            check_writable(conn)
    except JobError as error:
        if error.exit_code == EXIT_DATABASE_UNREACHABLE:
            return JobError(
                f"the database went away during the run: {error}; {written}",
                EXIT_DATABASE_UNREACHABLE,
            )
        return JobError(f"dbt build failed for {label}: {error}; {written}", error.exit_code)
    except psycopg.Error as error:
        said = " ".join(str(error).split())
        return JobError(
            f"the database went away during the run: {said}; {written}",
            EXIT_DATABASE_UNREACHABLE,
        )
    if lost:
        return JobError(
            "the connection to the database was lost during the run (the server or a pooler"
            f" in between ended the run's sessions); {written}",
            EXIT_DATABASE_UNREACHABLE,
        )
    for _, message in outcome.failed_nodes:  # a setting a macro refused (exit 2)
        if CONFIGURATION_ERROR in message:
            said = message[message.index(CONFIGURATION_ERROR) :].splitlines()[0].strip()
            return JobError(f"{said}; {written}", EXIT_CONFIG)
    details = "; ".join(f"{name}: {message}" for name, message in outcome.failed_nodes)
    return JobError(
        f"dbt build failed for {label}: {details or outcome.exception or 'see logs/dbt.log'}"
        f"; {written}",
        EXIT_BUILD_FAILED,
    )


def read_missing_days(
    conn: psycopg.Connection, target_schema: str, start: date, end: date
) -> dict[str, list[tuple[date, object]]]:
    """Every source day the check flagged in the run's windows, per stream, with
    the volume the stream had over its baseline (no cap on the count)."""
    rows = conn.execute(
        sql.SQL(
            """
            select stream, window_day, max(expected_daily_rows)
            from {checked}
            where is_missing and as_of_date between %(start)s and %(end)s
            group by stream, window_day
            order by stream, window_day
            """
        ).format(checked=sql.Identifier(target_schema, "int_source_days_checked")),
        {"start": start, "end": end},
    ).fetchall()
    missing: dict[str, list[tuple[date, object]]] = {}
    for stream, day, expected in rows:
        missing.setdefault(stream, []).append((day, expected))
    return missing


def describe_missing_days(missing: dict[str, list[tuple[date, object]]]) -> str:
    parts = []
    for stream, days in missing.items():
        expected = max(e for _, e in days)
        parts.append(
            f"{stream}: no rows on {len(days)} day(s) (the stream averaged {expected} a day"
            f" before): {', '.join(str(day) for day, _ in days)}"
        )
    return "; ".join(parts)


def window_label(outcome: dict) -> str:
    return f"{outcome['windowStart']:%Y-%m-%d} to {outcome['createdAt']:%Y-%m-%d}"


RUN_LOCK = "nightly_metrics.run"
LOCK_TIMEOUT_DEFAULT_SECONDS = 30 * 60


@contextmanager
def run_lock(
    settings: ConnectionSettings, timeout_seconds: float = LOCK_TIMEOUT_DEFAULT_SECONDS
) -> Iterator[psycopg.Connection]:
    """One run of the job at a time per database, for the whole dbt build (the
    write itself also takes a lock, for plain `dbt build` users).

    A transaction-level advisory lock, held by a transaction kept open until the
    build ends: through a transaction pooler that transaction keeps its server
    connection, and when this process ends, however it ends, the transaction
    and its lock end with it. (A session-level lock would stay behind on a
    pooled server connection and make the next night wait forever.) The wait
    for another run is bounded by `timeout_seconds`. Yields the lock's connection,
    whose state tells whether the run's connections were lost (connection_lost)."""
    conn = connect(settings)
    try:
        _take_run_lock(conn, timeout_seconds)
        yield conn
    finally:
        conn.close()  # ends the transaction, and the lock with it


def _take_run_lock(conn: psycopg.Connection, timeout_seconds: float) -> None:
    try:
        # The lock's transaction stays idle while dbt works on other connections,
        # and its wait is bounded by lock_timeout alone: no server or role
        # default may end either early.
        conn.execute("set local idle_in_transaction_session_timeout = 0")
        conn.execute("set local statement_timeout = 0")
        if conn.info.server_version >= 170000:
            conn.execute("set local transaction_timeout = 0")
        got = conn.execute("select pg_try_advisory_xact_lock(hashtext(%s))", (RUN_LOCK,))
        if not got.fetchone()[0]:
            if timeout_seconds < 0.001:  # PostgreSQL reads a lock_timeout of 0 as none
                raise JobError(
                    f"another run of the job holds its lock ({describe_lock_holder(conn)})"
                    " and --lock-timeout is 0; nothing was written",
                    EXIT_LOCK_TIMEOUT,
                )
            log(
                f"waiting for another run of the job ({describe_lock_holder(conn)}) to finish;"
                f" giving up after {format_duration(timeout_seconds)} (--lock-timeout)"
            )
            # PostgreSQL's limit for lock_timeout is 2^31 - 1 ms (about 24 days).
            milliseconds = min(max(1, round(timeout_seconds * 1000)), 2**31 - 1)
            conn.execute(f"set local lock_timeout = {milliseconds}")
            try:
                conn.execute("select pg_advisory_xact_lock(hashtext(%s))", (RUN_LOCK,))
            except (psycopg.errors.LockNotAvailable, psycopg.errors.QueryCanceled):
                raise JobError(
                    f"another run of the job still held its lock after"
                    f" {format_duration(timeout_seconds)} (--lock-timeout); nothing was written",
                    EXIT_LOCK_TIMEOUT,
                ) from None
            log("the other run has finished; going on")
    except psycopg.OperationalError as error:
        raise JobError(
            f"the database went away while the run took its lock: {' '.join(str(error).split())}",
            EXIT_DATABASE_UNREACHABLE,
        ) from None


def connection_lost(conn: psycopg.Connection) -> bool:
    """Whether the connection ended under us (a failover, a pooler restart,
    pg_terminate_backend), by its SQLSTATE or libpq's status, not its message.
    The run's lock holds one connection open for the whole build: when it is
    gone, dbt's were ended with it."""
    try:
        conn.execute("select 1")
    except psycopg.Error as error:
        lost = conn.broken or conn.closed
        return classify(error.sqlstate, connection_lost=lost) == EXIT_DATABASE_UNREACHABLE
    return False


def describe_lock_holder(conn: psycopg.Connection) -> str:
    """Who holds the job's lock, for the log: process, host and since when."""
    row = conn.execute(
        """
        select activity.pid, activity.client_addr, activity.application_name,
            activity.xact_start at time zone 'UTC'
        from pg_locks as locks
        inner join pg_stat_activity as activity on locks.pid = activity.pid
        where locks.locktype = 'advisory' and locks.granted and locks.objsubid = 1
          and (locks.classid::bigint << 32 | locks.objid::bigint) = hashtext(%s)::bigint
        """,
        (RUN_LOCK,),
    ).fetchone()
    if row is None:
        return "its lock holder is not visible to this role"
    pid, address, application, since = row
    where = f" from {address}" if address else ""
    name = f" '{application}'" if application else ""
    started = f", holding it since {since:%Y-%m-%d %H:%M:%S} UTC" if since else ""
    return f"server process {pid}{name}{where}{started}"


def format_duration(seconds: float) -> str:
    if seconds >= 3600 and seconds % 3600 == 0:
        return f"{seconds / 3600:g} h"
    if seconds >= 60 and seconds % 60 == 0:
        return f"{seconds / 60:g} min"
    return f"{seconds:g} s"


@contextmanager
def dbt_profiles_dir() -> Iterator[Path]:
    """profiles.example.yml reads every setting from the environment, so the
    runner uses it as is, from a private temporary folder."""
    if not (PROJECT_DIR / "dbt_project.yml").is_file():
        raise JobError(
            f"no dbt project in {PROJECT_DIR} (check NIGHTLY_METRICS_PROJECT_DIR)", EXIT_CONFIG
        )
    folder = Path(tempfile.mkdtemp(prefix="nightly-metrics-profiles-"))
    try:
        shutil.copy(PROJECT_DIR / "profiles.example.yml", folder / "profiles.yml")
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


class ParseCache:
    """dbt's partial-parse file (partial_parse.msgpack), kept between runs.

    A run compiles into a temporary target folder of its own; the file is
    copied in before `dbt parse` and the new one copied back after it, under a
    name of its own and then renamed, so concurrent runs never read a
    half-written file. One file per project folder, database and schema: dbt
    parses the whole project again when the profile, the vars, the project's
    files or dbt's version differ from the file's (it checks), so keeping one
    per database avoids needless re-parses when a machine serves several."""

    FILE_NAME = "partial_parse.msgpack"
    KEEP = 8  # databases whose parse is kept

    def __init__(self, settings: ConnectionSettings, target_schema: str, target_path: Path):
        identity = {
            key: value
            for key, value in settings.dbt_environment(target_schema).items()
            if "PASSWORD" not in key
        }
        key = hashlib.sha256(
            json.dumps([str(PROJECT_DIR), identity], sort_keys=True).encode()
        ).hexdigest()[:16]
        self.cached = PARSE_CACHE_DIR / key / self.FILE_NAME
        self.target_path = target_path

    def restore(self) -> None:
        # None yet, or unreadable: dbt then parses the whole project.
        with contextlib.suppress(OSError):
            shutil.copyfile(self.cached, self.target_path / self.FILE_NAME)

    def save(self) -> None:
        written = self.target_path / self.FILE_NAME
        if not written.is_file():
            return
        # A read-only state folder only costs the next run a full parse.
        with contextlib.suppress(OSError):
            self.cached.parent.mkdir(parents=True, exist_ok=True)
            partial = self.cached.with_name(f".{self.FILE_NAME}.{os.getpid()}")
            shutil.copyfile(written, partial)
            os.replace(partial, self.cached)
            self.forget_all_but_the_newest()

    @staticmethod
    def forget_all_but_the_newest(keep: int = KEEP) -> None:
        """Each file is a megabyte or two: keep those of the databases used last."""
        kept = sorted(
            (folder for folder in PARSE_CACHE_DIR.iterdir() if folder.is_dir()),
            key=lambda folder: folder.stat().st_mtime,
            reverse=True,
        )
        for folder in kept[keep:]:
            shutil.rmtree(folder, ignore_errors=True)

    def files_parsed(self) -> tuple[int, int] | None:
        """(files dbt parsed, files in the project) by the last `dbt parse`:
        (0, n) when it reused the cached parse unchanged."""
        try:
            info = json.loads((self.target_path / "perf_info.json").read_text())
            return int(info["parsed_path_count"]), int(info["path_count"])
        except (OSError, ValueError, KeyError, TypeError):
            return None


@dataclass
class FailedTest:
    name: str
    message: str
    failures_relation: str | None  # where dbt stored the failing rows, if it did
    kind: str = ""  # the generic test's name, e.g. "source_days_arrived"


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
    invocation_id: str | None = None  # dbt's id of the invocation (its logs and artifacts)


class DbtOutput(io.TextIOBase):
    """Where dbt's console lines go while it runs: stderr, until an interrupt
    mutes it, so Ctrl+C or SIGTERM ends with one line of ours rather than
    dbt's traceback of the interrupted threads."""

    active: ClassVar[set[DbtOutput]] = set()
    interrupted: ClassVar[bool] = False  # set by Ctrl+C or SIGTERM

    def __init__(self, target, *, muted: bool = False, paths: tuple[str, str] | None = None):
        super().__init__()
        self.target = target
        self.muted = muted
        self.paths = paths  # (the run's temporary target folder, where a failure keeps it)
        DbtOutput.active.add(self)

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        if not self.muted:
            if self.paths:
                text = text.replace(*self.paths)
            self.target.write(text)
            self.target.flush()
        return len(text)

    @classmethod
    def mute_all(cls) -> None:
        cls.interrupted = True
        for output in cls.active:
            output.muted = True


class BuildProgress:
    """dbt callback: progress of a long build on stderr ("12 of 27 nodes done, 40 s"),
    at most every few seconds and at the end, so a backfill is never a silent minute.
    Nothing of it goes to stdout."""

    EVERY_SECONDS = 5.0

    def __init__(self, label: str):
        self.label = label
        self.started = time.perf_counter()
        self.last_shown = self.started
        self.done = 0

    def __call__(self, event) -> None:
        name = event.info.name
        if name == "LogStartLine":  # "3 of 27 START ...": the build's node count
            self.total = getattr(event.data, "total", None) or self.total
            return
        if name != "NodeFinished":
            return
        self.done += 1
        now = time.perf_counter()
        finished = bool(self.total) and self.done >= self.total
        if now - self.last_shown >= self.EVERY_SECONDS or finished:
            self.last_shown = now
            of_total = f" of {self.total}" if self.total else ""
            log(f"{self.label}: {self.done}{of_total} nodes done, {now - self.started:.0f} s")

    total: int | None = None


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
    run_environment: dict[str, str] | None = None,
    progress: str | None = None,
    kept_target_path: Path | None = None,
) -> Iterator:
    """Yields invoke(args, manifest=None) -> DbtOutcome, with the connection
    settings (and run_environment, e.g. the as-of dates) in the environment for
    the duration and restored afterwards. Passing the manifest of an earlier
    `parse` skips parsing the project again. dbt's lines name files in
    target_path as in kept_target_path, where a failed run keeps them."""
    from dbt.cli.main import dbtRunner
    from dbt_common.invocation import get_invocation_id

    environment = {"DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    environment.update(settings.dbt_environment(target_schema))
    environment.update(run_environment or {})
    with temporary_environment(environment), dbt_profiles_dir() as profiles:

        def invoke(args: list[str], manifest=None) -> DbtOutcome:
            full_args = [
                *args,
                "--project-dir",
                str(PROJECT_DIR),
                "--profiles-dir",
                str(profiles),
                "--log-path",
                str(LOG_DIR),
                "--use-colors" if use_colors() else "--no-use-colors",
                "--no-use-colors-file",
            ]
            if target_path is not None:
                full_args += ["--target-path", str(target_path)]
            if quiet:
                full_args.append("--quiet")
            started = time.perf_counter()
            # dbt logs to stdout; ours is for results (--json), so its lines go
            # to stderr, through a stream that an interrupt can silence.
            paths = None
            if target_path is not None and kept_target_path is not None:
                paths = (str(target_path), str(kept_target_path))
            output = DbtOutput(sys.stderr, muted=QUIET, paths=paths)
            try:
                with redirect_stdout(output), redirect_stderr(output):
                    callbacks = [BuildProgress(progress)] if progress and args[0] == "build" else []
                    result = dbtRunner(manifest=manifest, callbacks=callbacks).invoke(full_args)
            finally:
                DbtOutput.active.discard(output)
            if isinstance(result.exception, KeyboardInterrupt) or DbtOutput.interrupted:
                # dbt caught Ctrl+C or SIGTERM and cancelled its queries.
                raise KeyboardInterrupt
            outcome = summarize(result, time.perf_counter() - started, settings)
            outcome.invocation_id = get_invocation_id()
            return outcome

        yield invoke


def invoke_dbt(
    args: list[str],
    settings: ConnectionSettings,
    target_schema: str,
    *,
    quiet: bool = True,
    target_path: str | Path | None = None,
    run_environment: dict[str, str] | None = None,
) -> DbtOutcome:
    """One dbt command, e.g. invoke_dbt(["docs", "generate"], ...)."""
    with dbt_session(
        settings,
        target_schema,
        quiet=quiet,
        target_path=target_path,
        run_environment=run_environment,
    ) as invoke:
        return invoke(args)


def without_compiled_paths(message: str) -> str:
    """dbt's messages point at compiled SQL in the run's temporary target folder,
    which is gone by the time anyone reads them: the SQL is in dbt.log."""
    lines = [line for line in message.splitlines() if "compiled code at" not in line]
    return "\n".join(lines).strip()


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
        resource_type = str(getattr(node, "resource_type", ""))
        test_kind = getattr(getattr(node, "test_metadata", None), "name", "") or ""
        if resource_type == "test" and status == "warn":
            warned_tests.append(
                FailedTest(
                    node.name,
                    (node_result.message or "").strip(),
                    getattr(node, "relation_name", None),
                    test_kind,
                )
            )
        if status not in ("fail", "error", "runtime error"):
            continue
        entry = (node.name, without_compiled_paths(node_result.message or ""))
        if resource_type == "test" and status == "fail":
            failed_tests.append(FailedTest(*entry, getattr(node, "relation_name", None), test_kind))
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
    """The test's name and what failed, with a few of its failing rows' messages."""
    if test.failures_relation:
        try:
            with connect(settings, autocommit=True) as conn:
                cursor = conn.execute(f"select * from {test.failures_relation} limit 5")
                columns = [column.name for column in cursor.description]
                rows = cursor.fetchall()
            if "failure_message" in columns:
                messages = [str(row[columns.index("failure_message")]) for row in rows]
                return f"{test.name}: {test.message} ({'; '.join(messages)})"
        except (JobError, psycopg.Error):
            pass
    return f"{test.name}: {test.message}"


MISSING_DAYS_TEST = "source_days_arrived"
# How the project's macros begin a message about a setting (macros/configuration.sql).
CONFIGURATION_ERROR = "configuration error:"


def describe_parse(files_parsed: tuple[int, int] | None) -> str:
    if files_parsed is None:
        return ""
    parsed, total = files_parsed
    if parsed == 0:
        return " (the parse of an earlier run reused)"
    return f" ({parsed} of {total} project files parsed)"


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
    withheld for a missing source day, or a failing data test, gives a result
    with exit_code 4 and the reasons in problems (the facts that were written
    are in facts all the same); a build that fails raises JobError.

    Whatever the outcome, a run that reached the database leaves one row in
    the run history (<target_schema>.job_runs, see history.py); a dry run
    leaves none. Options: see _run_job."""
    record = history.RunRecord(command, as_of_start, as_of_end)
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
        if not dry_run:
            record_run(
                settings,
                target_schema,
                record,
                exit_code=error.exit_code,
                problems=[str(error)],
                result=record.result,
            )
        raise
    except Exception as error:
        # Not one of ours (a bug, a driver error): still a run that leaves its row.
        if not dry_run:
            record_run(
                settings,
                target_schema,
                record,
                exit_code=EXIT_BUILD_FAILED,
                problems=[f"{type(error).__name__}: {error}"],
                result=record.result,
            )
        raise
    except KeyboardInterrupt:
        # What it had committed stays: the CLI's last line and the history say it.
        Interruption.committed = describe_written(
            record.result or JobResult(as_of_start, as_of_end)
        )
        if not dry_run:
            number = Interruption.signal_number
            record_run(
                settings,
                target_schema,
                record,
                exit_code=128 + number if number else None,
                interrupted=True,
                problems=[f"stopped by a signal; {Interruption.committed}"],
                result=record.result,
            )
        raise
    if not dry_run:
        record_run(
            settings,
            target_schema,
            record,
            exit_code=result.exit_code,
            problems=result.problems,
            result=result,
        )
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


def _run_job(
    settings: ConnectionSettings,
    as_of_start: date,
    as_of_end: date,
    record,
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
) -> JobResult:
    started = time.perf_counter()
    result = JobResult(as_of_start, as_of_end)
    record.result = result  # what is known so far, for the history row of a failed run
    label = str(as_of_start) if as_of_start == as_of_end else f"{as_of_start} to {as_of_end}"
    window_start = as_of_start - timedelta(days=WINDOW_DAYS)
    log(
        f"as-of {label}: windows from {window_start}T00:00:00Z to {as_of_end}T00:00:00Z"
        f"{' (dry run: nothing is written)' if dry_run else ''}"
    )

    with connect(settings, autocommit=True) as conn:
        check_sources(conn, settings.source_schema)
    # From here on the run leaves a history row. Not before: a URL naming the wrong
    # database (no application tables there) must not get our schema created in it.
    record.reached_database = True

    memory_schema = target_schema
    if dry_run:
        # A dry run builds into a schema of its own and skips the write-back,
        # so neither the app's table nor the real marts model changes. It
        # computes from a copy of the real run's remembered breaches (dbt's
        # on-run-start makes it), in a scratch schema made anew each time.
        target_schema = f"{target_schema}_dry_run"
    # The as-of dates travel in the environment, not in --vars: changed vars
    # make dbt parse the whole project again, and these change every night.
    as_of_environment = {
        "NIGHTLY_METRICS_AS_OF_START": str(as_of_start),
        "NIGHTLY_METRICS_AS_OF_END": str(as_of_end),
    }
    variables = {
        "escalation_lookback_days": lookback_days,
        "write_back": not dry_run,
        "allow_missing_days": allow_missing_days,
        "allow_fewer_rows": allow_fewer_rows,
        "rebuild_breach_memory": rebuild_breach_memory,
        "breach_memory_schema": memory_schema,
    }
    if min_daily_rows is not None:
        variables["missing_day_min_daily_rows"] = min_daily_rows
    if statement_timeout_seconds is not None:
        variables["statement_timeout_seconds"] = statement_timeout_seconds
    vars_json = json.dumps(variables)
    build_args = ["build", "--vars", vars_json, "--exclude-resource-type", "unit_test"]
    # Each run compiles into a folder of its own, so two runs started at once
    # never share dbt's target/; dbt's partial-parse file is copied in from
    # the parse cache and back. The project is parsed once per run and the
    # manifest reused by every command.
    dbt_started = time.perf_counter()
    phase = Phases(result.phases)
    kept_target = FAILED_RUNS_DIR / f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{os.getpid()}"
    with (
        run_lock(settings, lock_timeout_seconds) as lock,
        read_back_when_stopped(settings, result, dry_run) as run_start,
        tempfile.TemporaryDirectory(prefix="nightly-metrics-target-") as tmp,
        dbt_session(
            settings,
            target_schema,
            quiet=quiet,
            target_path=tmp,
            run_environment=as_of_environment,
            progress=f"build of {label}" if as_of_start != as_of_end else None,
            kept_target_path=kept_target,
        ) as dbt,
    ):
        # dbt's import and set-up, and the wait for another run's lock
        result.phases["start-up"] = time.perf_counter() - dbt_started
        # The marts rows this run computes carry a generated_at from here on
        # (taken once this run holds the lock, so a run that waited for another
        # reports its own rows only).
        with connect(settings, autocommit=True) as conn:
            computed_since = conn.execute(
                "select cast(date_trunc('milliseconds', now() at time zone 'UTC') as timestamp)"
            ).fetchone()[0]
            if dry_run:  # what a stopped dry run left behind
                drop_schema(settings, target_schema, conn)
        run_start.since = computed_since  # what a stopped run reads back from
        cache = ParseCache(settings, target_schema, Path(tmp))
        with phase("parse"):
            cache.restore()
            parsed = dbt(["parse", "--vars", vars_json])
            if parsed.success:
                cache.save()
        result.files_parsed = cache.files_parsed()
        manifest = parsed.result if parsed.success else None
        if as_of_end >= datetime.now(UTC).date():
            # Freshness speaks of today's data: only a run that reaches today checks it.
            with phase("freshness"):
                freshness = dbt(["source", "freshness", "--vars", vars_json], manifest)
            for line in freshness.freshness:
                log(f"source freshness: {line}")
        with phase("build"):
            outcome = dbt(build_args, manifest)
        record.invocation_id = outcome.invocation_id
        result.dbt_seconds = time.perf_counter() - dbt_started
        if not outcome.success:
            keep_failed_target(Path(tmp), kept_target)
        lost = not outcome.success and connection_lost(lock)

        # What this run computed and did, read back whatever the build's outcome
        # (a test that fails after the marts model has run does not undo its
        # write), still under the lock: a run waiting for it must not write
        # rows this one could take for its own, nor use the dry-run schema
        # while this one drops it.
        try:
            with phase("read-back"), connect(settings, autocommit=True) as conn:
                outcomes = read_run_outcomes(
                    conn, target_schema, as_of_start, as_of_end, computed_since
                )
                if dry_run:
                    result.facts = [
                        {**o, "action": "written"} for o in outcomes if o["action"] == "written"
                    ]
                else:
                    result.facts = read_stored_facts(conn, settings.source_schema, outcomes)
                missing = (
                    read_missing_days(conn, target_schema, as_of_start, as_of_end)
                    if outcomes
                    else {}
                )
                # Counted by the build itself (int_source_stream_days), only when
                # it got as far as the marts model: then the table is this run's.
                if outcomes:
                    result.rows_read = read_rows_read(
                        conn, target_schema, as_of_start, as_of_end, lookback_days
                    )
                if dry_run:
                    # The dry run's schema is scratch: dropped, so nothing it read
                    # (the raw JSON of rejected breach elements) outlives the run.
                    drop_schema(settings, target_schema, conn)
        except (JobError, psycopg.Error) as error:
            result.committed_unknown = not dry_run
            raise JobError(
                f"the database went away during the run ({' '.join(str(error).split())});"
                f" {describe_written(result)}",
                EXIT_DATABASE_UNREACHABLE,
            ) from None

    result.outcomes = outcomes
    result.missing_days = missing
    written = [f for f in result.facts if f["action"] == "written"]
    result.rows_written = 0 if dry_run else len(written)
    result.rows_kept = sum(1 for f in result.facts if f["action"] == "kept")
    last_day = as_of_end - timedelta(days=1)
    read_start = window_start - timedelta(days=lookback_days)
    look_back = f"{read_start} to {last_day}, the windows and the {lookback_days}-day look-back"
    covers = {
        name: look_back if with_look_back else f"{window_start} to {last_day}, the windows"
        for name, with_look_back in ROWS_READ_STREAMS.values()
    }
    for source_name, count in result.rows_read.items():
        log(f"rows read: {source_name}: {count} ({covers[source_name]})")

    if not outcome.success and (
        outcome.failed_nodes or (not outcome.failed_tests and not outcomes)
    ):
        raise failed_build_error(settings, outcome, lost, label, describe_written(result))

    for test in outcome.warned_tests:
        if test.kind != MISSING_DAYS_TEST:
            log(f"warning (run continued): {describe_failed_test(settings, test)}")
    if missing and allow_missing_days:
        log(
            "warning: source days that never arrived, written anyway (--allow-missing-days):"
            f" {describe_missing_days(missing)}"
        )
    for kept in (o for o in outcomes if o["action"] == "kept"):
        log(
            f"kept the stored {kept['factType']} of the window {window_label(kept)}: its"
            f" sources now read {kept['sourceRowsRead']} rows, {kept['storedSourceRowsRead']}"
            " when it was written (--allow-fewer-rows replaces it)"
        )
    withheld = [o for o in outcomes if o["action"] == "withheld"]
    if withheld:
        windows = sorted({o["createdAt"] for o in withheld})
        types = sorted({o["factType"] for o in withheld})
        result.problems.append(
            f"withheld {len(withheld)} fact(s) ({', '.join(types)}) in {len(windows)} window(s)"
            f" ending {windows[0]:%Y-%m-%d}"
            + (f" to {windows[-1]:%Y-%m-%d}" if len(windows) > 1 else "")
            + f" for source days that never arrived: {describe_missing_days(missing)}"
            + " (--allow-missing-days writes them)"
        )
    other_failures = [t for t in outcome.failed_tests if t.kind != MISSING_DAYS_TEST]
    if other_failures:
        details = "; ".join(describe_failed_test(settings, test) for test in other_failures)
        result.problems.append(
            f"data tests failed for {label}: {details}; {describe_written(result)}"
        )
    # Each code means one thing (the contract's "Exit codes"): a failed data test is
    # a failed build, to look at; 4 is only for source days that never arrived.
    if other_failures:
        result.exit_code = EXIT_BUILD_FAILED
    elif result.problems:
        result.exit_code = EXIT_SOURCE_DAY_MISSING

    result.elapsed_seconds = time.perf_counter() - started
    log(
        "time per phase: "
        + ", ".join(f"{name} {seconds:.2f}s" for name, seconds in result.phases.items())
        + describe_parse(result.files_parsed)
    )
    log(
        f'rows written to "DashboardFact": {result.rows_written}; kept as stored:'
        f" {result.rows_kept}; withheld: {len(withheld)}; elapsed"
        f" {result.elapsed_seconds:.1f}s (dbt {result.dbt_seconds:.1f}s)"
    )
    return result


FAILED_RUNS_DIR = LOG_DIR / "failed-runs"
FAILED_RUNS_KEPT = 5


def keep_failed_target(target: Path, kept: Path) -> None:
    """A failed build's compiled SQL (the files dbt's messages name) outlives the
    run's temporary target folder: copied to logs/failed-runs/, the last few kept."""
    try:
        kept.mkdir(parents=True, exist_ok=True)
        for folder in ("compiled", "run"):
            if (target / folder).is_dir():
                shutil.copytree(target / folder, kept / folder, dirs_exist_ok=True)
        runs = sorted(path for path in FAILED_RUNS_DIR.iterdir() if path.is_dir())
        for old in runs[:-FAILED_RUNS_KEPT]:
            shutil.rmtree(old, ignore_errors=True)
        log(f"the failed build's compiled SQL is kept in {kept}")
    except OSError as error:  # a read-only state folder: the SQL is in dbt.log too
        log(f"warning: the failed build's compiled SQL was not kept: {error}")


def drop_schema(
    settings: ConnectionSettings, schema: str, conn: psycopg.Connection | None = None
) -> None:
    """Drops a scratch schema (the dry run's) and all in it, if it exists."""
    statement = sql.SQL("drop schema if exists {} cascade").format(sql.Identifier(schema))
    if conn is not None:
        conn.execute(statement)
        return
    with connect(settings, autocommit=True) as own:
        own.execute(statement)


class Phases:
    """`with phase("parse"): ...` records the seconds the block took."""

    def __init__(self, into: dict[str, float]):
        self.into = into

    @contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.into[name] = time.perf_counter() - started


def describe_written(result: JobResult) -> str:
    """What the run had committed to "DashboardFact", per as-of date."""
    if result.committed_unknown:
        return "what the run had committed could not be read back"
    written = [f for f in result.facts if f["action"] == "written"]
    if result.rows_written == 0 or not written:
        return "nothing was written"
    dates = sorted({f["createdAt"].date() for f in written})
    if len(dates) == 1:
        return f'{len(written)} fact(s) were written to "DashboardFact" (as-of {dates[0]})'
    return (
        f"{len(written)} fact(s) of {len(dates)} as-of date(s) ({dates[0]} to {dates[-1]})"
        ' were written to "DashboardFact"'
    )
