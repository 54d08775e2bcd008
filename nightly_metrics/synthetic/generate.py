"""The public entry points: the source tables' DDL, creating them, and loading them."""

from __future__ import annotations

import datetime as dt
import tempfile
from importlib import resources

import psycopg
from psycopg import sql
from psycopg.copy import QueuedLibpqWriter

from .history import Generator
from .scales import Scale

_DDL_RESOURCE = ("sql", "prisma_schema.sql")

_FACT_COLUMNS = (
    "shopDomain",
    "factType",
    "scope",
    "value",
    "metadata",
    "evidenceUrl",
    "createdAt",
    "updatedAt",
)
_DECISION_COLUMNS = (
    "scope",
    "actor",
    "action",
    "rationale",
    "evidenceUrl",
    "shopDomain",
    "externalRef",
    "payload",
    "createdAt",
)


def source_ddl() -> str:
    """The DDL of the two source tables (a verbatim copy of the application's migration)."""
    return resources.files("nightly_metrics").joinpath(*_DDL_RESOURCE).read_text("utf-8")


def create_source_tables(conn: psycopg.Connection, schema: str = "public") -> None:
    """Create `schema` if needed and the "DashboardFact" and "DecisionLog" tables in it."""
    ddl = source_ddl()
    with conn.transaction(), conn.cursor() as cur:
        cur.execute(sql.SQL("create schema if not exists {}").format(sql.Identifier(schema)))
        cur.execute("select current_setting('search_path')")
        row = cur.fetchone()
        previous = row[0] if row else "public"
        cur.execute("select set_config('search_path', quote_ident(%s), true)", (schema,))
        cur.execute(ddl.encode())
        cur.execute("select set_config('search_path', %s, true)", (previous,))


def _copy_statement(schema: str, table: str, columns: tuple[str, ...]) -> sql.Composed:
    return sql.SQL("copy {} ({}) from stdin").format(
        sql.Identifier(schema, table), sql.SQL(", ").join(map(sql.Identifier, columns))
    )


def generate(
    conn: psycopg.Connection,
    scale: Scale,
    *,
    as_of: dt.date,
    seed: int = 42,
    schema: str = "public",
) -> dict[str, int]:
    """Load a synthetic history into schema."DashboardFact" and schema."DecisionLog".

    The tables must exist (see `create_source_tables`). The history covers the
    `scale.history_days` UTC days before `as_of`; rows are appended with COPY in
    one transaction (committed unless the caller's transaction is open) and the
    tables analyzed. In fresh tables the same arguments give identical rows and ids.

    Returns counts: "DashboardFact" and "DecisionLog" (rows written), "sessions"
    (countable ones) and "sessions_blank_or_aggregate", "escalation_snapshots"
    (generated; of which "escalation_snapshots_legacy", and
    "escalation_snapshots_purged": not written, see
    Scale.escalation_retention_days), "escalation_elements" (sound
    elements of value arrays and breaches lists), "corrupt_elements" (elements
    the metric must reject), "ignored_value_elements" (value elements that are
    not objects: no breach, not rejected), "malformed_breaches_fields" (breaches that is an
    object), "unrelated_facts", "conversations", "breached_conversations",
    "breaches_in_snapshots" (breached conversations some snapshot shows),
    "unresolved_breaches", and per kind of decision "resolving_decisions",
    "support_resolutions", "pre_breach_decisions", "non_resolution_refs",
    "follow_up_decisions", "ops_decisions", "other_scope_decisions".
    """
    if isinstance(as_of, dt.datetime) or not isinstance(as_of, dt.date):
        raise TypeError("as_of must be a datetime.date")
    chunk_limit = 4 * 1024 * 1024
    with tempfile.SpooledTemporaryFile(
        max_size=64 * 1024 * 1024, mode="w+", encoding="utf-8"
    ) as spool:
        gen = Generator(scale, as_of, seed, spool.write)
        with conn.transaction(), conn.cursor() as cur:
            stmt = _copy_statement(schema, "DashboardFact", _FACT_COLUMNS)
            with cur.copy(stmt, writer=QueuedLibpqWriter(cur)) as copy:
                buffered: list[str] = []
                size = 0
                for chunk in gen.fact_days():
                    buffered.append(chunk)
                    size += len(chunk)
                    if size >= chunk_limit:
                        copy.write("".join(buffered))
                        buffered.clear()
                        size = 0
                if buffered:
                    copy.write("".join(buffered))
            spool.seek(0)
            stmt = _copy_statement(schema, "DecisionLog", _DECISION_COLUMNS)
            with cur.copy(stmt) as copy:
                while block := spool.read(chunk_limit):
                    copy.write(block)
            for table in ("DashboardFact", "DecisionLog"):
                cur.execute(sql.SQL("analyze {}").format(sql.Identifier(schema, table)))
    return dict(gen.counts)
