"""The job's run history: one row per run in `<target schema>.job_runs`.

The runner alone creates the table (`ensure_table`, before each build and
before writing a row), from the columns that the dbt source `runner.job_runs`
declares in models/operations/_runner__sources.yml, where dbt documents and
tests it; dbt never builds it, so a `--full-refresh` keeps the history. The
row is written when the run ends, whatever its outcome, in a transaction of
its own."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as installed_version

import psycopg
import yaml
from psycopg import sql
from psycopg.types.json import Jsonb

from .errors import ExitCode
from .paths import PROJECT_DIR

TABLE = "job_runs"
CONTRACT_FILE = PROJECT_DIR / "models" / "operations" / "_runner__sources.yml"


def utc_now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def project_version() -> str:
    try:
        return installed_version("nightly-metrics")
    except PackageNotFoundError:
        return "unknown"


def dbt_version() -> str:
    try:
        return installed_version("dbt-core")
    except PackageNotFoundError:
        return "unknown"


def contract_columns() -> list[tuple[str, str]]:
    """(name, data type) of each column of job_runs, from its dbt source."""
    spec = yaml.safe_load(CONTRACT_FILE.read_text(encoding="utf-8"))
    tables = (table for source in spec["sources"] for table in source["tables"])
    table = next(t for t in tables if t["name"] == TABLE)
    return [(column["name"], column["data_type"]) for column in table["columns"]]


def status_of(exit_code: int | None, interrupted: bool) -> str:
    if interrupted:
        return "interrupted"
    if exit_code == 0:
        return "succeeded"
    if exit_code == ExitCode.DATA_MISSING:
        return "withheld"
    return "failed"


@dataclass
class RunRecord:
    """What one run did, filled in as it goes; written by `write`."""

    command: str
    as_of_start: date
    as_of_end: date
    started_at: datetime = field(default_factory=utc_now)
    run_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    # Set once the run has connected: a run that never did leaves no row.
    reached_database: bool = False
    invocation_id: str | None = None
    result: object = None  # the run's JobResult, as far as it got

    def row(
        self,
        *,
        exit_code: int | None,
        interrupted: bool = False,
        problems: list[str] | None = None,
        result=None,
    ) -> dict:
        outcomes = list(getattr(result, "outcomes", None) or [])
        windows = [window_of(outcome) for outcome in outcomes]
        # Rejected elements of the last window's read range (per window in `windows`).
        sla_windows = sorted(
            (w for w in windows if w.get("breachCandidatesRejected") is not None),
            key=lambda w: w["asOf"],
        )
        rejected = sla_windows[-1]["breachCandidatesRejected"] if sla_windows else None
        finished = utc_now()
        return {
            "run_id": self.run_id,
            "invocation_id": self.invocation_id,
            "command": self.command,
            "status": status_of(exit_code, interrupted),
            "problems": "\n".join(problems) if problems else None,
            "project_version": project_version(),
            "dbt_version": dbt_version(),
            "exit_code": exit_code,
            # Unknown (NULL) when a stopped run could not read back what it had committed.
            "facts_written": None
            if getattr(result, "committed_unknown", False)
            else sum(1 for w in windows if w["action"] == "written"),
            "facts_withheld": sum(1 for w in windows if w["action"] == "withheld"),
            "facts_kept": sum(1 for w in windows if w["action"] == "kept"),
            "breach_elements_rejected": rejected,
            "elapsed_seconds": round(Decimal(str((finished - self.started_at).total_seconds())), 2),
            "rows_read": Jsonb(dict(getattr(result, "rows_read", None) or {})),
            "windows": Jsonb(windows),
            "as_of_start_date": self.as_of_start,
            "as_of_end_date": self.as_of_end,
            "started_at": self.started_at,
            "finished_at": finished,
        }


def window_of(outcome: dict) -> dict:
    """One window and fact of the run, as stored in job_runs.windows."""
    metadata = outcome.get("metadata") or {}
    window = {
        "asOf": outcome["createdAt"].date().isoformat(),
        "factType": outcome["factType"],
        "action": outcome["action"],
        "sourceRowsRead": outcome.get("sourceRowsRead"),
        "storedSourceRowsRead": outcome.get("storedSourceRowsRead"),
        "missingSourceDays": metadata.get("missingSourceDays") or {},
    }
    if "breachCandidatesRejected" in metadata:
        window["breachCandidatesRejected"] = metadata["breachCandidatesRejected"]
    return window


def ensure_table(conn: psycopg.Connection, schema: str) -> None:
    """Creates the schema and the table (from its source's columns) when they are
    missing: the table's one definition, run before the build (whose data tests
    read it) and before each insert (a build may have failed before that)."""
    # Asked first: `create schema if not exists` needs CREATE on the database even
    # when the schema exists (a role may have been given its schema instead).
    if conn.execute("select to_regnamespace(%s)", (f'"{schema}"',)).fetchone()[0] is None:
        conn.execute(sql.SQL("create schema {}").format(sql.Identifier(schema)))
    columns = sql.SQL(", ").join(
        sql.SQL("{} {}").format(sql.Identifier(name), sql.SQL(data_type))
        for name, data_type in contract_columns()
    )
    conn.execute(
        sql.SQL("create table if not exists {} ({})").format(sql.Identifier(schema, TABLE), columns)
    )


def insert(conn: psycopg.Connection, schema: str, row: dict) -> None:
    ensure_table(conn, schema)
    conn.execute(
        sql.SQL("insert into {} ({}) values ({})").format(
            sql.Identifier(schema, TABLE),
            sql.SQL(", ").join(map(sql.Identifier, row)),
            sql.SQL(", ").join(sql.Placeholder(name) for name in row),
        ),
        row,
    )


def read(conn: psycopg.Connection, schema: str, limit: int) -> list[dict] | None:
    """The last `limit` runs, newest first; None when no run was ever recorded."""
    found = conn.execute("select to_regclass(%s)", (f'"{schema}"."{TABLE}"',)).fetchone()[0]
    if found is None:
        return None
    cursor = conn.execute(
        sql.SQL("select * from {} order by started_at desc limit %s").format(
            sql.Identifier(schema, TABLE)
        ),
        (limit,),
    )
    names = [column.name for column in cursor.description]
    return [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]


# The columns both views of the history show (`history` and the report), in order.
SUMMARY_COLUMNS = (
    "started (UTC)",
    "command",
    "as-of",
    "status",
    "written",
    "withheld",
    "kept",
    "rows read",
    "seconds",
)


def summarize(run: dict) -> tuple[tuple[str, ...], str]:
    """One stored run as the texts of SUMMARY_COLUMNS, and its problems on one line.
    A value a bad row (a manual insert) left empty reads "-": the table has no NOT
    NULL constraints, and its data tests only warn, so both views must show it."""
    as_of = _text(run["as_of_start_date"], "%Y-%m-%d")
    if run["as_of_end_date"] != run["as_of_start_date"]:
        as_of += f" to {_text(run['as_of_end_date'], '%Y-%m-%d')}"
    rows_read = run["rows_read"]
    if isinstance(rows_read, dict):
        rows_read = sum(n for n in rows_read.values() if isinstance(n, int))
    cells = (
        _text(run["started_at"], "%Y-%m-%d %H:%M:%S"),
        _text(run["command"]),
        as_of,
        f"{_text(run['status'])} ({_text(run['exit_code'])})",
        _text(run["facts_written"]),
        _text(run["facts_withheld"]),
        _text(run["facts_kept"]),
        _text(rows_read, ","),
        _text(run["elapsed_seconds"]),
    )
    return cells, " ".join((run["problems"] or "").split())  # dbt's messages span lines


def _text(value, spec: str = "") -> str:
    return "-" if value is None else format(value, spec)
