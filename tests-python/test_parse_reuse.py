"""dbt's parse is reused from night to night (issue 13): the as-of dates reach the
models at execution, not through --vars, so the parsed project does not change with
them; a change to the project's files is parsed again and used by the next run."""

from __future__ import annotations

import os
import shutil
from datetime import date, datetime

from conftest import PROJECT_DIR, run_cli
from contract_oracle import SLA_FACT_TYPE

from nightly_metrics import parse_cache

AS_OF = date(2026, 11, 28)
PROJECT_PARTS = ("dbt_project.yml", "profiles.example.yml", "models", "macros", "tests")


def copy_project(destination):
    destination.mkdir()
    for part in PROJECT_PARTS:
        source = PROJECT_DIR / part
        if source.is_dir():
            shutil.copytree(source, destination / part)
        else:
            shutil.copy(source, destination / part)
    return destination


def parse_line(stderr: str) -> str:
    return next(line for line in stderr.splitlines() if "time per phase" in line)


def test_the_parse_is_reused_across_as_of_dates_and_redone_when_a_model_changes(
    source_db, tmp_path
):
    project = copy_project(tmp_path / "project")
    env = {
        "DATABASE_URL": source_db.uri,
        "NIGHTLY_METRICS_PROJECT_DIR": str(project),
        "NIGHTLY_METRICS_HOME": str(tmp_path / "home"),
    }
    source_db.add_session("shop-a", datetime(2026, 11, 25, 9))

    first = run_cli(["run", "--as-of", str(AS_OF)], env=env)
    assert first.returncode == 0, first.stderr
    assert "project files parsed" in parse_line(first.stderr)  # nothing to reuse yet

    # another night, another as-of date: the same parse serves it
    second = run_cli(["run", "--as-of", "2026-11-27"], env=env)
    assert second.returncode == 0, second.stderr
    assert "(the parse of an earlier run reused)" in parse_line(second.stderr)
    assert len(source_db.aggregate_facts()) == 4

    # a one-off run with other options (other --vars) parses for them; the
    # next plain nightly still finds its own parse, and so does the next one-off
    for args, line in (
        (["run", "--as-of", "2026-11-27", "--allow-missing-days"], "project files parsed"),
        (["run", "--as-of", "2026-11-26"], "(the parse of an earlier run reused)"),
        (["run", "--as-of", "2026-11-26", "--allow-missing-days"], "(the parse of an earlier"),
    ):
        other = run_cli(args, env=env)
        assert other.returncode == 0, other.stderr
        assert line in parse_line(other.stderr), args

    # the macro that words the SLA fact's notes changes: dbt parses again, and the
    # run writes what it now says
    notes = project / "macros" / "aggregate_fact_json.sql"
    text = notes.read_text()
    assert "'Breaches from '" in text
    notes.write_text(text.replace("'Breaches from '", "'Breaches (edited) from '"))
    third = run_cli(["run", "--as-of", str(AS_OF)], env=env)
    assert third.returncode == 0, third.stderr
    line = parse_line(third.stderr)
    assert "project files parsed" in line and "reused" not in line
    assert source_db.fact(SLA_FACT_TYPE, AS_OF)["metadata"]["notes"].startswith(
        "Breaches (edited) from"
    )
    assert (tmp_path / "home" / "target" / "parse-cache").is_dir()


def test_the_parse_cache_keeps_the_databases_used_last(tmp_path, monkeypatch):
    """One file per database: a machine (or a test suite) that saw many keeps only the
    newest few."""
    monkeypatch.setattr(parse_cache, "PARSE_CACHE_DIR", tmp_path)
    for n in range(12):
        folder = tmp_path / f"db{n:02d}"
        folder.mkdir()
        (folder / "partial_parse.msgpack").write_bytes(b"x")
        os.utime(folder, (1_000_000 + n, 1_000_000 + n))
    parse_cache.ParseCache.forget_all_but_the_newest(keep=8)
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"db{n:02d}" for n in range(4, 12)]
