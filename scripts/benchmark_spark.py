"""The local Spark side of the benchmark (`scripts/benchmark.py --spark`).

For one scale: exports the source tables of its PostgreSQL database (COPY ...
TO STDOUT, CSV; pyarrow is not a dependency of the project), loads them into a
local Spark replica (`app_replica."DashboardFact"` / `"DecisionLog"`, parquet,
the columns docs/spark.md describes: JSON as STRING, timestamps as UTC
TIMESTAMP), then times `dbt build --target spark` as a command, the way one
would run it: the nightly build for the as-of date (first build, then a second
run) and, if the time budget allows, a 365-day backfill from a fresh
deployment. The facts Spark wrote are checked against the ones PostgreSQL
wrote for the same dates (value and metadata, generatedAt aside).

Spark's warehouse and Derby metastore live under the benchmark's data folder
(`.benchmark/spark_<scale>/`, git-ignored). Every Spark step runs in its own
process (the embedded Derby metastore admits one at a time): this module is
also the worker, `python scripts/benchmark_spark.py load|facts ...`.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
SOURCE_SCHEMA = "app_replica"
TARGET_SCHEMA = "nightly_metrics"
SPARK_MASTER = "local[*]"
DRIVER_MEMORY = "6g"
AGGREGATE_SHOP = "__aggregate__"

# (column, Spark type, PostgreSQL expression exported)
FACT_COLUMNS = [
    ("id", "bigint", "id"),
    ("shopDomain", "string", '"shopDomain"'),
    ("factType", "string", '"factType"'),
    ("scope", "string", "scope"),
    ("value", "string", "value::text"),
    ("metadata", "string", "metadata::text"),
    ("evidenceUrl", "string", '"evidenceUrl"'),
    ("createdAt", "timestamp", '"createdAt"'),
    ("updatedAt", "timestamp", '"updatedAt"'),
]
DECISION_COLUMNS = [
    ("id", "bigint", "id"),
    ("scope", "string", "scope"),
    ("actor", "string", "actor"),
    ("action", "string", "action"),
    ("rationale", "string", "rationale"),
    ("evidenceUrl", "string", '"evidenceUrl"'),
    ("shopDomain", "string", '"shopDomain"'),
    ("externalRef", "string", '"externalRef"'),
    ("payload", "string", "payload::text"),
    ("createdAt", "timestamp", '"createdAt"'),
]
TABLES = {"DashboardFact": FACT_COLUMNS, "DecisionLog": DECISION_COLUMNS}


def execute_seconds_per_node(results: dict) -> list[tuple[str, float]]:
    """(unique_id, seconds of its `execute` timing) for each node of a dbt run_results.json."""
    nodes = []
    for node in results["results"]:
        execute = sum(
            (
                datetime.fromisoformat(t["completed_at"].replace("Z", "+00:00"))
                - datetime.fromisoformat(t["started_at"].replace("Z", "+00:00"))
            ).total_seconds()
            for t in node.get("timing", [])
            if t["name"] == "execute" and t.get("started_at") and t.get("completed_at")
        )
        nodes.append((node["unique_id"], execute))
    return nodes


def log(message: str) -> None:
    print(f"benchmark: {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------
# Environment shared by the workers and dbt: the profile's `spark` output
# ---------------------------------------------------------------------------


def spark_env(spark_dir: Path) -> dict[str, str]:
    return {
        **os.environ,
        "NIGHTLY_METRICS_SPARK_DIR": str(spark_dir),
        "NIGHTLY_METRICS_SPARK_MASTER": SPARK_MASTER,
        "NIGHTLY_METRICS_SOURCE_SCHEMA": SOURCE_SCHEMA,
        "NIGHTLY_METRICS_TARGET_SCHEMA": TARGET_SCHEMA,
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        # The profile cannot set the driver's heap (the JVM starts with the
        # session); spark-submit's arguments can, for dbt's session as for ours.
        "PYSPARK_SUBMIT_ARGS": f"--driver-memory {DRIVER_MEMORY} pyspark-shell",
    }


def session_parameters(spark_dir: Path) -> dict[str, str]:
    """The `server_side_parameters` of profiles.example.yml's `spark` output."""
    return {
        "spark.sql.session.timeZone": "UTC",
        "spark.master": SPARK_MASTER,
        "spark.sql.warehouse.dir": f"{spark_dir}/warehouse",
        "spark.hadoop.javax.jdo.option.ConnectionURL": (
            f"jdbc:derby:;databaseName={spark_dir}/metastore_db;create=true"
        ),
        "spark.driver.extraJavaOptions": f"-Dderby.system.home={spark_dir}",
        "spark.driver.bindAddress": "127.0.0.1",
        "spark.driver.host": "127.0.0.1",
        "spark.ui.enabled": "false",
        "spark.sql.variant.allowDuplicateKeys": "true",
    }


