"""Runs dbt-project-evaluator over this project, as a peer check, without
making it a dependency: the evaluator and dbt-utils are `local:` packages
from a folder outside the repository (NIGHTLY_METRICS_EVALUATOR_PACKAGES,
holding dbt_project_evaluator/ and dbt_utils/), listed in a packages.yml of
a scratch copy of the project that is thrown away afterwards. The build runs
on the embedded PostgreSQL with the demo's synthetic data.

    NIGHTLY_METRICS_EVALUATOR_PACKAGES=/work/evaluator-pkgs \\
        .venv/bin/python scripts/run_project_evaluator.py

Prints each rule that warns and the PASS/WARN/ERROR counts; exits 1 when a
rule errors or more than --max-warn rules warn. See docs/project-evaluator.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs, urlparse

CHECKOUT = Path(__file__).resolve().parent.parent
DATABASE = "nightly_metrics_evaluator"
# The project's own unique_combination_of_columns test (tests/generic/) is
# the dbt-utils test of that name without the package: the evaluator credits
# it as a primary-key test in place of dbt-utils' one (the var's default
# names dbt_utils.test_unique_combination_of_columns).
EVALUATOR_VARS = {
    "primary_key_test_macros": [
        ["dbt.test_unique", "dbt.test_not_null"],
        ["nightly_metrics.test_unique_combination_of_columns"],
    ],
}
IGNORED = shutil.ignore_patterns(
    ".git",
    ".venv",
    "target",
    "logs",
    "dbt_packages",
    ".demo",
    ".spark",
    ".benchmark",
    "__pycache__",
    "*.egg-info",
    ".pgdata*",
    "package-lock.yml",
)


def demo_database(data_dir: Path) -> tuple[object, str]:
    """The embedded server and the URI of a database holding the demo data."""
    import psycopg

    from nightly_metrics.embedded import create_database, start_server
    from nightly_metrics.synthetic_data import SCALES, create_source_tables, generate

    server = start_server(data_dir)
    uri = create_database(server, DATABASE, drop_existing=True)
    as_of = datetime.now(UTC).date()
    with psycopg.connect(uri) as conn:
        create_source_tables(conn)
        generate(conn, SCALES["demo"], as_of=as_of, seed=42)
        conn.commit()
    return server, uri


def dbt_environment(uri: str, profiles_dir: Path) -> dict[str, str]:
    parsed = urlparse(uri)
    host = parse_qs(parsed.query).get("host", [parsed.hostname or "localhost"])[0]
    env = dict(os.environ)
    env.update(
        {
            "DBT_PROFILES_DIR": str(profiles_dir),
            "NIGHTLY_METRICS_DB_HOST": host,
            "NIGHTLY_METRICS_DB_PORT": str(parsed.port or 5432),
            "NIGHTLY_METRICS_DB_USER": parsed.username or "postgres",
            "DBT_ENV_SECRET_NIGHTLY_METRICS_DB_PASSWORD": parsed.password or "",
            "NIGHTLY_METRICS_DB_NAME": DATABASE,
            "NIGHTLY_METRICS_DB_SSLMODE": "disable",
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        }
    )
    return env


def scratch_project(packages: Path, into: Path) -> Path:
    project = into / "project"
    shutil.copytree(CHECKOUT, project, ignore=IGNORED)
    # The project's exceptions (evaluator/dbt_project_evaluator_exceptions.csv)
    # replace the package's empty seed. evaluator/ is a seed path only here:
    # the project's own builds never see it.
    config = (project / "dbt_project.yml").read_text()
    assert 'seed-paths: ["seeds"]' in config, "dbt_project.yml: seed-paths changed"
    config = config.replace('seed-paths: ["seeds"]', 'seed-paths: ["seeds", "evaluator"]')
    config += (
        "\nseeds:\n  dbt_project_evaluator:\n"
        "    dbt_project_evaluator_exceptions:\n      +enabled: false\n"
    )
    (project / "dbt_project.yml").write_text(config)
    (project / "packages.yml").write_text(
        "packages:\n"
        f"  - local: {packages / 'dbt_project_evaluator'}\n"
        f"  - local: {packages / 'dbt_utils'}\n"
    )
    # What `dbt deps` would do, without it: the evaluator's own packages.yml
    # asks dbt Hub for dbt_utils, which the local copy stands in for.
    (project / "dbt_packages").mkdir()
    for name in ("dbt_project_evaluator", "dbt_utils"):
        (project / "dbt_packages" / name).symlink_to(packages / name)
    shutil.copy(CHECKOUT / "profiles.example.yml", into / "profiles.yml")
    return project


def summarize(project: Path) -> dict[str, list[str]]:
    """Each node's status, as dbt's "Done." line counts them; the rules (the
    evaluator's tests) by name."""
    results = json.loads((project / "target" / "run_results.json").read_text())
    by_status: dict[str, list[str]] = {}
    for result in results["results"]:
        status = {"success": "pass"}.get(result["status"], result["status"])
        node = result["unique_id"]
        if node.startswith("test."):
            node = f"{node.split('.')[2]} ({result.get('failures') or 0} rows)"
        by_status.setdefault(status, []).append(node)
    return by_status


def show_rows(uri: str, warned: list[str]) -> None:
    """The rows of each warning rule's fact table: what the rule found."""
    import psycopg

    with psycopg.connect(uri) as conn:
        for rule in warned:
            table = rule.split(" ")[0].removeprefix("is_empty_").rstrip("_")
            if rule.startswith("valid_test_coverage"):
                table = "fct_test_coverage"
            found = conn.execute(
                "select table_schema from information_schema.tables where table_name = %s",
                (table,),
            ).fetchone()
            if not found:
                continue
            cursor = conn.execute(f'select * from "{found[0]}"."{table}"')
            print(f"--- {table}: " + ", ".join(c.name for c in cursor.description))
            for row in cursor.fetchall():
                print("   ", row)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--max-warn", type=int, default=2, help="rules allowed to warn (default 2)")
    parser.add_argument(
        "--show-rows", action="store_true", help="print what each warning rule found"
    )
    args = parser.parse_args()
    packages = os.environ.get("NIGHTLY_METRICS_EVALUATOR_PACKAGES")
    if not packages or not (Path(packages) / "dbt_project_evaluator").is_dir():
        print(
            "run_project_evaluator: set NIGHTLY_METRICS_EVALUATOR_PACKAGES to a folder holding"
            " dbt_project_evaluator/ (v1.3.2) and dbt_utils/ (1.4.1)",
            file=sys.stderr,
        )
        return 2
    dbt = Path(sys.executable).parent / "dbt"
    with tempfile.TemporaryDirectory(prefix="nightly-metrics-evaluator-") as scratch:
        scratch_dir = Path(scratch)
        server, uri = demo_database(scratch_dir / "pgdata")
        try:
            project = scratch_project(Path(packages).resolve(), scratch_dir)
            env = dbt_environment(uri, scratch_dir)
            run = ["--project-dir", str(project)]
            subprocess.run(
                [
                    dbt,
                    "build",
                    *run,
                    "--select",
                    "package:dbt_project_evaluator",
                    "dbt_project_evaluator_exceptions",
                    "--vars",
                    json.dumps(EVALUATOR_VARS),
                ],
                env=env,
                cwd=project,
            )
            by_status = summarize(project)
            if args.show_rows:
                show_rows(uri, by_status.get("warn", []))
        finally:
            server.cleanup()
    for status in ("warn", "fail", "error", "skipped"):
        for name in by_status.get(status, []):
            print(f"{status.upper()}: {name}")
    counts = {status: len(nodes) for status, nodes in by_status.items()}
    print(
        "dbt-project-evaluator: "
        + ", ".join(f"{status.upper()}={count}" for status, count in sorted(counts.items()))
    )
    failed = counts.get("error") or counts.get("fail") or counts.get("skipped")
    if failed or counts.get("warn", 0) > args.max_warn:
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
