"""The runner's own connections: connect (a failure classified by its
exit code), check that the application's tables are there and writable,
the run lock, and dropping the dry run's scratch schema."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg import sql

from . import project
from .console import log
from .database_url import ConnectionSettings
from .errors import ExitCode, JobError, classify, classify_connection_failure


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
        if code == ExitCode.CONFIG:
            raise JobError(
                f"the database at {settings.describe()} refused the connection: {reason}"
                " (check the user, password and database name in DATABASE_URL)",
                ExitCode.CONFIG,
            ) from None
        raise JobError(
            f"cannot connect to the database at {settings.describe()}: {reason}", code
        ) from None


def check_sources(conn: psycopg.Connection, schema: str) -> None:
    """Fails with a configuration error when the app's tables are not where
    DATABASE_URL says they are, or the database takes no writes. Their columns
    (names and types) are checked by dbt's on-run-start hook (the macro
    check_source_columns), from the one definition in the dbt sources."""
    for table in project.source_tables():
        found = conn.execute(
            "select to_regclass(format('%%I.%%I', %s::text, %s::text)) is not null",
            (schema, table),
        ).fetchone()[0]
        if not found:
            raise JobError(
                f'table "{table}" not found in schema "{schema}": check DATABASE_URL '
                "(and its ?schema= parameter)",
                ExitCode.CONFIG,
            )
    check_writable(conn)


def dashboard_fact_query(query: str, schema: str) -> sql.Composed:
    """A query of the application's "DashboardFact" written with the sources'
    names in braces ({facts} the table, {createdAt} a column, ...), composed
    with the names its database uses (project.app_column)."""
    columns = ("id", "shopDomain", "factType", "value", "metadata", "createdAt", "updatedAt")
    return sql.SQL(query).format(
        facts=sql.Identifier(schema, project.app_table("dashboard_fact")),
        **{c: sql.Identifier(project.app_column("dashboard_fact", c)) for c in columns},
    )


@contextmanager
def utc_transaction(conn: psycopg.Connection) -> Iterator[None]:
    """A transaction whose times read in UTC, as dbt's do (the macro
    set_transaction_settings): a timestamptz column then reads, and compares
    with our UTC timestamps, as the instant it holds, whatever time zone the
    database sets. LOCAL, so nothing stays behind on a pooled connection."""
    with conn.transaction():
        conn.execute("set local time zone 'UTC'")
        yield


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
            ExitCode.CONFIG,
        )


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
                    ExitCode.LOCK_TIMEOUT,
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
                    ExitCode.LOCK_TIMEOUT,
                ) from None
            log("the other run has finished; going on")
    except psycopg.OperationalError as error:
        raise JobError(
            f"the database went away while the run took its lock: {' '.join(str(error).split())}",
            ExitCode.UNREACHABLE,
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
        return classify(error.sqlstate, connection_lost=lost) == ExitCode.UNREACHABLE
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
