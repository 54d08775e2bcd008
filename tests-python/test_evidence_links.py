"""Evidence links (docs/operations.md#evidence-links): the facts a run writes
carry a link to the run that produced them, in "DashboardFact"."evidenceUrl",
from the template --evidence-url / NIGHTLY_METRICS_EVIDENCE_URL."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from conftest import run_cli

AS_OF = date(2026, 11, 28)
TEMPLATE = "https://ci.example/runs/{run_id}?as_of={as_of}&by=o'brien"


def last_run_id(db) -> str:
    return db.execute(
        "select run_id from nightly_metrics.job_runs order by started_at desc limit 1"
    )[0][0]


def links(db) -> dict:
    return {(f["factType"], f["createdAt"].date()): link for f, link in _with_links(db)}


def _with_links(db):
    rows = db.execute(
        'select "factType", "createdAt", "evidenceUrl" from "DashboardFact"'
        " where \"shopDomain\" = '__aggregate__' and \"factType\" like 'metrics.%%.rolling7d'"
    )
    return [({"factType": r[0], "createdAt": r[1]}, r[2]) for r in rows]


def test_written_facts_link_to_their_run_and_a_rewrite_without_a_template_keeps_it(source_db):
    source_db.add_session("shop-a", datetime(2026, 11, 25, 9))
    source_db.add_decision(datetime(2026, 11, 25, 10), shop_domain="shop-a")
    # Rows that are not this run's own keep their links whatever it does.
    theirs = source_db.add_fact(
        "shop-a", "dashboard.session.opened", datetime(2026, 11, 26, 9), metadata=None
    )
    source_db.execute('update "DashboardFact" set "evidenceUrl" = %s where id = %s',
                      ("https://app.example/theirs", theirs))  # fmt: skip
    legacy = source_db.add_fact(
        "__aggregate__", "metrics.activation.rolling7d", datetime(2026, 11, 20, 2, 0, 11)
    )

    ran = run_cli(
        ["backfill", "--start", str(AS_OF - timedelta(days=1)), "--end", str(AS_OF),
         "--evidence-url", TEMPLATE],
        env={"DATABASE_URL": source_db.uri},
    )  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    run_id = last_run_id(source_db)
    expected = {
        (fact_type, day): f"https://ci.example/runs/{run_id}?as_of={day}&by=o'brien"
        for fact_type in ("metrics.activation.rolling7d", "metrics.sla_resolution.rolling7d")
        for day in (AS_OF - timedelta(days=1), AS_OF)
    }
    # the earlier script's row (createdAt at its run time) keeps its NULL
    assert links(source_db) == {
        **expected,
        ("metrics.activation.rolling7d", date(2026, 11, 20)): None,
    }

    # A rerun without a template rewrites the values and keeps the links.
    source_db.add_decision(datetime(2026, 11, 26, 10), shop_domain="shop-a")
    again = source_db.run(AS_OF)
    assert again.exit_code == 0
    assert (
        links(source_db)[("metrics.activation.rolling7d", AS_OF)]
        == expected[("metrics.activation.rolling7d", AS_OF)]
    )
    # One with the variable set links the facts it rewrote to itself.
    source_db.run(AS_OF, evidence_url="https://ci.example/runs/{run_id}")
    newest = f"https://ci.example/runs/{last_run_id(source_db)}"
    now = links(source_db)
    assert now[("metrics.activation.rolling7d", AS_OF)] == newest
    assert now[("metrics.sla_resolution.rolling7d", AS_OF)] == newest
    assert (
        now[("metrics.activation.rolling7d", AS_OF - timedelta(days=1))]
        == expected[("metrics.activation.rolling7d", AS_OF - timedelta(days=1))]
    )
    assert source_db.execute('select "evidenceUrl" from "DashboardFact" where id = %s',
                             (theirs,)) == [("https://app.example/theirs",)]  # fmt: skip
    assert source_db.execute('select "evidenceUrl" from "DashboardFact" where id = %s',
                             (legacy,)) == [(None,)]  # fmt: skip


def test_without_a_template_new_facts_have_no_link(source_db, monkeypatch):
    monkeypatch.delenv("NIGHTLY_METRICS_EVIDENCE_URL", raising=False)
    source_db.run(AS_OF)
    assert set(links(source_db).values()) == {None}
