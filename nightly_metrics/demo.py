"""The demo: the whole job on an embedded PostgreSQL with synthetic data, for
users who have no database of their own. Also serves the docs site."""

from __future__ import annotations

import functools
import sys
import time
from datetime import UTC, date, datetime, timedelta

import psycopg

from . import console, db, dbt_invoke, errors, job, project
from .database_url import parse_database_url
from .embedded import EmbeddedPostgresMissing, create_database, start_server
from .errors import ExitCode
from .paths import DEFAULT_REPORT, DEMO_DATA_DIR, DOCS_TARGET_DIR, LOG_DIR
from .render import print_facts

DEMO_DATABASE = "nightly_metrics_demo"
# The demo's tables are made from the Prisma schema's DDL, so they are read by
# the prisma preset's names whatever the environment sets for a real database.
DEMO_NAMING = {
    "NIGHTLY_METRICS_SOURCE_NAMING": "prisma",
    **{variable: "" for variable in project.TABLE_NAME_VARIABLES.values()},
}


def with_prisma_names(function):
    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        with dbt_invoke.temporary_environment(DEMO_NAMING):
            return function(*args, **kwargs)

    return wrapper


def prepare_demo_database(as_of: date, *, fresh: bool = False):
    """Starts the embedded server, creates the demo database and loads the
    synthetic data set the first time (or when `fresh`). Returns (server, settings)."""
    from .synthetic_data import SCALES, create_source_tables, generate

    console.log(f"starting the embedded PostgreSQL in {DEMO_DATA_DIR}")
    try:
        server = start_server(DEMO_DATA_DIR)
    except EmbeddedPostgresMissing as error:
        raise errors.JobError(str(error), ExitCode.CONFIG) from None
    except RuntimeError as error:
        # e.g. no folder short enough for its unix socket (a long data path and
        # XDG_RUNTIME_DIR): a setting to change, not a traceback
        raise errors.JobError(
            f"the embedded PostgreSQL in {DEMO_DATA_DIR} did not start: {error}"
            " (a shorter NIGHTLY_METRICS_HOME or XDG_RUNTIME_DIR helps where the socket"
            " path is too long)",
            ExitCode.CONFIG,
        ) from None
    uri = create_database(server, DEMO_DATABASE, drop_existing=fresh)
    ends = demo_data_end(uri)
    if ends is not None and ends != as_of - timedelta(days=1):
        # Synthetic data ends the day before the date it was made for. On a later
        # day the newest windows would have no data at all (missing source days);
        # for an earlier one the 30 windows would reach before its first day.
        console.log(
            f"the demo data ends on {ends}, not the day before the as-of date {as_of}:"
            " making it again for this date (the demo database is dropped and reloaded)"
        )
        uri = create_database(server, DEMO_DATABASE, drop_existing=True)
    settings = parse_database_url(uri)
    with psycopg.connect(uri) as conn:
        create_source_tables(conn)
        loaded = conn.execute('select count(*) from "DashboardFact"').fetchone()[0]
        if loaded == 0:
            console.log(f"loading the synthetic data set (scale 'demo', history up to {as_of})")
            counts = generate(conn, SCALES["demo"], as_of=as_of, seed=42)
            conn.commit()
            console.log("loaded " + ", ".join(f"{kind}: {count}" for kind, count in counts.items()))
        else:
            console.log(
                f"reusing the demo data loaded before ({loaded} DashboardFact rows;"
                " --fresh reloads it)"
            )
    return server, settings


def demo_data_end(uri: str) -> date | None:
    """The last day of the loaded synthetic data (its newest session), if any."""
    with psycopg.connect(uri) as conn:
        found = conn.execute("select to_regclass('public.\"DashboardFact\"')").fetchone()[0]
        if found is None:
            return None
        newest = conn.execute(
            'select max("createdAt") from "DashboardFact" where "factType" = %s',
            (project.FACT_TYPES["dashboard_session"],),
        ).fetchone()[0]
    return newest.date() if newest else None


DEMO_TREND_DAYS = 30  # as-of dates the demo computes, so that the report shows a trend