def settings_text() -> str:
    try:
        java = subprocess.run(
            ["java", "-version"], capture_output=True, text=True, check=False
        ).stderr.splitlines()[0]
    except (OSError, IndexError):
        java = "java unknown"
    try:
        import pyspark

        version = pyspark.__version__
    except ImportError:
        version = "?"
    return (
        f"pyspark {version} ({java}), dbt-spark session method with the `spark` output of"
        f" profiles.example.yml; `spark.master = {SPARK_MASTER}` ({os.cpu_count()} cores),"
        f" driver memory {DRIVER_MEMORY} (`PYSPARK_SUBMIT_ARGS`), every other setting the"
        " profile's or Spark's default (e.g. `spark.sql.shuffle.partitions = 200`, adaptive"
        " query execution on); parquet tables and a Derby metastore on the local disk"
    )


# ---------------------------------------------------------------------------
# Export from PostgreSQL
# ---------------------------------------------------------------------------


def export_tables(uri: str, folder: Path, metric_types: list[str]) -> dict[str, int]:
    """Both source tables as CSV files (PostgreSQL's CSV: NULL unquoted and empty,
    an empty string as ""), without the project's own rows (a fresh deployment)."""
    import psycopg

    folder.mkdir(parents=True, exist_ok=True)
    counts = {}
    with psycopg.connect(uri, autocommit=True) as conn:
        for table, columns in TABLES.items():
            select = ", ".join(expression for _, _, expression in columns)
            where = (
                'where not ("shopDomain" = %s and "factType" = any(%s))'
                if table == "DashboardFact"
                else ""
            )
            params = (AGGREGATE_SHOP, metric_types) if where else None
            with (
                (folder / f"{table}.csv").open("wb") as out,
                conn.cursor() as cur,
                cur.copy(
                    f'copy (select {select} from "{table}" {where}) to stdout with (format csv)',
                    params,
                ) as copy,
            ):
                for block in copy:
                    out.write(block)
            counts[table] = conn.execute(
                f'select count(*) from "{table}" {where}', params
            ).fetchone()[0]
    return counts


# ---------------------------------------------------------------------------
# Spark steps, each in a process of its own
# ---------------------------------------------------------------------------


@dataclass
class Step:
    seconds: float
    ok: bool
    timed_out: bool = False
    output: str = ""
    error: str = ""


def run_step(command: list[str], env: dict, timeout: float) -> Step:
    started = time.perf_counter()
    proc = subprocess.Popen(
        command,
        cwd=PROJECT_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its JVM too can be stopped as a group
    )
    try:
        out, err = proc.communicate(timeout=max(timeout, 1))
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        return Step(time.perf_counter() - started, False, True, out, err)
    return Step(time.perf_counter() - started, proc.returncode == 0, False, out, err)


def worker(spark_dir: Path, *args: str, timeout: float) -> tuple[Step, object]:
    step = run_step(
        [sys.executable, str(Path(__file__).resolve()), str(spark_dir), *args],
        spark_env(spark_dir),
        timeout,
    )
    payload = None
    if step.ok:
        payload = json.loads(step.output.strip().splitlines()[-1])
    return step, payload


