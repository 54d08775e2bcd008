"""Shared fixtures: one embedded PostgreSQL per test session, a fresh database
(with the application's source tables) per test."""

from __future__ import annotations

import contextlib
import gc
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import partial
from pathlib import Path

import psycopg
import pytest
from psycopg.types.json import Jsonb, set_json_loads

# Each test session, and so each pytest-xdist worker, keeps its own state
# (dbt's log, artifacts and parse cache, the docs site, the demo's data),
# set before nightly_metrics.paths reads it: two workers never share a file.
SESSION_STATE = Path(tempfile.mkdtemp(prefix="nightly-metrics-state-"))
os.environ["NIGHTLY_METRICS_HOME"] = str(SESSION_STATE)
os.environ["DBT_TARGET_PATH"] = str(SESSION_STATE / "dbt-target")

from nightly_metrics import job, project  # noqa: E402
from nightly_metrics.database_url import ConnectionSettings, parse_database_url  # noqa: E402
from nightly_metrics.embedded import start_server  # noqa: E402

# dbt and the runner, imported above, live as long as the worker; each dbt
# invocation makes and drops large object graphs. Frozen, the imported ones
# are no longer walked by every garbage collection (about 5 % of the CPU).
gc.freeze()

PROJECT_DIR = Path(__file__).resolve().parent.parent
DDL = (PROJECT_DIR / "nightly_metrics" / "sql" / "prisma_schema.sql").read_text()
TEMPLATE_DATABASE = "sources_template"


@pytest.fixture(scope="session")
def pg_server():
    data_root = Path(tempfile.mkdtemp(prefix="nightly-metrics-tests-"))
    server = start_server(data_root / "pgdata", cleanup_mode="delete")
    with psycopg.connect(server.get_uri(), autocommit=True) as conn:
        # A throw-away server: no crash to survive, so no waits for the disk.
        for setting in ("fsync", "synchronous_commit", "full_page_writes"):
            conn.execute(f"alter system set {setting} = off")
        conn.execute("select pg_reload_conf()")
        conn.execute(f'create database "{TEMPLATE_DATABASE}"')
    with psycopg.connect(server.get_uri(database=TEMPLATE_DATABASE), autocommit=True) as conn:
        conn.execute(DDL)
    yield server
    server.cleanup()
    shutil.rmtree(data_root, ignore_errors=True)


def decimal_json_connection(uri: str, **kwargs) -> psycopg.Connection:
    """A connection that reads JSON numbers as Decimal, so figures compare exactly."""
    conn = psycopg.connect(uri, **kwargs)
    set_json_loads(partial(json.loads, parse_float=Decimal), conn)
    return conn


