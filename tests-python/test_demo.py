"""The README's main job: `nightly-metrics demo` on its embedded default."""

from __future__ import annotations

import json
from datetime import date

import psycopg
from conftest import run_cli

from nightly_metrics import demo
from nightly_metrics.errors import ExitCode


def test_demo_loads_synthetic_data_runs_the_job_and_prints_both_facts(
    tmp_path, monkeypatch, capsys
):
    monkeypatch.setattr(demo, "DEMO_DATA_DIR", tmp_path / "pgdata")
    report = tmp_path / "target" / "report.html"
    monkeypatch.setattr(demo, "DEFAULT_REPORT", report)
    as_of = date(2026, 11, 28)
    # A naming set for a real database elsewhere does not reach the demo's
    # tables, made from the Prisma DDL.
    monkeypatch.setenv("NIGHTLY_METRICS_SOURCE_NAMING", "snake_case")

    assert demo.run_demo(as_of, as_json=True) == 0
    printed = json.loads(capsys.readouterr().out)
    assert [f["factType"] for f in printed] == [
        "metrics.activation.rolling7d",
        "metrics.sla_resolution.rolling7d",
    ]
    activation, sla = (f["value"] for f in printed)
    # the synthetic data set is realistic: hundreds of shops, a real SLA sample
    assert 100 < activation["totalActiveShops"] <= 300
    assert 0 < activation["activatedShops"] < activation["totalActiveShops"]
    assert sla["sampleSize"] > 50
    assert 0 < sla["medianMinutes"] <= sla["p90Minutes"]

    # what it printed is what it wrote; a second demo reuses the data and the rows
    assert demo.run_demo(as_of) == 0
    table = capsys.readouterr().out
    assert "metrics.activation.rolling7d" in table
    shops = f"{activation['activatedShops']} of {activation['totalActiveShops']} active shops"
    assert shops in table
    # it backfilled the last 30 windows in one build and drew them in the report
    assert table.rstrip().endswith(f"opens offline: {report}")
    page = report.read_text()
    assert 'id="activation-chart" data-windows="30"' in page
    assert 'id="sla-chart" data-windows="30"' in page
    server = demo.start_server(tmp_path / "pgdata")
    try:
        with psycopg.connect(server.get_uri(database=demo.DEMO_DATABASE)) as conn:
            count = conn.execute(
                'select count(*) from "DashboardFact" where "shopDomain" = \'__aggregate__\''
                " and \"factType\" like 'metrics.%'"
            ).fetchone()[0]
        assert count == 2 * demo.DEMO_TREND_DAYS
    finally:
        server.cleanup()


def test_a_demo_whose_server_cannot_start_says_why_without_a_traceback(tmp_path):
    # Every folder the server could put its unix socket in is too long for one.
    deep = tmp_path / ("d" * 110)
    deep.mkdir(mode=0o700)
    ran = run_cli(["demo"], env={"NIGHTLY_METRICS_HOME": str(deep), "XDG_RUNTIME_DIR": str(deep)})
    assert ran.returncode == ExitCode.CONFIG, ran.stderr
    assert "did not start: Could not find a suitable socket path" in ran.stderr
    assert "Traceback" not in ran.stderr
