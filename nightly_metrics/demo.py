"""The demo: the whole job on an embedded PostgreSQL with synthetic data, for
users who have no database of their own. Also serves the docs site."""

from __future__ import annotations

import sys
from datetime import UTC, date, datetime, timedelta

import psycopg

from . import job
from .database_url import parse_database_url
from .embedded import EmbeddedPostgresMissing, create_database, start_server
from .paths import DEMO_DATA_DIR, DOCS_TARGET_DIR, LOG_DIR

DEMO_DATABASE = "nightly_metrics_demo"


def prepare_demo_database(as_of: date, *, fresh: bool = False):
    """Starts the embedded server, creates the demo database and loads the
    synthetic data set the first time (or when `fresh`). Returns (server, settings)."""
    from .synthetic_data import SCALES, create_source_tables, generate

    job.log(f"starting the embedded PostgreSQL in {DEMO_DATA_DIR}")
    try:
        server = start_server(DEMO_DATA_DIR)
    except EmbeddedPostgresMissing as error:
        raise job.JobError(str(error), job.EXIT_CONFIG) from None
    uri = create_database(server, DEMO_DATABASE, drop_existing=fresh)
    settings = parse_database_url(uri)
    with psycopg.connect(uri) as conn:
        create_source_tables(conn)
        loaded = conn.execute('select count(*) from "DashboardFact"').fetchone()[0]
        if loaded == 0:
            job.log(f"loading the synthetic data set (scale 'demo', history up to {as_of})")
            counts = generate(conn, SCALES["demo"], as_of=as_of, seed=42)
            conn.commit()
            job.log("loaded " + ", ".join(f"{kind}: {count}" for kind, count in counts.items()))
    return server, settings


DEMO_TREND_DAYS = 30  # as-of dates the demo computes, so that the report shows a trend


def run_demo(as_of: date, *, fresh: bool = False, as_json: bool = False, quiet: bool = True) -> int:
    """Backfills the demo data's last 30 as-of dates in one build, prints the
    facts of the last one and writes the report."""
    from .cli import DEFAULT_REPORT, print_facts
    from .report import ReportError, write_report

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
            with job.connect(settings, autocommit=True) as conn:
                write_report(
                    conn,
                    source_schema=settings.source_schema,
                    target_schema=job.TARGET_SCHEMA_DEFAULT,
                    since=first,
                    until=as_of,
                    out=DEFAULT_REPORT,
                    png_dir=None,
                    source_description="the demo database",
                    generated_at=datetime.now(UTC),
                )
        except ReportError as error:
            job.log(f"no report: {error}")
        else:
            where = f"Report of the last {DEMO_TREND_DAYS} windows, opens offline: {DEFAULT_REPORT}"
            if as_json:
                job.log(where)  # stdout carries the JSON alone
            else:
                print(f"\n{where}", flush=True)
    finally:
        server.cleanup()
    return result.exit_code


def generate_docs(*, serve: bool = False, port: int = 8080) -> int:
    """`dbt docs generate` (and optionally `serve`) against the demo database,
    so the catalog shows real columns and types."""
    from .cli import today_utc

    server, settings = prepare_demo_database(today_utc())
    try:
        target = DOCS_TARGET_DIR
        # The site shows the lineage and the catalog: a source day missing from
        # the demo data must not keep it from being built.
        outcome = job.invoke_dbt(
            [
                "build",
                "--exclude-resource-type",
                "unit_test",
                "--vars",
                '{"allow_missing_days": true}',
            ],
            settings,
            job.TARGET_SCHEMA_DEFAULT,
            target_path=target,
        )
        if not outcome.success:
            raise job.JobError(
                f"the demo build failed; see {LOG_DIR / 'dbt.log'}", job.EXIT_BUILD_FAILED
            )
        outcome = job.invoke_dbt(
            ["docs", "generate"], settings, job.TARGET_SCHEMA_DEFAULT, target_path=target
        )
        if not outcome.success:
            raise job.JobError(
                f"dbt docs generate failed: {outcome.exception}", job.EXIT_BUILD_FAILED
            )
        print(f"docs site written to {target / 'index.html'}", file=sys.stderr)
        if serve:
            job.invoke_dbt(
                ["docs", "serve", "--port", str(port)],
                settings,
                job.TARGET_SCHEMA_DEFAULT,
                quiet=False,
                target_path=target,
            )
    finally:
        server.cleanup()
    return job.EXIT_OK