def dbt_build(spark_dir: Path, variables: dict, timeout: float) -> tuple[Step, dict]:
    """`dbt build --target spark`, as a command, with the runner's variables;
    the in-engine time is the sum of the nodes' execute timings."""
    dbt = Path(sys.executable).parent / "dbt"
    with tempfile.TemporaryDirectory(prefix="benchmark-spark-") as tmp:
        shutil.copy(PROJECT_DIR / "profiles.example.yml", Path(tmp) / "profiles.yml")
        step = run_step(
            [
                str(dbt),
                "build",
                "--target",
                "spark",
                "--vars",
                json.dumps(variables),
                "--exclude-resource-type",
                "unit_test",
                "--project-dir",
                str(PROJECT_DIR),
                "--profiles-dir",
                tmp,
                "--target-path",
                f"{tmp}/target",
                "--log-path",
                f"{tmp}/logs",
                "--quiet",
            ],
            spark_env(spark_dir),
            timeout,
        )
        results_file = Path(tmp) / "target" / "run_results.json"
        results = json.loads(results_file.read_text()) if results_file.exists() else None
    info: dict = {"in_engine": None, "nodes": [], "failures": []}
    if results:
        nodes = execute_seconds_per_node(results)
        for node in results["results"]:
            if node["status"] not in ("success", "pass", "warn", "skipped"):
                info["failures"].append(f"{node['unique_id']}: {node.get('message')}")
        info["in_engine"] = sum(seconds for _, seconds in nodes)
        info["nodes"] = sorted(nodes, key=lambda n: -n[1])[:6]
        info["warned"] = sum(1 for node in results["results"] if node["status"] == "warn")
    return step, info


# ---------------------------------------------------------------------------
# Comparing the facts
# ---------------------------------------------------------------------------


def comparable(value: str | dict | None) -> object:
    if isinstance(value, str):
        value = json.loads(value, parse_float=Decimal)
    if isinstance(value, dict):
        value = {k: v for k, v in value.items() if k != "generatedAt"}
    return value


def postgres_facts(uri: str, start: date, end: date, metric_types: list[str]) -> dict:
    import psycopg

    with psycopg.connect(uri, autocommit=True) as conn:
        rows = conn.execute(
            'select "factType", "createdAt", value::text, metadata::text from "DashboardFact"'
            ' where "shopDomain" = %s and "factType" = any(%s)'
            ' and "createdAt" >= %s and "createdAt" <= %s',
            (AGGREGATE_SHOP, metric_types, start, end),
        ).fetchall()
    return {
        (fact_type, created.isoformat()): (comparable(value), comparable(metadata))
        for fact_type, created, value, metadata in rows
    }


def compare(pg: dict, spark_rows: list[list], days: int, metric_types: list[str]) -> str:
    """'' when Spark wrote exactly one fact per type and date, equal to PostgreSQL's."""
    seen: dict = {}
    for fact_type, created, value, metadata in spark_rows:
        key = (fact_type, created)
        if key in seen:
            return f"two Spark rows for {key}"
        seen[key] = (comparable(value), comparable(metadata))
    expected = days * len(metric_types)
    if len(seen) != expected:
        return f"Spark wrote {len(seen)} facts, expected {expected}"
    missing = [key for key in seen if key not in pg]
    if missing:
        return f"{len(missing)} Spark facts have no PostgreSQL fact, e.g. {missing[0]}"
    differ = [key for key in seen if seen[key] != pg[key]]
    if differ:
        key = differ[0]
        return f"{len(differ)} facts differ, e.g. {key}: Spark {seen[key]} vs PostgreSQL {pg[key]}"
    return ""


# ---------------------------------------------------------------------------
# One scale
# ---------------------------------------------------------------------------


