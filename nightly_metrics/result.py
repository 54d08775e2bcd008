"""What a run reports: its result, what it had committed (read back after a
stop, too), in the words the CLI, the logs and the run history use."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime

import psycopg

from .database_url import ConnectionSettings
from .db import (
    connect,
)
from .errors import JobError
from .readback import (
    read_committed_facts,
)


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