@with_prisma_names
def run_demo(
    as_of: date,
    *,
    fresh: bool = False,
    as_json: bool = False,
    quiet: bool = True,
    keep_running: bool = False,
) -> int:
    """Backfills the demo data's last 30 as-of dates in one build, prints the
    facts of the last one and writes the report."""
    from .report import write_report
    from .report_data import ReportError

    server, settings = prepare_demo_database(as_of, fresh=fresh)
    first = as_of - timedelta(days=DEMO_TREND_DAYS - 1)
    try:
        result = job.run_job(settings, first, as_of, command="demo", quiet=quiet)
        facts = [f for f in result.facts if f["createdAt"].date() == as_of]
        if not as_json:
            print(f'\nFacts written to "DashboardFact" for as-of {as_of}:\n')
        print_facts(facts, as_json)
        for problem in result.problems:
            print(f"nightly-metrics: {problem}", file=sys.stderr, flush=True)
        try:
            with db.connect(settings, autocommit=True) as conn:
                write_report(
                    conn,
                    source_schema=settings.source_schema,
                    target_schema=project.TARGET_SCHEMA_DEFAULT,
                    since=first,
                    until=as_of,
                    out=DEFAULT_REPORT,
                    png_dir=None,
                    source_description="the demo database",
                    generated_at=datetime.now(UTC),
                )
        except ReportError as error:
            console.log(f"no report: {error}")
        else:
            where = f"Report of the last {DEMO_TREND_DAYS} windows, opens offline: {DEFAULT_REPORT}"
            if as_json:
                console.log(where)  # stdout carries the JSON alone
            else:
                print(f"\n{where}", flush=True)
        if keep_running:
            wait_while_serving(server)
    finally:
        server.cleanup()
    return result.exit_code


def wait_while_serving(server) -> None:
    """--keep-running: the demo database stays up until Ctrl+C (or SIGTERM)."""
    uri = server.get_uri(database=DEMO_DATABASE)
    print(
        "\nThe demo database is running; connect with\n"
        f"  psql '{uri}'\n"
        f"  DATABASE_URL='{uri}' nightly-metrics history\n"
        'Its tables: public."DashboardFact", public."DecisionLog" (the application\'s),'
        " nightly_metrics.* (the project's). Ctrl+C stops it.",
        file=sys.stderr,
        flush=True,
    )
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        # The way this mode ends: the run's own exit code stands.
        console.log("stopping the demo database")


@with_prisma_names
def generate_docs(*, serve: bool = False, port: int = 8080, fresh: bool = False) -> int:
    """`dbt docs generate` (and optionally `serve`) against the demo database,
    so the catalog shows real columns and types."""

    server, settings = prepare_demo_database(project.today_utc(), fresh=fresh)
    try:
        target = DOCS_TARGET_DIR
        # The site shows the lineage and the catalog: a source day missing from
        # the demo data must not keep it from being built.
        outcome = dbt_invoke.invoke_dbt(
            [
                "build",
                "--exclude-resource-type",
                "unit_test",
                "--vars",
                '{"allow_missing_days": true}',
            ],
            settings,
            project.TARGET_SCHEMA_DEFAULT,
            target_path=target,
        )
        if not outcome.success:
            raise errors.JobError(
                f"the demo build failed; see {LOG_DIR / 'dbt.log'}", ExitCode.BUILD_FAILED
            )
        # --static also writes static_index.html: the site in one file, manifest and
        # catalog inside, which a browser opens from disk (index.html fetches them,
        # which browsers refuse on file://).
        outcome = dbt_invoke.invoke_dbt(
            ["docs", "generate", "--static"],
            settings,
            project.TARGET_SCHEMA_DEFAULT,
            target_path=target,
        )
        if not outcome.success:
            raise errors.JobError(
                f"dbt docs generate failed: {outcome.exception}", ExitCode.BUILD_FAILED
            )
        console.log(
            f"docs site written: open {target / 'static_index.html'} in a browser (one file,"
            f" works from disk){'' if serve else ', or run nightly-metrics docs --serve'}"
        )
        if serve:
            console.log(f"serving it on http://localhost:{port} (Ctrl+C stops)")
        if serve:
            dbt_invoke.invoke_dbt(
                ["docs", "serve", "--port", str(port)],
                settings,
                project.TARGET_SCHEMA_DEFAULT,
                quiet=False,
                target_path=target,
            )
    finally:
        server.cleanup()
    return ExitCode.OK
