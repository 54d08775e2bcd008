"""What the report shows, read from the stored facts and the run history."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import psycopg
from psycopg import sql

from . import history
from .db import dashboard_fact_query, utc_transaction
from .project import FACT_TYPES, SOURCE_STREAMS, streams_read_by

ACTIVATION = FACT_TYPES["activation"]


SLA = FACT_TYPES["sla_resolution"]


# The source streams each fact reads (int_source_days_checked), by their keys
# of missingSourceDays.
STREAMS = {
    FACT_TYPES[fact]: tuple(SOURCE_STREAMS[name]["metadata_key"] for name in streams_read_by(fact))
    for fact in ("activation", "sla_resolution")
}


class ReportError(Exception):
    """A report that cannot be made (e.g. matplotlib missing): one line for the user."""


@dataclass
class Window:
    """One stored fact: its window end (the as-of date) and its figures."""

    as_of: date
    value: dict
    metadata: dict


@dataclass
class Marks:
    """Data-quality marks of one fact type, by as-of date, from the run history."""

    withheld: list[date] = field(default_factory=list)
    missing_days: list[date] = field(default_factory=list)
    rejected: dict[date, int] = field(default_factory=dict)


@dataclass
class ReportData:
    since: date
    windows: dict[str, list[Window]]
    marks: dict[str, Marks]
    runs: list[dict] | None


def read_report_data(
    conn: psycopg.Connection, source_schema: str, target_schema: str, since: date
) -> ReportData:
    """The stored facts since `since` and what the run history says about them."""
    query = dashboard_fact_query(
        """
        select {factType}, {createdAt}::timestamp, {value}, {metadata}
        from {facts}
        where {shopDomain} = '__aggregate__'
          and {factType} = any(%(types)s)
          and {createdAt} >= %(since)s
          and {createdAt} = date_trunc('day', {createdAt})
          and {metadata} ? 'sourceRowsRead'
        order by {createdAt}
        """,
        source_schema,
    )
    with utc_transaction(conn):
        rows = conn.execute(query, {"types": [ACTIVATION, SLA], "since": since}).fetchall()
    windows: dict[str, list[Window]] = {ACTIVATION: [], SLA: []}
    for fact_type, created_at, value, metadata in rows:
        windows[fact_type].append(Window(created_at.date(), value or {}, metadata or {}))

    runs = history.read(conn, target_schema, 10)
    marks = {ACTIVATION: Marks(), SLA: Marks()}
    if runs is not None:
        marks = quality_marks(conn, target_schema, since)
    return ReportData(since, windows, marks, runs)


def quality_marks(conn: psycopg.Connection, target_schema: str, since: date) -> dict[str, Marks]:
    """Per fact type: the windows whose latest run withheld them, the source days
    the latest run of each window found missing, and the breach elements it
    rejected. The latest run of a window decides: a window withheld one night and
    written the next carries no withheld mark."""
    rows = conn.execute(
        sql.SQL(
            """
            select distinct on (window_entry ->> 'factType', window_entry ->> 'asOf')
                window_entry
            from {runs}, jsonb_array_elements(windows) as window_entry
            where cast(window_entry ->> 'asOf' as date) >= %(since)s
            order by window_entry ->> 'factType', window_entry ->> 'asOf', started_at desc
            """
        ).format(runs=sql.Identifier(target_schema, history.TABLE)),
        {"since": since},
    ).fetchall()
    marks = {ACTIVATION: Marks(), SLA: Marks()}
    for (entry,) in rows:
        fact_type = entry.get("factType")
        if fact_type not in marks:
            continue
        as_of = date.fromisoformat(entry["asOf"])
        mark = marks[fact_type]
        if entry.get("action") == "withheld":
            mark.withheld.append(as_of)
        for stream, days in (entry.get("missingSourceDays") or {}).items():
            if stream in STREAMS[fact_type]:
                mark.missing_days += [date.fromisoformat(day) for day in days]
        if entry.get("breachCandidatesRejected"):
            mark.rejected[as_of] = int(entry["breachCandidatesRejected"])
    for mark in marks.values():
        mark.missing_days = sorted(set(mark.missing_days))
    return marks