@dataclass
class SparkResult:
    scale: str
    rows: dict[str, int] = field(default_factory=dict)
    export_seconds: float | None = None
    export_bytes: int = 0
    load_seconds: list[float] = field(default_factory=list)
    cold: Step | None = None
    cold_engine: float | None = None
    warm: Step | None = None
    warm_engine: float | None = None
    warm_nodes: list = field(default_factory=list)
    nightly_check: str | None = None
    backfill: Step | None = None
    backfill_engine: float | None = None
    backfill_nodes: list = field(default_factory=list)
    backfill_check: str | None = None
    notes: list[str] = field(default_factory=list)
    total_seconds: float = 0.0


def fresh_replica(result: SparkResult, spark_dir: Path, export: Path, deadline: float) -> bool:
    """A fresh deployment: an empty warehouse, the replica loaded from the export."""
    shutil.rmtree(spark_dir, ignore_errors=True)
    spark_dir.mkdir(parents=True)
    step, counts = worker(spark_dir, "load", str(export), timeout=deadline - time.monotonic())
    if not step.ok:
        result.notes.append(
            f"loading the Spark replica failed{' (time budget)' if step.timed_out else ''}:"
            f" {step.error[-1500:]}"
        )
        return False
    result.load_seconds.append(step.seconds)
    if counts != result.rows:
        result.notes.append(f"Spark replica row counts {counts} differ from the export's")
        return False
    log(f"{result.scale}: Spark replica loaded in {step.seconds:.0f} s: {counts}")
    return True


def build_failed(step: Step, info: dict) -> str:
    if step.timed_out:
        return "stopped at the time budget"
    return f"failed: {info['failures'][:3]} {step.output[-800:]} {step.error[-800:]}"


def bench_spark_scale(
    scale: str,
    uri: str,
    data_dir: Path,
    *,
    as_of: date,
    backfill_days: int,
    variables: dict,
    backfill_variables: dict,
    metric_types: list[str],
    budget: float,
) -> SparkResult:
    started = time.monotonic()
    deadline = started + budget
    result = SparkResult(scale)
    spark_dir = (data_dir / f"spark_{scale.lower()}").resolve()
    export = (data_dir / f"spark_{scale.lower()}_export").resolve()

    log(f"{scale}: exporting the source tables from PostgreSQL (CSV)")
    t0 = time.perf_counter()
    result.rows = export_tables(uri, export, metric_types)
    result.export_seconds = time.perf_counter() - t0
    result.export_bytes = sum(f.stat().st_size for f in export.glob("*.csv"))
    log(f"{scale}: exported {result.rows} in {result.export_seconds:.0f} s")

    try:
        if not fresh_replica(result, spark_dir, export, deadline):
            return result

        log(f"{scale}: Spark nightly build (first build)")
        step, info = dbt_build(spark_dir, variables, deadline - time.monotonic())
        result.cold, result.cold_engine = step, info["in_engine"]
        if not step.ok:
            result.notes.append(f"Spark nightly first build {build_failed(step, info)}")
            return result
        log(f"{scale}: Spark nightly second run")
        step, info = dbt_build(spark_dir, variables, deadline - time.monotonic())
        result.warm, result.warm_engine = step, info["in_engine"]
        result.warm_nodes = info["nodes"]
        if not step.ok:
            result.notes.append(f"Spark nightly second run {build_failed(step, info)}")
            return result
        if info.get("warned"):
            result.notes.append(f"nightly build on Spark: {info['warned']} test(s) warned")
        step, rows = worker(
            spark_dir, "facts", str(as_of), str(as_of), timeout=deadline - time.monotonic()
        )
        if step.ok:
            pg = postgres_facts(uri, as_of, as_of, metric_types)
            result.nightly_check = compare(pg, rows, 1, metric_types)
        else:
            result.nightly_check = f"could not read Spark's facts: {step.error[-800:]}"
        log(f"{scale}: nightly facts equal: {result.nightly_check or 'yes'}")

        # The backfill, from a fresh deployment, with what is left of the budget.
        left = deadline - time.monotonic()
        if left < 0.25 * budget:
            result.notes.append(
                f"{backfill_days}-day backfill on Spark not attempted: {left:.0f} s of the"
                f" {budget:.0f} s budget left"
            )
            return result
        log(f"{scale}: Spark {backfill_days}-day backfill (fresh), {left:.0f} s of budget left")
        if not fresh_replica(result, spark_dir, export, deadline):
            return result
        step, info = dbt_build(spark_dir, backfill_variables, deadline - time.monotonic())
        result.backfill, result.backfill_engine = step, info["in_engine"]
        result.backfill_nodes = info["nodes"]
        if not step.ok:
            result.notes.append(
                f"{backfill_days}-day backfill on Spark {build_failed(step, info)}"
                f" after {step.seconds:.0f} s"
            )
            return result
        start = as_of - timedelta(days=backfill_days - 1)
        step, rows = worker(
            spark_dir, "facts", str(start), str(as_of), timeout=deadline - time.monotonic() + 300
        )
        if step.ok:
            pg = postgres_facts(uri, start, as_of, metric_types)
            result.backfill_check = compare(pg, rows, backfill_days, metric_types)
        else:
            result.backfill_check = f"could not read Spark's facts: {step.error[-800:]}"
        log(f"{scale}: backfill facts equal: {result.backfill_check or 'yes'}")
        return result
    finally:
        result.total_seconds = time.monotonic() - started


