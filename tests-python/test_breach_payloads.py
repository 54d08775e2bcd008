"""Escalation payloads that must never break a night, and snapshots that change or go.

* Hostile JSON numbers and strings, inserted as raw JSON text (Python's `json` would
  change `1e-400` or `-0.0`): each element is usable or rejected, as the oracle says,
  and the run writes.
* "Breaches are remembered" (the contract): a deleted snapshot keeps its breaches, a
  changed one replaces everything it yielded before, nothing included, and the raw
  JSON of a rejected element goes when its snapshot goes.
* Two plain `dbt build`s that parse the same new snapshot at the same moment store its
  candidates once.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import contract_oracle
import psycopg
from conftest import PROJECT_DIR, wait_for_waiting_sessions
from contract_oracle import SLA_FACT_TYPE, Fact

from nightly_metrics import project

AS_OF = date(2026, 11, 28)
SNAPSHOT_AT = datetime(2026, 11, 22, 9)
MEMORY = "nightly_metrics.int_breach_candidates_remembered"

# (value JSON, metadata JSON): one snapshot each, as raw JSON text.
HOSTILE_SNAPSHOTS = [
    # slaMinutes far negative: start + minutes falls below any timestamp
    (
        '[{"id": 1, "slaBreached": true, "createdAt": "2026-11-20T10:00:00Z"}]',
        '{"slaMinutes": -5000000000}',
    ),
    (
        '[{"id": 2, "slaBreached": true, "createdAt": "2026-11-20T10:00:00Z"}]',
        '{"slaMinutes": -3000000000}',
    ),
    # numbers too small for a double
    (
        '[{"id": 3, "slaBreached": true, "createdAt": "2026-11-20T10:00:00Z"}]',
        '{"slaMinutes": 1e-400}',
    ),
    ('[{"id": 4, "slaBreached": true, "created_at": 1e-400}]', '{"slaMinutes": 30}'),
    (
        '[{"id": 5, "slaBreached": true, "createdAt": "2026-11-20T10:00:00Z"}]',
        '{"slaMinutes": -1e-400}',
    ),
    # numbers too large for anything
    (
        '[{"id": 6, "slaBreached": true, "createdAt": "2026-11-20T10:00:00Z"}]',
        '{"slaMinutes": 1e400}',
    ),
    ('[{"id": 7, "slaBreached": true, "created_at": 1e400}]', '{"slaMinutes": 30}'),
    (
        '[{"id": 8, "slaBreached": true, "createdAt": "2026-11-20T10:00:00Z"}]',
        '{"slaMinutes": 4300000000}',
    ),
    ('[{"id": 9, "slaBreached": true, "created_at": -1}]', '{"slaMinutes": 30}'),
    ('[{"id": 10, "slaBreached": true, "created_at": 253402300799.9999999}]', '{"slaMinutes": 0}'),
    ('[{"id": 11, "slaBreached": true, "created_at": 1763632800}]', '{"slaMinutes": -0.0}'),
    (
        '[{"id": 12, "slaBreached": true, "createdAt": "9999-12-31T23:59:00Z"}]',
        '{"slaMinutes": 0.99999}',
    ),
    ('[{"id": 13, "slaBreached": true, "createdAt": "9999-12-31T23:59:00Z"}]', '{"slaMinutes": 1}'),
    (
        '[{"id": 14, "slaBreached": true, "createdAt": "1970-01-01T00:01:00Z"}]',
        '{"slaMinutes": -1}',
    ),
    (
        '[{"id": 15, "slaBreached": true, "createdAt": "1970-01-01T00:01:00Z"}]',
        '{"slaMinutes": -1.00001}',
    ),
    # strings and other types where numbers belong
    (
        '[{"id": 16, "slaBreached": true, "createdAt": "2026-11-20T10:00:00Z"}]',
        '{"slaMinutes": "30"}',
    ),
    ('[{"id": 17, "slaBreached": true, "created_at": "1763632800"}]', '{"slaMinutes": 30}'),
    (
        '[{"id": 18, "slaBreached": true, "createdAt": "2026-11-20T10:00:00Z"}]',
        '{"slaMinutes": true}',
    ),
    # ids written with an exponent, a fraction, a sign, far beyond 64 bits
    (
        '[{"id": 1e3, "slaBreached": true, "createdAt": "2026-11-20T10:00:00Z"}]',
        '{"slaMinutes": 30}',
    ),
    (
        '[{"id": 2.5e2, "slaBreached": true, "createdAt": "2026-11-20T10:00:00Z"}]',
        '{"slaMinutes": 30}',
    ),
    (
        '[{"id": 19.0, "slaBreached": true, "createdAt": "2026-11-20T10:00:00Z"}]',
        '{"slaMinutes": 30}',
    ),
    (
        '[{"id": 2e-1, "slaBreached": true, "createdAt": "2026-11-20T10:00:00Z"}]',
        '{"slaMinutes": 30}',
    ),
    (
        '[{"id": -20, "slaBreached": true, "createdAt": "2026-11-20T10:00:00Z"}]',
        '{"slaMinutes": 30}',
    ),
    (
        '[{"id": 1e40, "slaBreached": true, "createdAt": "2026-11-20T10:00:00Z"}]',
        '{"slaMinutes": 30}',
    ),
    # breach lists with the same hostile values
    (
        "[]",
        '{"breaches": [{"conversationId": 1e2, "breachedAt": "2026-11-21T10:00:00Z"},'
        ' {"conversationId": "21", "breachedAt": 1e-400},'
        ' {"conversationId": 22, "breachedAt": "2026-11-21T10:00:00.0000005Z"},'
        ' {"conversationId": 23, "breachedAt": "2026-11-21T10:00:00.1234564999Z"},'
        ' {"conversationId": 24, "breachedAt": "+002026-11-21T10:00:00Z"},'
        ' {"conversationId": 25, "breachedAt": "2026-11-2\\u0661T10:00:00Z"}]}',
    ),
]


def insert_raw(db, value: str, metadata: str, created_at: datetime = SNAPSHOT_AT) -> int:
    return db.execute(
        'insert into "DashboardFact" ("shopDomain", "factType", value, metadata, "createdAt",'
        ' "updatedAt") values (%s, %s, %s::jsonb, %s::jsonb, %s, %s) returning id',
        ("shop-a", "chatwoot.escalations", value, metadata, created_at, created_at),
    )[0][0]


def oracle_fact(value: str, metadata: str, created_at: datetime = SNAPSHOT_AT) -> Fact:
    """The payload as the application would hand it over, numbers kept exact."""
    return Fact(
        "shop-a",
        "chatwoot.escalations",
        json.loads(value, parse_float=Decimal),
        json.loads(metadata, parse_float=Decimal),
        created_at,
    )


def staged_candidates(db) -> list[tuple]:
    return db.execute(
        f"select fact_id, element_index, conversation_id, is_usable, breached_at,"
        f" rejection_reason, rejected_element from {MEMORY}"
        " order by fact_id, candidate_source, element_index"
    )


def test_hostile_json_numbers_and_strings_are_used_or_rejected(source_db):
    facts = []
    for value, metadata in HOSTILE_SNAPSHOTS:
        insert_raw(source_db, value, metadata)
        facts.append(oracle_fact(value, metadata))
    result = source_db.run(AS_OF)
    assert result.rows_written == 2

    expected_breaches, expected_rejected = contract_oracle.breach_candidates(facts, AS_OF)
    stored = source_db.fact(SLA_FACT_TYPE, AS_OF)
    assert stored["metadata"]["breachCandidatesRejected"] == expected_rejected
    assert stored["metadata"]["breachesSeen"] == len(expected_breaches)

    rows = staged_candidates(source_db)
    usable = {row[2]: row[4] for row in rows if row[3]}
    assert usable == expected_breaches
    # every element is accounted for: usable or rejected with a reason, never both
    assert all((row[3] and row[5] is None) or (not row[3] and row[5]) for row in rows)
    assert len(rows) == len(expected_breaches) + expected_rejected
    # spot checks, worked out by hand
    assert usable["1000"] == datetime(2026, 11, 20, 10, 30)  # id 1e3, 30 minutes on
    assert usable["3"] == datetime(2026, 11, 20, 10)  # 1e-400 minutes is no time at all
    assert usable["4"] == datetime(1970, 1, 1, 0, 30)  # epoch 1e-400 s is 1970-01-01
    assert usable["12"] == datetime(9999, 12, 31, 23, 59, 59, 999400)
    assert "13" not in usable and "15" not in usable  # just past 9999, just before 1970
    assert usable["14"] == datetime(1970, 1, 1)
    assert usable["250"] == usable["1000"]  # 2.5e2 is conversation 250
    assert "19" not in usable and "0" not in usable  # 19.0 and 2e-1 are no ids
    assert usable["100"] == datetime(2026, 11, 21, 10)  # conversationId 1e2
    # fractions beyond microseconds round half up on the 7th digit
    assert usable["22"] == datetime(2026, 11, 21, 10, 0, 0, 1)
    assert usable["23"] == datetime(2026, 11, 21, 10, 0, 0, 123456)
    assert "24" not in usable and "25" not in usable


def snapshot(breaches: list[dict], value: list | None = None) -> tuple[str, str]:
    return json.dumps(value or []), json.dumps({"breaches": breaches, "slaMinutes": 30})


def test_changed_and_deleted_snapshots_follow_the_contract(source_db):
    resolved_at = datetime(2026, 11, 24, 12)
    first = insert_raw(
        source_db,
        *snapshot(
            [
                {"conversationId": 31, "breachedAt": "2026-11-22T08:00:00Z"},
                {"conversationId": 32, "breachedAt": "not a time, with a transcript snippet"},
            ]
        ),
    )
    to_empty = insert_raw(
        source_db, *snapshot([{"conversationId": 33, "breachedAt": "2026-11-22T08:30:00Z"}])
    )
    to_different = insert_raw(
        source_db, *snapshot([{"conversationId": 34, "breachedAt": "2026-11-22T08:45:00Z"}])
    )
    for conversation in (31, 33, 34, 35):
        source_db.add_decision(resolved_at, external_ref=f"chatwoot:{conversation}")
    source_db.run(AS_OF)
    assert {row[2] for row in staged_candidates(source_db) if row[3]} == {"31", "33", "34"}
    assert source_db.fact(SLA_FACT_TYPE, AS_OF)["value"]["sampleSize"] == 3

    # the application rewrites two snapshots (updatedAt moves) and purges the first
    later = datetime(2026, 11, 23, 9)
    source_db.execute(
        'update "DashboardFact" set metadata = %s::jsonb, "updatedAt" = %s where id = %s',
        (snapshot([])[1], later, to_empty),
    )
    source_db.execute(
        'update "DashboardFact" set metadata = %s::jsonb, "updatedAt" = %s where id = %s',
        (
            snapshot([{"conversationId": 35, "breachedAt": "2026-11-22T09:00:00Z"}])[1],
            later,
            to_different,
        ),
    )
    source_db.execute('delete from "DashboardFact" where id = %s', (first,))
    source_db.run(AS_OF, allow_fewer_rows=True)

    rows = staged_candidates(source_db)
    by_fact = {}
    for row in rows:
        by_fact.setdefault(row[0], []).append(row)
    # deleted: its breach is remembered, the rejected element's raw JSON is gone
    assert [(r[2], r[3]) for r in by_fact[first]] == [("31", True), ("32", False)]
    assert [r[6] for r in by_fact[first]] == [None, None]
    assert [r[5] for r in by_fact[first]] == [None, "invalid_breached_at"]
    # changed to empty: nothing of it is left
    assert to_empty not in by_fact
    # changed to another breach: only the new one
    assert [r[2] for r in by_fact[to_different]] == ["35"]
    assert source_db.fact(SLA_FACT_TYPE, AS_OF)["value"]["sampleSize"] == 2  # 31 and 35


def dbt_command(db, tmp: Path) -> tuple[list[str], dict]:
    """A plain `dbt build` as a cron user runs it: the example profile, the variables."""
    profiles = tmp / "profiles"
    profiles.mkdir(parents=True, exist_ok=True)
    (profiles / "profiles.yml").write_text((PROJECT_DIR / "profiles.example.yml").read_text())
    environment = {**os.environ, **db.settings.dbt_environment(project.TARGET_SCHEMA_DEFAULT)}
    environment["DBT_SEND_ANONYMOUS_USAGE_STATS"] = "false"
    dbt = str(Path(sys.executable).parent / "dbt")
    return [
        dbt,
        "build",
        "--project-dir",
        str(PROJECT_DIR),
        "--profiles-dir",
        str(profiles),
        "--select",
        "int_breach_candidates_remembered",
        "--vars",
        json.dumps({"as_of": str(AS_OF)}),
    ], environment


def test_two_plain_dbt_builds_at_once_store_a_new_snapshot_once(source_db, tmp_path):
    insert_raw(source_db, *snapshot([{"conversationId": 41, "breachedAt": "2026-11-22T08:00:00Z"}]))
    source_db.run(AS_OF)  # the model exists, as on any night after the first
    insert_raw(
        source_db,
        *snapshot(
            [
                {"conversationId": 42, "breachedAt": "2026-11-22T08:00:00Z"},
                {"conversationId": 43, "breachedAt": "2026-11-22T08:10:00Z"},
            ]
        ),
    )
    # The barrier: while this transaction holds the model's table, both builds reach
    # the model and wait, whatever they wait on; then both go at the same moment.
    blocker = psycopg.connect(source_db.uri)
    blocker.execute(f"lock table {MEMORY} in access exclusive mode")
    builds = []
    for n in range(2):
        command, environment = dbt_command(source_db, tmp_path / f"build{n}")
        command += ["--target-path", str(tmp_path / f"target{n}")]
        builds.append(
            subprocess.Popen(
                command,
                env=environment,
                cwd=PROJECT_DIR,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
        )
    try:
        assert wait_for_waiting_sessions(blocker, 2), (
            "the two builds never waited at the model together"
        )
    finally:
        blocker.rollback()
        blocker.close()
    outputs = [build.communicate(timeout=300)[0] for build in builds]
    assert [build.returncode for build in builds] == [0, 0], "\n".join(outputs)
    rows = staged_candidates(source_db)
    assert sorted(row[2] for row in rows) == ["41", "42", "43"]


def test_a_duration_on_a_rounding_tie_rounds_half_away_from_zero(source_db):
    """60.3 s is 1.005 minutes: rounded to 2 places, 1.01 (half away from zero, on the
    decimal value PostgreSQL gives the double: 15 significant digits)."""
    insert_raw(source_db, *snapshot([{"conversationId": 51, "breachedAt": "2026-11-22T10:00:00Z"}]))
    source_db.add_decision(datetime(2026, 11, 22, 10, 1, 0, 300000), external_ref="chatwoot:51")
    source_db.run(AS_OF)
    value = source_db.fact(SLA_FACT_TYPE, AS_OF)["value"]
    assert (value["sampleSize"], value["medianMinutes"], value["p90Minutes"]) == (
        1,
        Decimal("1.01"),
        Decimal("1.01"),
    )
