"""Breaches are remembered on every path (the contract's "Breaches are
remembered"): the nightly run, a dry run, a plain `dbt build --full-refresh`,
and a target schema that lost its memory.

The scenario, as of D = 2026-11-28 (window [11-21, 11-28), look-back from 10-22):
  - a snapshot at D-20 (11-08 10:00) holds a breach of conversation 601 at
    11-08 09:00, resolved at D-6 (11-22 12:00): 14 days 3 hours, 20,340 min;
  - a snapshot at 11-24 10:00 holds a breach of conversation 602 at
    11-24 08:00, resolved at 11-24 09:30: 90 min.
A run as of D-1 reads both snapshots; then the application purges the first.
From the memory, D's sample is both breaches: sampleSize 2, median
(90 + 20340) / 2 = 10215.0, p90 90 + 0.9 * (20340 - 90) = 18315.0.
From the surviving snapshot alone it would be sampleSize 1.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from decimal import Decimal

from conftest import run_cli

from nightly_metrics import dbt_invoke, project
from nightly_metrics.errors import ExitCode

SLA = "metrics.sla_resolution.rolling7d"
AS_OF = date(2026, 11, 28)
MEMORY = "nightly_metrics.int_breach_candidates_remembered"
# The memory's name before the breach model was split; deployed databases hold it so.
FORMER_MEMORY = "nightly_metrics.stg_app__escalation_breach_candidates"
REMEMBERED = {
    "sampleSize": 2,
    "medianMinutes": Decimal("10215.0"),
    "p90Minutes": Decimal("18315.0"),
}


def purged_breach_scenario(db) -> None:
    """Both breaches read by a run as of D-1, then the first snapshot purged."""
    purged = db.add_escalations(
        datetime(2026, 11, 8, 10),
        [],
        {"breaches": [{"conversationId": 601, "breachedAt": "2026-11-08T09:00:00.000Z"}]},
    )
    db.add_escalations(
        datetime(2026, 11, 24, 10),
        [],
        {"breaches": [{"conversationId": "602", "breachedAt": "2026-11-24T08:00:00.000Z"}]},
    )
    db.add_decision(datetime(2026, 11, 22, 12), external_ref="chatwoot:601")
    db.add_decision(datetime(2026, 11, 24, 9, 30), external_ref="chatwoot:602")
    db.run(AS_OF - timedelta(days=1))
    db.execute('delete from "DashboardFact" where id = %s', (purged,))


def sla_figures(value: dict) -> dict:
    return {key: value[key] for key in REMEMBERED}


def memory_rows(db) -> list[tuple]:
    return db.execute(f"select * from {MEMORY} order by fact_id, candidate_source, element_index")


def test_a_dry_run_after_a_purge_prints_what_the_real_run_writes(source_db):
    purged_breach_scenario(source_db)
    env = {"DATABASE_URL": source_db.uri}
    remembered_before = memory_rows(source_db)
    stored_before = source_db.aggregate_facts()

    dry = run_cli(["run", "--as-of", str(AS_OF), "--dry-run", "--json"], env=env)
    assert dry.returncode == 0, dry.stderr
    printed = next(f for f in json.loads(dry.stdout) if f["factType"] == SLA)
    # the dry run wrote nothing: not to the application, not to the memory
    assert source_db.aggregate_facts() == stored_before
    assert memory_rows(source_db) == remembered_before

    real = run_cli(["run", "--as-of", str(AS_OF)], env=env)
    assert real.returncode == 0, real.stderr
    written = source_db.fact_value(SLA, AS_OF)
    assert sla_figures(written) == REMEMBERED
    assert sla_figures(json.loads(json.dumps(printed["value"]), parse_float=Decimal)) == REMEMBERED


def test_a_plain_full_refresh_keeps_the_remembered_breaches(source_db):
    purged_breach_scenario(source_db)
    with dbt_invoke.dbt_session(source_db.settings, project.TARGET_SCHEMA_DEFAULT) as dbt:
        outcome = dbt(["build", "--full-refresh", "--vars", '{"as_of": "2026-11-27"}'])
    assert outcome.success, (outcome.failed_nodes, outcome.failed_tests, outcome.exception)
    source_db.run(AS_OF)
    assert sla_figures(source_db.fact_value(SLA, AS_OF)) == REMEMBERED


def test_a_target_schema_without_the_memory_stops_the_run(source_db):
    """The facts say this project has run here before, so a memory that is not
    where it should be must not be rebuilt from the snapshots that survived."""
    purged_breach_scenario(source_db)
    source_db.execute(f"drop table {MEMORY} cascade")
    env = {"DATABASE_URL": source_db.uri}
    stored_before = source_db.aggregate_facts()
    for args in (["run", "--as-of", str(AS_OF)], ["run", "--as-of", str(AS_OF), "--dry-run"]):
        stopped = run_cli(args, env=env)
        assert stopped.returncode == ExitCode.CONFIG, stopped.stderr
        assert "remembered breaches" in stopped.stderr
        assert MEMORY in stopped.stderr
        assert "Traceback" not in stopped.stderr
        assert source_db.aggregate_facts() == stored_before

    # plain dbt stops the same way, before the write
    with dbt_invoke.dbt_session(source_db.settings, project.TARGET_SCHEMA_DEFAULT) as dbt:
        outcome = dbt(["build", "--vars", '{"as_of": "2026-11-28"}'])
    assert not outcome.success
    assert any("remembered breaches" in message for _, message in outcome.failed_nodes)
    assert source_db.aggregate_facts() == stored_before

    # starting the memory afresh is a deliberate act, and then only the survivor counts
    fresh = run_cli(["run", "--as-of", str(AS_OF), "--rebuild-breach-memory"], env=env)
    assert fresh.returncode == 0, fresh.stderr
    assert source_db.fact_value(SLA, AS_OF)["sampleSize"] == 1


def test_a_memory_under_its_former_name_is_adopted_not_started_afresh(source_db):
    """A database deployed before the breach model was split holds the memory
    as stg_app__escalation_breach_candidates, with the breach of a snapshot
    purged since. The upgraded project's dry run reads it where it is (and
    renames nothing), and its first real run adopts it: the purged breach
    still counts, and the table keeps its rows under the new name."""
    purged_breach_scenario(source_db)
    remembered = memory_rows(source_db)
    source_db.execute(f"alter table {MEMORY} rename to {FORMER_MEMORY.split('.')[1]}")
    env = {"DATABASE_URL": source_db.uri}

    dry = run_cli(["run", "--as-of", str(AS_OF), "--dry-run", "--json"], env=env)
    assert dry.returncode == 0, dry.stderr
    printed = next(f for f in json.loads(dry.stdout) if f["factType"] == SLA)
    assert sla_figures(json.loads(json.dumps(printed["value"]), parse_float=Decimal)) == REMEMBERED
    assert source_db.execute("select to_regclass(%s)", (MEMORY,)) == [(None,)]

    real = run_cli(["run", "--as-of", str(AS_OF)], env=env)
    assert real.returncode == 0, real.stderr
    assert sla_figures(source_db.fact_value(SLA, AS_OF)) == REMEMBERED
    assert source_db.execute("select to_regclass(%s)", (FORMER_MEMORY,)) == [(None,)]
    # what the memory held is all still there (and the purged snapshot's among it)
    assert set(remembered) <= set(memory_rows(source_db))
    # its indexes came with it, and the next night goes on from it
    indexed = source_db.execute(
        "select count(*) from pg_indexes where schemaname = 'nightly_metrics'"
        " and tablename = 'int_breach_candidates_remembered'"
    )
    assert indexed == [(2,)]
    again = run_cli(["run", "--as-of", str(AS_OF)], env=env)
    assert again.returncode == 0, again.stderr
    assert sla_figures(source_db.fact_value(SLA, AS_OF)) == REMEMBERED