# ---------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------

# Keys of benchmark.py's figures (its labels, for --spark-only parsing)
PG_ROWS = [
    ("nightly_cold", "nightly run, first build (cold), whole command"),
    ("nightly_cmd", "nightly run, whole command"),
    ("nightly_db", "nightly run, in-database time (dbt run_results)"),
    ("backfill_cmd", "{days}-day backfill, whole command (fresh)"),
    ("backfill_db", "{days}-day backfill, in-database time (fresh)"),
]


def leading_number(text: str | None) -> float | None:
    match = re.match(r"\s*([0-9]+(?:\.[0-9]+)?)", text or "")
    return float(match.group(1)) if match else None


def comparison_rows(r: SparkResult, pg: dict[str, str], days: int) -> list[tuple[str, ...]]:
    def seconds(step: Step | None, value: float | None = None) -> str:
        if step is None:
            return "not run"
        if not step.ok:
            return (
                f"not finished ({'budget' if step.timed_out else 'failed'}, {step.seconds:.0f} s)"
            )
        number = step.seconds if value is None else value
        return f"{number:.2f} (1 run)"

    def ratio(pg_cell: str, spark_cell: str) -> str:
        a, b = leading_number(pg_cell), leading_number(spark_cell)
        return f"{b / a:.1f}×" if a and b and "not" not in spark_cell else "–"

    rows = []
    for key, label, spark_cell in (
        ("nightly_cold", "nightly, first build (cold), whole command", seconds(r.cold)),
        ("nightly_cmd", "nightly, steady state, whole command", seconds(r.warm)),
        (
            "nightly_db",
            "nightly, steady state, in-engine time (run_results execute)",
            seconds(r.warm, r.warm_engine),
        ),
        ("backfill_cmd", f"{days}-day backfill (fresh), whole command", seconds(r.backfill)),
        (
            "backfill_db",
            f"{days}-day backfill (fresh), in-engine time",
            seconds(r.backfill, r.backfill_engine),
        ),
    ):
        pg_cell = pg.get(key, "n/a")
        rows.append((label, pg_cell, spark_cell, ratio(pg_cell, spark_cell)))
    return rows


def check_text(check: str | None) -> str:
    if check is None:
        return "not checked"
    return "equal" if check == "" else f"**DIFFERENT**: {check[:400]}"


