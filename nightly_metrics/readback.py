"""What a run computed and wrote, read back from the tables after the build:
the marts model's decisions, this run's own rows of "DashboardFact", the
source days that never arrived and the source rows read."""

from __future__ import annotations

from datetime import date, datetime

import psycopg
from psycopg import sql

from .db import dashboard_fact_query, utc_transaction
from .project import METRIC_FACT_TYPES, SOURCE_STREAMS, read_over_look_back
from .wording import window_wording

ROWS_READ_STREAMS = {
    # stream of int_source_stream_days: (name in logs and history, read from the look-back)
    stream: (definition["label"], read_over_look_back(stream))
    for stream, definition in SOURCE_STREAMS.items()
}


def read_rows_read(
    conn: psycopg.Connection,
    target_schema: str,
    window_start: date,
    read_start: date,
    end: date,
) -> dict[str, int]:
    """Source rows the run's windows read, per stream, from the build's own daily
    counts (int_source_stream_days): sessions over the windows, escalation snapshots
    and ops decisions over the windows and the escalation look-back before them.
    The dates are the run plan's (RunPlan.window_start, read_start), the ones its
    log line prints.

    Not read from the mart: its source_rows_read is per fact and as-of date, the
    sum of two streams (ops decisions counted in both facts, over different
    ranges), and a range's windows overlap, so neither the per-stream split nor
    the count over the union of the windows can be derived from it."""
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
    query = dashboard_fact_query(
        """
        select facts.{factType}, facts.{createdAt}::timestamp, facts.{value},
            facts.{metadata}, facts.{updatedAt}::timestamp
        from {facts} as facts
        inner join unnest(%(types)s::text[], %(ends)s::timestamp[])
            as keys (fact_type, window_end)
            on facts.{factType} = keys.fact_type and facts.{createdAt} = keys.window_end
        where facts.{shopDomain} = '__aggregate__'
        order by facts.{createdAt}, facts.{factType}, facts.{id}
        """,
        schema,
    )
    with utc_transaction(conn):
        rows = conn.execute(
            query,
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
    query = dashboard_fact_query(
        """
        select {factType}, {createdAt}::timestamp, {value}, {metadata}, {updatedAt}::timestamp
        from {facts}
        where {shopDomain} = '__aggregate__'
          and {factType} = any(%(types)s)
          and {createdAt} between %(start)s and %(end)s
          and {createdAt} = date_trunc('day', {createdAt})
          and {updatedAt} >= %(since)s
        order by {createdAt}, {factType}
        """,
        schema,
    )
    with utc_transaction(conn):
        rows = conn.execute(
            query,
            {
                "types": list(METRIC_FACT_TYPES),
                "start": datetime.combine(start, datetime.min.time()),
                "end": datetime.combine(end, datetime.min.time()),
                "since": since,
            },
        ).fetchall()
    keys = ("factType", "createdAt", "value", "metadata", "updatedAt")
    return [{**dict(zip(keys, row, strict=True)), "action": "written"} for row in rows]


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
    return window_wording(outcome["createdAt"].date())
