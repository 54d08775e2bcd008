"""The `nightly-metrics` command: run, backfill, history, report, demo, docs."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from datetime import UTC, date, datetime, timedelta

import psycopg

from . import console, db, dbt_invoke, errors, history, job, project
from .arguments import MAX_BACKFILL_DAYS, build_parser
from .database_url import ConfigError, settings_from_environment
from .errors import ExitCode
from .paths import DEFAULT_REPORT
from .render import json_default, print_facts, runs_as_table


def check_not_after_tomorrow(option: str, value: date) -> None:
    """A later window would end in the future: its fact, dated by createdAt,
    would outrank every real window on the dashboard until that day."""
    tomorrow = project.today_utc() + timedelta(days=1)
    if value > tomorrow:
        raise ConfigError(
            f"{option} {value} is after tomorrow ({tomorrow}, UTC): its window would end in"
            " the future and its fact would show on the dashboard as the newest until then"
        )


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
        evidence_url=args.evidence_url,
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
    from .report import write_report
    from .report_data import ReportError

    settings, _ = settings_from_environment(os.environ)
    out = args.out or DEFAULT_REPORT
    since = args.since or project.today_utc() - timedelta(days=90)
    try:
        with db.connect(settings, autocommit=True) as conn:
            if args.markdown:
                from .report_markdown import markdown_summary

                summary = markdown_summary(
                    conn, settings.source_schema, project.TARGET_SCHEMA_DEFAULT, since
                )
                print(summary, end="", flush=True)
                return 0
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