def render_section(
    results: list[tuple[SparkResult, dict[str, str]]],
    machine: str,
    pg_source: str,
    as_of: date,
    days: int,
    budget: float,
) -> str:
    lines = [
        "## PostgreSQL vs local Spark",
        "",
        f"- Machine: {machine}",
        f"- Spark: {settings_text()}.",
        f"- PostgreSQL figures: {pg_source}.",
        "- Spark side: the scale's two source tables exported from its PostgreSQL database"
        " (`COPY (select …, value::text, metadata::text, …) TO STDOUT` as CSV, without the"
        ' project\'s own facts) and loaded into `app_replica."DashboardFact"` /'
        ' `"DecisionLog"` (parquet; JSON as STRING, timestamps as UTC TIMESTAMP) by a pyspark'
        " process; then `dbt build --target spark --vars {as_of_start, as_of_end,"
        " escalation_lookback_days, write_back: true, allow_missing_days: true}"
        " --exclude-resource-type unit_test` as a command (python, dbt, the JVM's start and"
        " the parse included). The nightly build is for"
        f" {as_of}, first on a fresh replica then once more; the backfill from a fresh replica"
        f" again. Whole Spark part of a scale time-boxed to {budget:.0f} s.",
        "- Whole command on PostgreSQL is `nightly-metrics run` (the runner's checks and"
        " report included); on Spark `dbt build --target spark` (the runner talks to"
        " PostgreSQL only). In-engine time is the same measure on both: the sum of the nodes'"
        " `execute` timings in dbt's run_results.json.",
        "- Facts check: the `metrics.*` facts Spark wrote into its replica against those"
        " PostgreSQL wrote for the same dates: one row per fact type and date, values and"
        " metadata equal (generatedAt aside).",
        "",
    ]
    for r, pg in results:
        lines += [f"### Scale {r.scale}", ""]
        lines.append(
            f"{r.rows.get('DashboardFact', 0):,} `DashboardFact` rows,"
            f" {r.rows.get('DecisionLog', 0):,} `DecisionLog` rows exported"
            f" ({r.export_bytes / 1e6:,.0f} MB of CSV)."
        )
        lines += [
            "",
            "| measurement (seconds) | PostgreSQL | local Spark | Spark ÷ PostgreSQL |",
            "| --- | --- | --- | --- |",
        ]
        export = f"{r.export_seconds:.2f}" if r.export_seconds is not None else "n/a"
        loads = ", ".join(f"{s:.2f}" for s in r.load_seconds) or "n/a"
        lines.append(f"| export from PostgreSQL (COPY to CSV) | – | {export} | – |")
        lines.append(
            f"| load into the Spark replica (CSV → parquet, JVM start included; per load) |"
            f" – | {loads} | – |"
        )
        for row in comparison_rows(r, pg, days):
            lines.append("| " + " | ".join(row) + " |")
        lines.append(
            f"| facts for {as_of} equal to PostgreSQL's | | {check_text(r.nightly_check)} | |"
        )
        lines.append(
            f"| facts of the {days}-day backfill equal to PostgreSQL's | |"
            f" {check_text(r.backfill_check)} | |"
        )
        lines.append("")
        lines.append(f"Spark part of this scale: {r.total_seconds:.0f} s in all.")
        lines.append("")
        if r.warm_nodes:
            lines.append(
                "Slowest nodes of the steady-state nightly build on Spark (execute s): "
                + "; ".join(f"`{n}` {s:.2f}" for n, s in r.warm_nodes[:4])
            )
            lines.append("")
        if r.backfill_nodes and r.backfill and r.backfill.ok:
            lines.append(
                "Slowest nodes of the backfill on Spark (execute s): "
                + "; ".join(f"`{n}` {s:.2f}" for n, s in r.backfill_nodes[:4])
            )
            lines.append("")
        for note in r.notes:
            lines.append(f"- {note}")
        if r.notes:
            lines.append("")
    return "\n".join(lines)


def print_section(results: list[tuple[SparkResult, dict[str, str]]], days: int) -> None:
    for r, pg in results:
        print(f"\nPostgreSQL vs local Spark, scale {r.scale}:")
        rows = [("measurement (s)", "PostgreSQL", "local Spark", "Spark/PG")]
        rows.append(("export from PostgreSQL (CSV)", "–", f"{r.export_seconds or 0:.2f}", "–"))
        rows.append(
            (
                "load into the Spark replica",
                "–",
                ", ".join(f"{s:.2f}" for s in r.load_seconds) or "n/a",
                "–",
            )
        )
        rows += comparison_rows(r, pg, days)
        widths = [max(len(row[i]) for row in rows) for i in range(4)]
        for row in rows:
            print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
        print(f"facts equal (nightly): {check_text(r.nightly_check)}")
        print(f"facts equal (backfill): {check_text(r.backfill_check)}")
        for note in r.notes:
            print(f"note: {note}")


