"""Every query the nightly run issues reads "DashboardFact" through an index.

The app's "DashboardFact" grows without bound (every session, snapshot and
synced order is a row), so a nightly run must cost what its window costs, not
what the table's history costs: each read of the table has to go through its
"createdAt" index (or the ("shopDomain", "factType") index, for our own
aggregate rows), never a sequential scan.

How: a synthetic history of 400 days for a dozen shops (~90 k rows, most of
them old and of unrelated fact types, analyzed), one run to deploy the
project, then the steady-state nightly run with `log_statement = 'all'` set
on the test database. Every statement the run sent (the runner's own queries,
dbt's models, hooks, data tests and source freshness) is read back from the
server log and EXPLAINed with its logged parameters.

Why the planner's own choice (enable_seqscan left on) and not `SET
enable_seqscan = off`: with seq scans disabled, PostgreSQL still falls back to
one when no index applies, so that version only proves a query *can* use an
index. Leaving them on asserts the stronger property, that the plan a real
nightly gets *does* use it, and it is reliable here because the run's window is
a few percent of a 400-day table whose rows arrive in "createdAt" order (index
correlation ~1), far from the point where a seq scan would win; a query that
needs a seq scan to be answered (a predicate the index cannot serve) shows one
either way.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import psycopg
import pytest
import sqlparse

from nightly_metrics.synthetic_data import Scale, generate

# Dense sessions like the benchmark scales, a long history like theirs.
PLAN_SCALE = Scale(shops=12, history_days=400, sessions_per_active_shop_day=27.0)

_LOG_ENTRY = re.compile(
    r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(?:\.\d+)? \S+ \[(\d+)\] ([A-Z]+):  (.*)$"
)
_STATEMENT = re.compile(r"^(?:statement|execute [^:]*): (.*)$", re.S)
_PARAMETER = re.compile(r"\$(\d+) = ('(?:[^']|'')*'|NULL)")
_LEADING_COMMENTS = re.compile(r"^\s*(?:/\*.*?\*/\s*|--[^\n]*\n\s*)*", re.S)
_EXPLAINABLE = re.compile(r"^(select|with|insert|update|delete)\b", re.I)
_CREATE_TABLE_AS = re.compile(
    r"^create\s+(?:temporary\s+|temp\s+|unlogged\s+)?table\s+\S+\s+as\s*", re.I
)


def _read_log_entries(text: str) -> list[tuple[str, str, str]]:
    """(pid, level, message) per log entry; continuation lines belong to the entry above."""
    entries: list[list[str]] = []
    for line in text.splitlines():
        match = _LOG_ENTRY.match(line)
        if match:
            entries.append([match.group(1), match.group(2), match.group(3)])
        elif entries:
            entries[-1][2] += "\n" + line
    return [tuple(e) for e in entries]


def _logged_statements(text: str) -> list[str]:
    """Every statement in the log, with its bind parameters (if any) inlined."""
    statements: list[list] = []  # [pid, sql]
    for pid, level, message in _read_log_entries(text):
        if level == "LOG":
            match = _STATEMENT.match(message)
            if match:
                statements.append([pid, match.group(1)])
        elif level == "DETAIL" and message.startswith("Parameters: ") and statements:
            last = statements[-1]
            if last[0] == pid:
                params = dict(_PARAMETER.findall(message))
                last[1] = re.sub(
                    r"\$(\d+)\b",
                    lambda m, params=params: params.get(m.group(1), m.group(0)),
                    last[1],
                )
    out = []
    for _, text_ in statements:
        for single in sqlparse.split(text_):
            single = single.strip().rstrip(";").strip()
            if single:
                out.append(single)
    return out


def test_nightly_run_reads_dashboard_fact_by_index_only(pg_server, source_db):
    as_of = datetime.now(UTC).date()  # the real nightly: today, freshness check included
    with psycopg.connect(source_db.uri, autocommit=True) as conn:
        counts = generate(conn, PLAN_SCALE, as_of=as_of, seed=7)
    assert counts["DashboardFact"] > 50_000

    source_db.run(as_of)  # deploy: first build

    log_file = pg_server.pgdata / "log"
    offset = log_file.stat().st_size
    with psycopg.connect(pg_server.get_uri(), autocommit=True) as conn:
        conn.execute(f"alter database \"{source_db.name}\" set log_statement = 'all'")
    try:
        source_db.run(as_of)  # the steady-state nightly
    finally:
        with psycopg.connect(pg_server.get_uri(), autocommit=True) as conn:
            conn.execute(f'alter database "{source_db.name}" reset log_statement')
    with log_file.open(encoding="utf-8", errors="replace") as handle:
        handle.seek(offset)
        statements = _logged_statements(handle.read())
    assert statements, "no statements were logged"

    seq_scans: list[str] = []
    unexplained: list[str] = []
    index_reads = 0
    explained = 0
    with psycopg.connect(source_db.uri) as conn:
        for statement in statements:
            body = _LEADING_COMMENTS.sub("", statement, count=1).strip()
            # CREATE TABLE ... AS (query): explain the query (the table may exist by now).
            created = _CREATE_TABLE_AS.match(body)
            if created:
                body = body[created.end() :].strip()
                if body.startswith("(") and body.endswith(")"):
                    body = body[1:-1].strip()
                body = _LEADING_COMMENTS.sub("", body, count=1).strip()
            if not _EXPLAINABLE.match(body):
                continue
            try:
                with conn.transaction():
                    plan = "\n".join(row[0] for row in conn.execute("explain " + body).fetchall())
                    # EXPLAIN never executes, but roll back whatever it could touch.
                    raise _Rollback
            except _Rollback:
                pass
            except psycopg.errors.UndefinedTable:
                # dbt's __dbt_tmp relations of the run are gone; what they were
                # built from is a statement of its own, explained above.
                if "DashboardFact" in statement:
                    unexplained.append(statement[:400])
                continue
            explained += 1
            if re.search(r'Seq Scan on "DashboardFact"', plan):
                seq_scans.append(f"{body[:1500]}\n--- plan ---\n{plan}")
            index_reads += len(
                re.findall(
                    r"Index(?: Only)? Scan(?: Backward)? using \S+ on"
                    r' "DashboardFact"|Bitmap Heap Scan on'
                    r' "DashboardFact"',
                    plan,
                )
            )

    print(f"explained {explained} statements; {index_reads} index reads of DashboardFact")
    assert not unexplained, "statements reading DashboardFact could not be explained:\n" + (
        "\n\n".join(unexplained)
    )
    assert explained > 10 and index_reads >= 5, (explained, index_reads)
    assert not seq_scans, (
        f'{len(seq_scans)} of the nightly run\'s statements read "DashboardFact" with a'
        " sequential scan:\n\n" + "\n\n==========\n\n".join(seq_scans)
    )


class _Rollback(Exception):
    pass


if __name__ == "__main__":  # pragma: no cover
    pytest.main([__file__, "-v"])
