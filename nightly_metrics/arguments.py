"""The command line: its commands, options and argument types (argparse)."""

from __future__ import annotations

import argparse
import re
import textwrap
from datetime import date, datetime
from pathlib import Path

from . import db, history
from .paths import DEFAULT_REPORT

MAX_BACKFILL_DAYS = 3660


def parse_date(text: str) -> date:
    try:
        parsed = datetime.strptime(text, "%Y-%m-%d").date()
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date as YYYY-MM-DD: {text!r}") from None
    if not date(1971, 1, 1) <= parsed <= date(9998, 12, 31):
        raise argparse.ArgumentTypeError(f"date out of range (1971 to 9998): {text}")
    return parsed


def duration(text: str) -> float:
    """Seconds from '90s', '30m', '2h' or a bare number of minutes."""
    match = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]+)?)\s*(s|m|min|h)?\s*", text)
    if not match:
        raise argparse.ArgumentTypeError(f"not a duration such as 90s, 30m or 2h: {text!r}")
    unit = {"s": 1, "m": 60, "min": 60, "h": 3600, None: 60}[match.group(2)]
    return float(match.group(1)) * unit


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {text}")
    return value


def add_json_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--json",
        action="store_true",
        help="print the facts as JSON on stdout (logs stay on stderr)",
    )


def add_run_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--dry-run", action="store_true", help="compute and print the facts without writing them"
    )
    add_json_option(parser)
    parser.add_argument(
        "--allow-missing-days",
        action="store_true",
        help="write the facts even when a source day that should have arrived has no rows"
        " (the days are still reported, and recorded in the facts' metadata)",
    )
    parser.add_argument(
        "--allow-fewer-rows",
        action="store_true",
        help="replace stored facts even when their window now reads fewer source rows than"
        " when they were written (by default such a fact is kept as stored)",
    )
    parser.add_argument(
        "--rebuild-breach-memory",
        action="store_true",
        help="start the remembered breaches afresh from the escalation snapshots that still"
        " exist, when their table is missing where this project has written SLA facts before"
        " (breaches of purged snapshots are then forgotten; see docs/breach-memory.md)",
    )
    parser.add_argument(
        "--min-daily-rows",
        type=positive_int,
        default=None,
        metavar="N",
        help="a day without rows counts as missing only in a stream that averaged at least N"
        " rows a day over the 28 days before the window (default 10)",
    )
    parser.add_argument(
        "--lock-timeout",
        type=duration,
        default=db.LOCK_TIMEOUT_DEFAULT_SECONDS,
        metavar="DURATION",
        help="wait at most this long for another run of the job to finish, then exit 5"
        " (e.g. 90s, 30m, 2h; a bare number is minutes; default 30m)",
    )
    parser.add_argument(
        "--statement-timeout",
        type=duration,
        default=None,
        metavar="DURATION",
        help="cancel any one statement of the build that runs longer (e.g. 20m; 0 for no"
        " limit; default 60m, the dbt var statement_timeout_seconds)",
    )
    parser.add_argument(
        "--evidence-url",
        default=None,
        metavar="TEMPLATE",
        help="write this link into the evidenceUrl of the facts the run writes, {run_id} the"
        " run's id (its job_runs row) and {as_of} the fact's as-of date (default: the"
        " NIGHTLY_METRICS_EVIDENCE_URL variable; unset, a rewritten fact keeps its link)",
    )
    add_output_options(parser)


def add_output_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--verbose", action="store_true", help="show dbt's own log lines")
    parser.add_argument(
        "--quiet",
        action="store_true",
        help="print nothing on stderr but errors (for cron); results still go to stdout",
    )


CONNECTION_HELP = """\
connection:
  DATABASE_URL   the application's PostgreSQL, as a URL:
                 postgresql://USER:PASSWORD@HOST:5432/DB?schema=public
                 (the tables' schema from ?schema=, default public; ?sslmode=
                 and ?host=/socket/dir work; a transaction pooler on port 6543
                 with ?pgbouncer=true, as Prisma apps use, works too)
  DIRECT_URL     optional: a direct connection beside the pooler; used instead
                 of DATABASE_URL when set
  demo and docs need neither: they run on an embedded PostgreSQL in .demo/.
"""


def add_as_of_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--as-of",
        type=parse_date,
        default=None,
        metavar="YYYY-MM-DD",
        help="the as-of date: its window is the 7 UTC days before it, from 00:00 on"
        " as-of minus 7 days up to (not including) 00:00 on the as-of date; default"
        " today (UTC); at most tomorrow",
    )