@dataclass
class SourceDatabase:
    """A fresh database holding the application's two tables, with helpers to
    insert rows and run the job against it."""

    uri: str
    name: str

    @property
    def settings(self) -> ConnectionSettings:
        return parse_database_url(self.uri)

    def connect(self, **kwargs) -> psycopg.Connection:
        return decimal_json_connection(self.uri, **kwargs)

    def execute(self, query: str, params=None) -> list[tuple]:
        with self.connect(autocommit=True) as conn:
            cursor = conn.execute(query, params)
            return cursor.fetchall() if cursor.description else []

    def add_fact(
        self,
        shop_domain: str,
        fact_type: str,
        created_at: datetime,
        value=None,
        metadata=None,
        updated_at: datetime | None = None,
    ) -> int:
        return self.execute(
            'insert into "DashboardFact" ("shopDomain", "factType", value, metadata,'
            ' "createdAt", "updatedAt") values (%s, %s, %s, %s, %s, %s) returning id',
            (
                shop_domain,
                fact_type,
                Jsonb({} if value is None else value),
                None if metadata is None else Jsonb(metadata),
                created_at,
                updated_at or created_at,
            ),
        )[0][0]

    def add_session(self, shop_domain: str, created_at: datetime) -> int:
        return self.add_fact(shop_domain, "dashboard.session.opened", created_at, {"path": "/app"})

    def add_escalations(self, created_at: datetime, value, metadata, shop="shop-a") -> int:
        return self.add_fact(shop, "chatwoot.escalations", created_at, value, metadata)

    def add_decision(
        self,
        created_at: datetime,
        *,
        scope: str = "ops",
        shop_domain: str | None = None,
        external_ref: str | None = None,
    ) -> int:
        return self.execute(
            'insert into "DecisionLog" (scope, actor, action, "shopDomain", "externalRef",'
            ' "createdAt") values (%s, %s, %s, %s, %s, %s) returning id',
            (scope, "ops:test", "test", shop_domain, external_ref, created_at),
        )[0][0]

    def run(
        self, as_of: date, as_of_end: date | None = None, *, check: bool = True, **kwargs
    ) -> job.JobResult:
        """Runs the job; unless check=False, it must have written every fact (no
        missing source day, no failing data test)."""
        result = job.run_job(self.settings, as_of, as_of_end or as_of, **kwargs)
        if check:
            assert result.exit_code == 0, result.problems
        return result

    def aggregate_facts(self) -> list[dict]:
        """Every aggregate metric row in the table, oldest window first."""
        rows = self.execute(
            'select id, "factType", scope, value, metadata, "createdAt", "updatedAt"'
            ' from "DashboardFact" where "shopDomain" = %s and "factType" = any(%s)'
            ' order by "createdAt", "factType", id',
            ("__aggregate__", list(project.METRIC_FACT_TYPES)),
        )
        keys = ("id", "factType", "scope", "value", "metadata", "createdAt", "updatedAt")
        return [dict(zip(keys, row, strict=True)) for row in rows]

    def fact(self, fact_type: str, as_of: date) -> dict:
        """The one stored row of a fact type for an as-of date (its window's end)."""
        matches = [
            f
            for f in self.aggregate_facts()
            if f["factType"] == fact_type and f["createdAt"] == datetime(*as_of.timetuple()[:3])
        ]
        assert len(matches) == 1, f"expected one {fact_type} row for {as_of}, found {len(matches)}"
        return matches[0]

    def fact_value(self, fact_type: str, as_of: date) -> dict:
        return self.fact(fact_type, as_of)["value"]

    def non_aggregate_snapshot(self) -> list[tuple]:
        """Every row of the app's tables that is not ours, for before/after checks."""
        return self.execute(
            'select * from "DashboardFact" where not ("shopDomain" = %s and "factType" = any(%s))'
            " order by id",
            ("__aggregate__", list(project.METRIC_FACT_TYPES)),
        ) + self.execute('select * from "DecisionLog" order by id')


@pytest.fixture
def source_db(pg_server) -> SourceDatabase:
    """A fresh database for each test, under one name for the whole session: the
    name is part of dbt's profile and of the runner's parse-cache key, so one name
    lets each dbt invocation reuse the last one's parse (about 0.8 s instead of 3 s)."""
    name = f"test_{os.getpid()}"
    with psycopg.connect(pg_server.get_uri(), autocommit=True) as conn:
        conn.execute(f'drop database if exists "{name}" with (force)')
        conn.execute(f'create database "{name}" template "{TEMPLATE_DATABASE}"')
    yield SourceDatabase(uri=pg_server.get_uri(database=name), name=name)
    with psycopg.connect(pg_server.get_uri(), autocommit=True) as conn:
        conn.execute(f'drop database if exists "{name}" with (force)')


def cli_command(args: list[str]) -> list[str]:
    """The installed `nightly-metrics args`, as a process runs it."""
    return [sys.executable, "-m", "nightly_metrics.cli", *args]


