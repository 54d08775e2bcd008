"""A newcomer's first hour (issue 15): the demo and the docs site on any day, and the docs
site as a browser shows it (Debian's chromium, headless; skipped where it is absent,
required by CI)."""

from __future__ import annotations

import signal
import socket
import subprocess
import tempfile
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
from test_interrupts import our_temp_folders, postgres_serving, start_in, wait_until
from test_report import chromium_or_skip

OVERVIEW_TITLE = "What nightly-metrics computes and writes"


def rendered(url: str, work, name: str) -> str:
    """The DOM of `url` after its scripts ran (the docs site is a JavaScript app)."""
    return subprocess.run(
        [
            chromium_or_skip(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--no-first-run",
            f"--user-data-dir={work / name}",
            "--virtual-time-budget=20000",
            "--dump-dom",
            url,
        ],
        capture_output=True,
        text=True,
        timeout=180,
        check=True,
    ).stdout


def test_demo_and_docs_work_days_after_the_demo_data_was_made(tmp_path):
    chromium_or_skip()
    today = datetime.now(UTC).date()
    temp = Path(tempfile.mkdtemp())  # the commands' TMPDIR, short as usual
    older = start_in(tmp_path, temp, ["demo", "--as-of", str(today - timedelta(days=4))])
    _, err = older.communicate(timeout=600)
    assert older.returncode == 0, err

    # four days later, on the same demo folder, with --keep-running: the demo
    # database stays up, at the URL it prints, until the demo is stopped
    later = start_in(tmp_path, temp, ["demo", "--keep-running"])
    out: list[str] = []
    err: list[str] = []
    readers = [
        threading.Thread(target=lambda: out.extend(later.stdout), daemon=True),
        threading.Thread(target=lambda: err.extend(later.stderr), daemon=True),
    ]
    for reader in readers:
        reader.start()
    try:
        assert wait_until(lambda: any("psql '" in line for line in err), 300), err
        url = next(line for line in err if "psql '" in line).split("'")[1]
        with psycopg.connect(url) as conn:
            runs = conn.execute("select count(*) from nightly_metrics.job_runs").fetchone()[0]
        assert runs == 1  # this demo's run: the older data, and its run, were dropped
    finally:
        later.send_signal(signal.SIGTERM)
        later.wait(timeout=120)
        for reader in readers:
            reader.join(timeout=30)
    assert later.returncode == 0, err  # stopping the kept server is how this mode ends
    assert any("making it again for this date" in line for line in err), err
    assert "Report of the last 30 windows" in "".join(out)

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    docs = start_in(tmp_path, temp, ["docs", "--serve", "--port", str(port)])
    try:

        def serving() -> bool:
            with socket.socket() as client:
                return client.connect_ex(("127.0.0.1", port)) == 0

        assert wait_until(serving, 300), "docs --serve never served"
        overview = rendered(f"http://127.0.0.1:{port}/#!/overview", tmp_path, "overview")
        assert OVERVIEW_TITLE in overview
        assert "Source days that never arrived" in overview  # the spec, whole
        assert "Edge cases, settled" in overview  # with the tables moved from the README
        exposure = rendered(
            f"http://127.0.0.1:{port}/#!/exposure/exposure.nightly_metrics.ops_kpis_dashboard_tile",
            tmp_path,
            "exposure",
        )
        assert "fct_ops_metrics_rolling7d" in exposure
        assert "filtering on" in exposure  # how the dashboard reads the facts
        source = rendered(
            f"http://127.0.0.1:{port}/#!/source/source.nightly_metrics.app.decision_log",
            tmp_path,
            "source",
        )
        assert "stg_app__ops_decisions" in source  # referenced by, down the lineage
    finally:
        docs.send_signal(signal.SIGTERM)
        _, err = docs.communicate(timeout=120)
    assert docs.returncode == 128 + signal.SIGTERM, err
    assert "Traceback" not in err and "Encountered an error" not in err
    assert "static_index.html" in err
    data_dir = tmp_path / ".demo" / "pgdata"
    assert wait_until(lambda: not postgres_serving(data_dir), 30), "docs left the server running"
    assert our_temp_folders(temp) == set()

    # the one-file site opens from disk
    static = tmp_path / "target" / "static_index.html"
    assert OVERVIEW_TITLE in rendered(static.as_uri() + "#!/overview", tmp_path, "static")