def add_command(
    commands, name: str, summary: str, description: str = ""
) -> argparse.ArgumentParser:
    return commands.add_parser(
        name,
        help=summary,
        description=textwrap.fill(description or summary[0].upper() + summary[1:] + ".", 78),
        epilog=CONNECTION_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nightly-metrics",
        description='Rolling 7-day operator KPIs, computed by dbt and written to "DashboardFact".',
        epilog=CONNECTION_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {history.project_version()}"
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add in (add_run_commands, add_history_command, add_report_command, add_demo_commands):
        add(commands)
    return parser


def add_run_commands(commands) -> None:
    """run and backfill: the job itself."""
    run = add_command(
        commands,
        "run",
        "compute one as-of date (default: today, UTC) and write its two facts",
    )
    add_as_of_option(run)
    add_run_options(run)

    backfill = add_command(
        commands,
        "backfill",
        "compute every as-of date in a range, in one build, and write their facts",
    )
    backfill.add_argument(
        "--start",
        type=parse_date,
        required=True,
        metavar="YYYY-MM-DD",
        help="the first as-of date (included)",
    )
    backfill.add_argument(
        "--end",
        type=parse_date,
        required=True,
        metavar="YYYY-MM-DD",
        help="the last as-of date (included; at most tomorrow, UTC)",
    )
    add_run_options(backfill)


def add_history_command(commands) -> None:
    """history: the last runs."""
    runs = add_command(
        commands,
        "history",
        "print the job's last runs (the table job_runs in the project's schema)",
    )
    runs.add_argument(
        "--limit", type=positive_int, default=10, metavar="N", help="how many runs (default 10)"
    )
    runs.add_argument(
        "--json", action="store_true", help="print the runs as JSON on stdout, newest first"
    )


def add_report_command(commands) -> None:
    """report: the HTML report of the stored KPIs."""
    report = add_command(
        commands,
        "report",
        "write an HTML report (opens offline) of the stored KPIs, their data quality"
        " and the last runs",
    )
    report.add_argument(
        "--out",
        type=Path,
        default=None,
        metavar="FILE",
        help=f"where to write it (default {DEFAULT_REPORT})",
    )
    report.add_argument(
        "--since",
        type=parse_date,
        default=None,
        metavar="YYYY-MM-DD",
        help="the first window end (as-of date) to show (default 90 days ago)",
    )
    report.add_argument(
        "--png", type=Path, default=None, metavar="DIR", help="also write the charts as PNG files"
    )
    report.add_argument(
        "--markdown",
        action="store_true",
        help="print the standup summary as Markdown on stdout instead (the KPIs against 7 days"
        " earlier, what moved them, the data's health, a failed last run); writes no file",
    )


def add_demo_commands(commands) -> None:
    """demo and docs: the embedded demo database (the demo extra)."""
    demo = add_command(
        commands,
        "demo",
        "run the job on an embedded PostgreSQL loaded with synthetic data",
        "Starts an embedded PostgreSQL (data in .demo/), loads a synthetic data set"
        " (300 shops, 60 days; reloaded when it is older than the as-of date), computes"
        " the last 30 as-of dates in one build, prints the facts of the last one and"
        " writes the report.",
    )
    add_as_of_option(demo)
    demo.add_argument(
        "--fresh", action="store_true", help="drop and reload the demo database first"
    )
    add_json_option(demo)
    demo.add_argument(
        "--keep-running",
        action="store_true",
        help="leave the embedded PostgreSQL running afterwards and print its URL (for psql,"
        " or DATABASE_URL=... nightly-metrics history/report) until Ctrl+C",
    )
    add_output_options(demo)

    docs = add_command(
        commands,
        "docs",
        "generate the dbt docs site (lineage) against the demo database",
        "Builds the demo database and generates dbt's docs site: a single file,"
        " target/static_index.html, that opens from disk; --serve also serves it.",
    )
    docs.add_argument(
        "--serve", action="store_true", help="serve the site on http://localhost:PORT until Ctrl+C"
    )
    docs.add_argument(
        "--port", type=int, default=8080, help="the port --serve listens on (default 8080)"
    )
    docs.add_argument(
        "--fresh", action="store_true", help="drop and reload the demo database first"
    )
    add_output_options(docs)
