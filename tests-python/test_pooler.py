"""The job through the application's own kind of connection: a transaction pooler.

The application's DATABASE_URL is a hosted PostgreSQL's transaction pooler (`?pgbouncer=true`).
There, statements outside one transaction may run on different server connections, and
what a session leaves behind (a lock, a temporary table, a SET) stays on a server connection
that the next client gets. These tests run the job through a real PgBouncer in transaction
mode (the `pgbouncer` fixture): consecutive nightly runs, a backfill and two concurrent runs
must each finish and leave exactly one pair per window, with the oracle's figures and nothing
left behind on the server. Every run is bounded by a timeout: a hang fails the test.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import contract_oracle
import psycopg
from conftest import run_cli, start_cli, wait_for_waiting_sessions
from contract_oracle import ACTIVATION_FACT_TYPE, SLA_FACT_TYPE
from test_application_data import ApplicationDay

AS_OF = date(2026, 11, 28)
RUN_TIMEOUT = 300


def leftovers(db) -> dict[str, int]:
    """Session state left on the server by anyone: advisory locks, temporary tables."""
    return {
        "advisory locks": db.execute("select count(*) from pg_locks where locktype = 'advisory'")[
            0
        ][0],
        "temporary tables": db.execute(
            "select count(*) from pg_class where relpersistence = 't' and relkind = 'r'"
        )[0][0],
    }


def check_against_oracle(db, data: ApplicationDay, as_of_dates: list[date]) -> None:
    facts, decisions = data.oracle_inputs()
    ours = [f for f in db.aggregate_facts() if f["createdAt"].time() == datetime.min.time()]
    assert len(ours) == 2 * len(as_of_dates), ours
    for as_of in as_of_dates:
        expected = contract_oracle.expected_facts(facts, decisions, as_of)
        for fact_type in (ACTIVATION_FACT_TYPE, SLA_FACT_TYPE):
            assert db.fact_value(fact_type, as_of) == expected[fact_type], (as_of, fact_type)


def test_consecutive_runs_and_a_backfill_through_a_transaction_pooler(source_db, pgbouncer):
    data = ApplicationDay().build()
    data.insert(source_db)
    environment = {"DATABASE_URL": pgbouncer.url(source_db.name)}
    nights = [AS_OF - timedelta(days=1), AS_OF]
    for as_of in nights:
        result = run_cli(["run", "--as-of", str(as_of)], env=environment, timeout=RUN_TIMEOUT)
        assert result.returncode == 0, result.stderr
        assert "through a transaction pooler" in result.stderr
        assert leftovers(source_db) == {"advisory locks": 0, "temporary tables": 0}
    check_against_oracle(source_db, data, nights)

    start = AS_OF - timedelta(days=6)
    backfill = run_cli(
        ["backfill", "--start", str(start), "--end", str(AS_OF)],
        env=environment,
        timeout=RUN_TIMEOUT,
    )
    assert backfill.returncode == 0, backfill.stderr
    check_against_oracle(source_db, data, [start + timedelta(days=n) for n in range(7)])
    assert leftovers(source_db) == {"advisory locks": 0, "temporary tables": 0}


def test_two_runs_at_once_through_a_transaction_pooler(source_db, pgbouncer):
    data = ApplicationDay().build()
    data.insert(source_db)
    environment = {"DATABASE_URL": pgbouncer.url(source_db.name)}
    first = run_cli(["run", "--as-of", str(AS_OF)], env=environment, timeout=RUN_TIMEOUT)
    assert first.returncode == 0, first.stderr + pgbouncer.log_tail()

    # The barrier, held on a direct connection: the write's lock. One run waits there,
    # the other at the job's lock; both are running at the same moment.
    blocker = psycopg.connect(source_db.uri, autocommit=True)
    blocker.execute("select pg_advisory_lock(hashtext('nightly_metrics.write_aggregate_facts'))")
    runs = [start_cli(["run", "--as-of", str(AS_OF)], env=environment) for _ in range(2)]
    try:
        assert wait_for_waiting_sessions(blocker, 2), "the two runs never waited at the same time"
    finally:
        blocker.close()
    for run in runs:
        _, err = run.communicate(timeout=RUN_TIMEOUT)
        assert run.returncode == 0, err + pgbouncer.log_tail()
    check_against_oracle(source_db, data, [AS_OF])
    assert leftovers(source_db) == {"advisory locks": 0, "temporary tables": 0}


def test_the_pooler_keeps_answering_after_many_logins(pgbouncer):
    """Guards the fixture, not the job: PgBouncer logs every login and logout, and an
    unread pipe for its output (64 KiB) once froze it halfway through the suite, so
    that the job's connections timed out. 1,000 logins write far more than that."""
    url = pgbouncer.url("postgres").replace("?pgbouncer=true", "")
    for login in range(1000):
        try:
            with psycopg.connect(url, connect_timeout=10) as conn:
                assert conn.execute("select 1").fetchone() == (1,)
        except psycopg.OperationalError as error:
            raise AssertionError(f"login {login + 1}: {error}{pgbouncer.log_tail()}") from None


def test_direct_url_is_used_when_set(source_db, pgbouncer):
    """Prisma's DIRECT_URL bypasses the pooler: the job uses it, and says so. Here
    DATABASE_URL points at a pooler that does not answer, so only DIRECT_URL can work."""
    source_db.add_session("shop-a", datetime(2026, 11, 25, 9))
    result = run_cli(
        ["run", "--as-of", str(AS_OF)],
        env={
            "DATABASE_URL": f"postgresql://postgres@127.0.0.1:1/{source_db.name}?pgbouncer=true",
            "DIRECT_URL": source_db.uri,
        },
        timeout=RUN_TIMEOUT,
    )
    assert result.returncode == 0, result.stderr
    assert "connecting with DIRECT_URL" in result.stderr
    assert source_db.fact_value(ACTIVATION_FACT_TYPE, AS_OF)["totalActiveShops"] == 1
