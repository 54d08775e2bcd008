"""The `nightly-metrics` command: run, backfill, history, report, demo, docs."""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import sys
import textwrap
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import psycopg

from . import console, db, dbt_invoke, errors, history, job, project
from .database_url import ConfigError, settings_from_environment
from .errors import ExitCode
from .paths import DEFAULT_REPORT
from .render import json_default, print_facts, runs_as_table

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


def check_not_after_tomorrow(option: str, value: date) -> None:
    """A later window would end in the future: its fact, dated by createdAt,
    would outrank every real window on the dashboard until that day."""
    tomorrow = project.today_utc() + timedelta(days=1)
    if value > tomorrow:
        raise ConfigError(
            f"{option} {value} is after tomorrow ({tomorrow}, UTC): its window would end in"
            " the future and its fact would show on the dashboard as the newest until then"
        )


def add_run_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--dry-run", action="store_true", help="compute and print the facts without writing them"
    )
    parser.add_argument(
        "--json",
        action="store_true",
        help="print the facts as JSON on stdout (logs stay on stderr)",
    )
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
    demo.add_argument(
        "--json",
        action="store_true",
        help="print the facts as JSON on stdout (logs stay on stderr)",
    )
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


def command_run(args: argparse.Namespace, start: date, end: date) -> int:
    settings, connection_note = settings_from_environment(os.environ)
    console.log(connection_note)
    result = job.run_job(
        settings,
        start,
        end,
        command=args.command,
        dry_run=args.dry_run,
        allow_missing_days=args.allow_missing_days,
        allow_fewer_rows=args.allow_fewer_rows,
        rebuild_breach_memory=args.rebuild_breach_memory,
        min_daily_rows=args.min_daily_rows,
        quiet=not args.verbose,
        lock_timeout_seconds=args.lock_timeout,
        statement_timeout_seconds=args.statement_timeout,
    )
    print_facts(result.facts, args.json)
    for problem in result.problems:
        print(f"nightly-metrics: {problem}", file=sys.stderr, flush=True)
    return result.exit_code


def command_history(args: argparse.Namespace) -> int:
    settings, _ = settings_from_environment(os.environ)
    try:
        with db.connect(settings, autocommit=True) as conn:
            runs = history.read(conn, project.TARGET_SCHEMA_DEFAULT, args.limit)
    except psycopg.Error as error:
        raise errors.JobError(
            f"cannot read the run history: {' '.join(str(error).split())}", ExitCode.CONFIG
        ) from None
    if args.json:
        print(json.dumps(runs or [], default=json_default, indent=2), flush=True)
    elif not runs:
        print(f"no run recorded yet in {project.TARGET_SCHEMA_DEFAULT}.{history.TABLE}", flush=True)
    else:
        print(runs_as_table(runs), flush=True)
    return 0


def command_report(args: argparse.Namespace) -> int:
    from .report import ReportError, write_report

    settings, _ = settings_from_environment(os.environ)
    out = args.out or DEFAULT_REPORT
    since = args.since or project.today_utc() - timedelta(days=90)
    try:
        with db.connect(settings, autocommit=True) as conn:
            data = write_report(
                conn,
                source_schema=settings.source_schema,
                target_schema=project.TARGET_SCHEMA_DEFAULT,
                since=since,
                until=project.today_utc(),
                out=out,
                png_dir=args.png,
                source_description=settings.describe(),
                generated_at=datetime.now(UTC),
            )
    except ReportError as error:
        raise ConfigError(str(error)) from None
    except OSError as error:
        raise ConfigError(f"cannot write the report: {error}") from None
    except psycopg.Error as error:
        raise errors.JobError(
            f"cannot read the stored facts or the run history: {' '.join(str(error).split())}",
            ExitCode.CONFIG,
        ) from None
    windows = max(len(w) for w in data.windows.values())
    console.log(f"report of {windows} window(s) since {since} written to {out}")
    if args.png:
        console.log(f"charts written to {args.png}/activation.png and {args.png}/sla.png")
    return 0


def stop_on_signal(signal_number: int, _frame) -> None:
    """Ctrl+C and SIGTERM both unwind the run as an interrupt: dbt cancels its
    queries, open transactions roll back, every lock, temporary folder and
    embedded server of ours is released on the way out. A second signal during
    that cleanup is ignored."""
    if job.Interruption.signal_number is not None:
        return
    job.Interruption.signal_number = signal_number
    for number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(number, signal.SIG_IGN)
    dbt_invoke.DbtOutput.mute_all()
    raise KeyboardInterrupt


def report_interrupt() -> int:
    """Says which signal stopped the run and returns its exit code, 128 + its number.

    CPython 3.11 remembers a KeyboardInterrupt that passed through any exec() or
    eval() of a string (dataclasses and dbt's serializers generate code that way)
    and, under `python -m`, then kills the process with SIGINT at exit even though
    the interrupt was handled here. A successful exec() of a string clears that
    memory, so the exit code stays 130 or 143."""
    number = job.Interruption.signal_number or signal.SIGINT
    # A run says what it had committed by then (job.run_job), even when it is "nothing".
    committed = f"; {job.Interruption.committed}" if job.Interruption.committed else ""
    print(
        f"nightly-metrics: stopped by {signal.Signals(number).name}{committed}; what the run"
        " had not committed was rolled back",
        file=sys.stderr,
    )
    exec("")  # clears CPython's "unhandled KeyboardInterrupt" flag, see above
    return 128 + number


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    console.configure(quiet=bool(getattr(args, "quiet", False)))
    job.Interruption.signal_number = None
    job.Interruption.committed = None
    dbt_invoke.DbtOutput.interrupted = False
    signal.signal(signal.SIGTERM, stop_on_signal)
    signal.signal(signal.SIGINT, stop_on_signal)
    try:
        if args.command == "run":
            as_of = args.as_of or project.today_utc()
            check_not_after_tomorrow("--as-of", as_of)
            return command_run(args, as_of, as_of)
        if args.command == "backfill":
            check_not_after_tomorrow("--end", args.end)
            if args.end < args.start:
                raise ConfigError(f"--end ({args.end}) is before --start ({args.start})")
            if (args.end - args.start).days >= MAX_BACKFILL_DAYS:
                raise ConfigError(f"a backfill covers at most {MAX_BACKFILL_DAYS} days")
            return command_run(args, args.start, args.end)
        if args.command == "demo":
            from .demo import run_demo

            if args.as_of:
                check_not_after_tomorrow("--as-of", args.as_of)
            return run_demo(
                args.as_of or project.today_utc(),
                fresh=args.fresh,
                as_json=args.json,
                quiet=not args.verbose,
                keep_running=args.keep_running,
            )
        if args.command == "history":
            return command_history(args)
        if args.command == "report":
            return command_report(args)
        if args.command == "docs":
            from .demo import generate_docs

            return generate_docs(serve=args.serve, port=args.port, fresh=args.fresh)
    except ConfigError as error:
        print(f"nightly-metrics: configuration error: {error}", file=sys.stderr)
        return ExitCode.CONFIG
    except errors.JobError as error:
        print(f"nightly-metrics: {error}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        return report_interrupt()
    parser.error(f"unknown command {args.command}")
    return ExitCode.CONFIG


if __name__ == "__main__":
    sys.exit(main())
