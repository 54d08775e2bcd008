#!/usr/bin/env python
"""Load seeded synthetic source data into "DashboardFact" and "DecisionLog".

    python scripts/generate_data.py --database-url URL --scale demo|S|M \\
        --as-of YYYY-MM-DD [--seed 42] [--schema public] [--create-tables] [--append]

The history covers the scale's days before --as-of (UTC); the same seed, scale
and date give identical rows. --database-url is required and never read from
$DATABASE_URL: on a host where the job runs that variable names the
application's own database, and synthetic rows must never land there by
accident. A Prisma URL's `?schema=NAME` is honoured (and removed before
connecting) unless --schema is given. Tables that already hold rows are
refused unless --append says to add to them.

Exit codes: 0 loaded; 2 a problem the user can fix (bad argument, unreachable
database, missing tables, no privilege); 1 any other database error.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import NoReturn

import psycopg
import psycopg.sql
from psycopg import errors

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2

SCALE_NAMES = ("demo", "S", "M")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        """One line instead of usage and message."""
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = _Parser(
        prog="generate_data.py",
        description="Load seeded synthetic source data into DashboardFact and DecisionLog.",
    )
    parser.add_argument(
        "--database-url",
        required=True,
        help="PostgreSQL URL of a database for synthetic data (DATABASE_URL is deliberately"
        " not read: it names the application's own database where the job runs)",
    )
    parser.add_argument(
        "--scale",
        required=True,
        choices=SCALE_NAMES,
        help="demo (~300 shops x 60 days), S (~1 M facts) or M (~10 M facts)",
    )
    parser.add_argument(
        "--as-of",
        required=True,
        type=_date,
        metavar="YYYY-MM-DD",
        help="the history ends the day before this UTC date",
    )
    parser.add_argument("--seed", type=int, default=42, help="random seed (default: 42)")
    parser.add_argument(
        "--schema",
        default=None,
        help="schema of the tables (default: the URL's ?schema= or public)",
    )
    parser.add_argument(
        "--create-tables",
        action="store_true",
        help="create the schema and the two tables first if missing",
    )
    parser.add_argument(
        "--append",
        action="store_true",
        help="add rows to tables that already hold some (refused otherwise)",
    )
    return parser.parse_args(argv)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _fail(code: int, message: str) -> int:
    print(f"generate_data.py: error: {message}", file=sys.stderr)
    return code


def _load_generator() -> ModuleType:
    """Import nightly_metrics from this checkout, installed or not."""
    root = str(Path(__file__).resolve().parents[1])
    if root not in sys.path:
        sys.path.insert(0, root)
    from nightly_metrics import synthetic_data

    return synthetic_data


def _tables_exist(conn: psycopg.Connection, schema: str) -> bool:
    row = conn.execute(
        "select to_regclass(format('%%I.%%I', %(s)s::text, 'DashboardFact')) is not null"
        " and to_regclass(format('%%I.%%I', %(s)s::text, 'DecisionLog')) is not null",
        {"s": schema},
    ).fetchone()
    return bool(row and row[0])


def _rows_already_there(conn: psycopg.Connection, schema: str) -> int:
    facts = psycopg.sql.Identifier(schema, "DashboardFact")
    decisions = psycopg.sql.Identifier(schema, "DecisionLog")
    query = psycopg.sql.SQL(
        "select (select count(*) from (select 1 from {} limit 1) as f)"
        " + (select count(*) from (select 1 from {} limit 1) as d)"
    ).format(facts, decisions)
    return conn.execute(query).fetchone()[0]


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
    synthetic = _load_generator()
    from nightly_metrics.database_url import ConfigError, parse_database_url

    scale = synthetic.SCALES[args.scale]
    try:
        settings = parse_database_url(args.database_url)
    except ConfigError as exc:
        return _fail(EXIT_USAGE, str(exc))
    schema = args.schema or settings.source_schema
    try:
        conn = psycopg.connect(**settings.libpq_kwargs())
    except psycopg.Error as exc:
        return _fail(EXIT_USAGE, f"cannot connect to the database: {_first_line(exc)}")
    started = time.perf_counter()
    try:
        with conn:
            if args.create_tables:
                synthetic.create_source_tables(conn, schema)
            elif not _tables_exist(conn, schema):
                return _fail(
                    EXIT_USAGE,
                    f'tables "{schema}"."DashboardFact" and "DecisionLog" '
                    "do not exist (pass --create-tables)",
                )
            if not args.append and _rows_already_there(conn, schema):
                return _fail(
                    EXIT_USAGE,
                    f'"{schema}"."DashboardFact" or "DecisionLog" already holds rows: load'
                    " synthetic data into empty tables, or pass --append to add to them",
                )
            counts = synthetic.generate(
                conn, scale, as_of=args.as_of, seed=args.seed, schema=schema
            )
    except (
        errors.InsufficientPrivilege,
        errors.UndefinedTable,
        errors.InvalidSchemaName,
        psycopg.OperationalError,
    ) as exc:
        return _fail(EXIT_USAGE, f"loading failed: {_first_line(exc)}")
    except psycopg.Error as exc:
        return _fail(EXIT_FAILED, f"loading failed: {_first_line(exc)}")
    elapsed = time.perf_counter() - started

    first = args.as_of - dt.timedelta(days=scale.history_days)
    last = args.as_of - dt.timedelta(days=1)
    print(
        f"scale {args.scale}: {scale.shops} shops x {scale.history_days} days "
        f"({first} .. {last} UTC), seed {args.seed}, schema {schema}"
    )
    width = max(map(len, counts))
    for kind, count in counts.items():
        print(f"  {kind:<{width}}  {count:>12,}")
    print(f"loaded in {elapsed:.1f} s")
    return EXIT_OK


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