def pg_cells_from_report(text: str, scale: str, days: int) -> dict[str, str]:
    """The PostgreSQL figures of one scale from a BENCHMARKS.md (--spark-only)."""
    section = re.search(rf"^## Scale {re.escape(scale)}\n(.*?)(?=^## |\Z)", text, re.M | re.S)
    if not section:
        return {}
    cells = {}
    for key, label in PG_ROWS:
        label = label.format(days=days)
        match = re.search(rf"^\| {re.escape(label)} \| ([^|]+) \|$", section.group(1), re.M)
        if match:
            cells[key] = match.group(1).strip()
    return cells


def strip_section(text: str) -> str:
    """A report without an earlier 'PostgreSQL vs local Spark' section."""
    return re.sub(r"^## PostgreSQL vs local Spark\n.*?(?=^## |\Z)", "", text, flags=re.M | re.S)


# ---------------------------------------------------------------------------
# The worker
# ---------------------------------------------------------------------------


def _session(spark_dir: Path):
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.enableHiveSupport().appName("nightly-metrics-benchmark")
    for key, value in session_parameters(spark_dir).items():
        builder = builder.config(key, value)
    builder = builder.config("spark.ui.showConsoleProgress", "false")
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def _load(spark, export: Path) -> dict[str, int]:
    from pyspark.sql.types import StringType, StructField, StructType

    spark.sql(f"create schema if not exists {SOURCE_SCHEMA}")
    counts = {}
    for table, columns in TABLES.items():
        ddl = ", ".join(f"`{name}` {kind}" for name, kind, _ in columns)
        spark.sql(f"drop table if exists {SOURCE_SCHEMA}.`{table}`")
        spark.sql(f"create table {SOURCE_SCHEMA}.`{table}` ({ddl}) using parquet")
        schema = StructType([StructField(name, StringType()) for name, _, _ in columns])
        frame = (
            spark.read.schema(schema)
            .option("escape", '"')  # PostgreSQL doubles quotes
            .option("mode", "FAILFAST")
            .csv(str(export / f"{table}.csv"))
        )
        frame.createOrReplaceTempView("export")
        select = ", ".join(
            f"`{name}`" if kind == "string" else f"cast(`{name}` as {kind}) as `{name}`"
            for name, kind, _ in columns
        )
        spark.sql(f"insert into {SOURCE_SCHEMA}.`{table}` select {select} from export")
        counts[table] = spark.sql(f"select count(*) from {SOURCE_SCHEMA}.`{table}`").first()[0]
    return counts


def _facts(spark, start: str, end: str) -> list[list]:
    from pyspark.sql.functions import date_format

    frame = spark.sql(
        f"select `factType`, `createdAt`, value, metadata from {SOURCE_SCHEMA}.`DashboardFact`"
        f" where `shopDomain` = '{AGGREGATE_SHOP}' and `factType` like 'metrics.%'"
        f" and `createdAt` >= timestamp '{start}' and `createdAt` <= timestamp '{end}'"
    ).withColumn("createdAt", date_format("createdAt", "yyyy-MM-dd'T'HH:mm:ss"))
    return [list(row) for row in frame.collect()]


def _main(argv: list[str]) -> int:
    spark_dir, command, *rest = argv
    spark = _session(Path(spark_dir))
    try:
        if command == "load":
            payload = _load(spark, Path(rest[0]))
        elif command == "facts":
            payload = _facts(spark, rest[0], rest[1])
        else:
            raise SystemExit(f"unknown command {command}")
    finally:
        spark.stop()
    print(json.dumps(payload))
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