def start_cli(args: list[str], env: dict[str, str] | None = None) -> subprocess.Popen:
    """Starts `nightly-metrics` in a subprocess and returns at once."""
    return subprocess.Popen(
        cli_command(args),
        env={**os.environ, **(env or {})},
        cwd=PROJECT_DIR,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


# What a command reads from its process as it starts, not as it runs:
# module-level paths, the temporary folder, the locale. A command given one of
# these runs in a process of its own.
PROCESS_SETTINGS = frozenset(
    {
        "HOME",
        "LANG",
        "LANGUAGE",
        "LC_ALL",
        "LC_MESSAGES",
        "NIGHTLY_METRICS_HOME",
        "NIGHTLY_METRICS_PROJECT_DIR",
        "PATH",
        "TMPDIR",
        "XDG_RUNTIME_DIR",
        "XDG_STATE_HOME",
    }
)
# The commands that start nothing that outlives them (demo and docs start servers).
IN_PROCESS_COMMANDS = frozenset({"run", "backfill", "history", "report"})


def run_cli(args: list[str], env: dict[str, str] | None = None, timeout: int = 300):
    """Runs `nightly-metrics args` with `env` added to the environment, as a cron
    would, and returns its exit code, stdout and stderr (a CompletedProcess).

    The job's commands run in this process, through the entry point's own
    `cli.main`: a new Python process would spend about 1.5 s of CPU importing
    dbt again, for each of the suite's ~100 commands. Whatever needs a process
    of its own gets one: a command given a process-level setting, the demo
    and docs, and anything off the main thread (signal handlers). The
    entry point itself, signals and exit statuses through the OS are tested
    with real processes (test_packaging, test_interrupts, test_exit_codes)."""
    env = env or {}
    if (
        args
        and args[0] in IN_PROCESS_COMMANDS
        and not PROCESS_SETTINGS & set(env)
        and threading.current_thread() is threading.main_thread()
    ):
        return run_cli_in_this_process(args, env)
    return subprocess.run(
        cli_command(args),
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=timeout,
        cwd=PROJECT_DIR,
    )


def run_cli_in_this_process(args: list[str], env: dict[str, str]):
    """cli.main(args) as `python -m nightly_metrics.cli` runs it, with its output
    captured and this process's signal handlers and logging restored after."""
    from nightly_metrics import cli, console, dbt_invoke

    stdout, stderr = io.StringIO(), io.StringIO()
    handlers = {number: signal.getsignal(number) for number in (signal.SIGINT, signal.SIGTERM)}
    logger_state = (list(console.LOGGER.handlers), console.LOGGER.level)
    try:
        with (
            dbt_invoke.temporary_environment(env),
            contextlib.redirect_stdout(stdout),
            contextlib.redirect_stderr(stderr),
        ):
            try:
                code = cli.main(args)
            except SystemExit as stop:  # argparse's usage errors
                code = stop.code if isinstance(stop.code, int) else int(stop.code is not None)
            except Exception:  # what an uncaught exception prints and exits with
                traceback.print_exc()
                code = 1
    finally:
        for number, handler in handlers.items():
            signal.signal(number, handler)
        console.LOGGER.handlers[:] = logger_state[0]
        console.LOGGER.setLevel(logger_state[1])
    return subprocess.CompletedProcess(
        ["nightly-metrics", *args], code, stdout.getvalue(), stderr.getvalue()
    )


@dataclass
class PgBouncer:
    """A real PgBouncer in transaction mode in front of the test server, as the
    application's hosted PostgreSQL offers it (port 6543, `?pgbouncer=true`)."""

    port: int
    process: subprocess.Popen
    folder: Path

    def url(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}?pgbouncer=true"

    def log_tail(self, lines: int = 60) -> str:
        """The pooler's own account of the last connections, for a failing assertion."""
        log = self.folder / "pgbouncer.log"
        text = log.read_text(errors="replace") if log.exists() else "(no log)"
        return "\n--- pgbouncer.log (tail) ---\n" + "\n".join(text.splitlines()[-lines:])


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def pgbouncer(pg_server):
    binary = shutil.which("pgbouncer") or shutil.which("pgbouncer", path="/usr/sbin")
    if binary is None:
        if os.environ.get("NIGHTLY_METRICS_REQUIRE_PGBOUNCER"):
            pytest.fail("pgbouncer is required here (CI) but not installed")
        pytest.skip("pgbouncer is not installed (Debian: apt-get install pgbouncer)")
    with psycopg.connect(pg_server.get_uri(), autocommit=True) as conn:
        server_port = conn.execute("show port").fetchone()[0]
        socket_dir = conn.execute("show unix_socket_directories").fetchone()[0].split(",")[0]
    folder = Path(tempfile.mkdtemp(prefix="nightly-metrics-pgbouncer-"))
    folder.chmod(0o755)
    port = _free_port()
    (folder / "userlist.txt").write_text('"postgres" ""\n')
    (folder / "pgbouncer.ini").write_text(
        "[databases]\n"
        f"* = host={socket_dir} port={server_port}\n"
        "[pgbouncer]\n"
        "listen_addr = 127.0.0.1\n"
        f"listen_port = {port}\n"
        "unix_socket_dir =\n"
        "auth_type = trust\n"
        f"auth_file = {folder / 'userlist.txt'}\n"
        "pool_mode = transaction\n"
        # A small hosted pooler's pool: far fewer server connections than the clients
        # a run opens one after another, so one client's leftovers meet the next.
        "default_pool_size = 10\n"
        "max_client_conn = 100\n"
        "ignore_startup_parameters = extra_float_digits,options\n"
    )
    command = [binary, str(folder / "pgbouncer.ini")]
    if os.geteuid() == 0:  # PgBouncer refuses to run as root
        command[1:1] = ["-u", pg_server.system_user]
        shutil.chown(folder, pg_server.system_user)
        for path in folder.iterdir():
            shutil.chown(path, pg_server.system_user)
    # PgBouncer logs every login to stderr: into a file, never an unread pipe, whose
    # 64 KiB fill up halfway through the suite and then freeze PgBouncer's one thread.
    with open(folder / "pgbouncer.log", "wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 20
    while True:
        try:
            with psycopg.connect(
                f"postgresql://postgres@127.0.0.1:{port}/postgres", connect_timeout=2
            ):
                break
        except psycopg.OperationalError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                process.wait()
                log_text = (folder / "pgbouncer.log").read_text(errors="replace")
                pytest.fail(f"pgbouncer did not start: {log_text}")
            time.sleep(0.2)
    yield PgBouncer(port, process, folder)
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
    shutil.rmtree(folder, ignore_errors=True)


def wait_for_waiting_sessions(conn: psycopg.Connection, count: int, seconds: float = 120) -> bool:
    """True once `count` sessions other than `conn`'s wait for a lock: the barrier
    tests use to show that runs really overlapped."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        waiting = conn.execute(
            "select count(distinct pid) from pg_locks where not granted and pid <> pg_backend_pid()"
        ).fetchone()[0]
        if waiting >= count:
            return True
        time.sleep(0.2)
    return False


def pytest_unconfigure(config):
    shutil.rmtree(SESSION_STATE, ignore_errors=True)


# The longest modules first, so that under pytest-xdist (make test: one
# module per worker at a time, in this order: --no-loadscope-reorder) no
# worker is left with a long one at the end while the other idles. Roughly
# longest first; every other module follows, in file order.
LONGEST_MODULES = (
    "test_spark_parity.py",
    "test_operations.py",
    "test_source_days_and_reruns.py",
    "test_sla_resolution.py",
    "test_breach_memory.py",
    "test_run_parameters.py",
    "test_interrupts.py",
    "test_application_data.py",
    "test_run_history.py",
    "test_docs_site.py",
    "test_exit_codes.py",
    "test_breach_payloads.py",
    "test_pooler.py",
    "test_report.py",
)


def pytest_collection_modifyitems(config, items):
    rank = {name: n for n, name in enumerate(LONGEST_MODULES)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))
