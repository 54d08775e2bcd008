"""Statistics follow the data (macros/transactions.sql, analyze_this).

Every table the build writes is analyzed when it never was (a table model is
new each run) or when the build's changes, or the table's growth since its
statistics, reach 10 % of it or 10,000 rows; a nightly that adds a few rows
to the remembered breaches leaves their statistics as they are (and the
night after it does not analyze them again). ANALYZE counts are read from
pg_stat_user_tables once the run's own row counts have reached it (they are
published when its connections end), never after a fixed wait.
"""

from __future__ import annotations

import time
from datetime import date, datetime, timedelta

from nightly_metrics import project

MEMORY = "int_breach_candidates_remembered"
SCHEMA = project.TARGET_SCHEMA_DEFAULT


def add_snapshot(db, day: date, conversations: range) -> None:
    taken = datetime(day.year, day.month, day.day, 9)
    breaches = [{"conversationId": cid, "breachedAt": f"{day}T08:00:00Z"} for cid in conversations]
    db.add_escalations(taken, [], {"breaches": breaches})


def table_statistics(db, table: str) -> tuple[int, int, float]:
    """(manual ANALYZE count, live rows, rows its statistics were taken on)."""
    return db.execute(
        "select stats.analyze_count, stats.n_live_tup, class.reltuples"
        " from pg_stat_user_tables as stats join pg_class as class on class.oid = stats.relid"
        " where stats.schemaname = %s and stats.relname = %s",
        (SCHEMA, table),
    )[0]


def statistics_once(db, table: str, published) -> tuple[int, int, float]:
    """The table's statistics as soon as `published(statistics)` holds: the
    last run's counts have reached the statistics views."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        db.execute("select pg_stat_clear_snapshot()")
        current = table_statistics(db, table)
        if published(current):
            return current
        time.sleep(0.1)
    raise AssertionError(f"{table}: the run's counts never reached pg_stat_user_tables")


def test_tables_are_analyzed_when_new_or_changed_enough_and_not_otherwise(source_db):
    db = source_db
    # 40 days of snapshots with 50 breaches each: 2,000 remembered candidates
    first_day = date(2026, 10, 20)
    for n in range(40):
        add_snapshot(db, first_day + timedelta(days=n), range(1000 * n, 1000 * n + 50))

    # A fresh deployment's backfill (it reads every snapshot): every table it
    # writes is analyzed.
    db.run(date(2026, 11, 23), date(2026, 11, 29))
    tables = [
        name
        for (name,) in db.execute(
            "select tablename from pg_tables where schemaname = %s and tablename <> 'job_runs'",
            (SCHEMA,),
        )
    ]
    assert MEMORY in tables and "fct_ops_metrics_rolling7d" in tables
    for table in tables:
        analyzed, _, estimated = statistics_once(db, table, lambda stats: stats[0] >= 1)
        assert estimated >= 0, table
    analyzed, _, estimated = table_statistics(db, MEMORY)
    assert estimated == 2000

    # A nightly adds 5 candidates (0.25 %): no ANALYZE of the memory.
    add_snapshot(db, date(2026, 11, 29), range(90_000, 90_005))
    db.run(date(2026, 11, 30))
    after_small = statistics_once(db, MEMORY, lambda stats: stats[1] >= 2005)
    assert after_small[0] == analyzed
    # (autovacuum may have vacuumed it since, which leaves ANALYZE counts alone)
    assert after_small[1] == 2005

    # The next adds 300 (more than 10 % of the table): ANALYZE.
    add_snapshot(db, date(2026, 11, 30), range(91_000, 91_300))
    db.run(date(2026, 12, 1))
    after_large = statistics_once(db, MEMORY, lambda stats: stats[0] > analyzed)
    assert after_large[0] == analyzed + 1
    assert after_large[1] == after_large[2] == 2305
