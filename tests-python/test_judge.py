"""What a finished build means for a scheduler (verdict.judge), without a
database: the contract's "Exit codes" applied to what the build reported."""

from __future__ import annotations

from datetime import date, datetime

from nightly_metrics.dbt_invoke import MISSING_DAYS_TEST, DbtOutcome, FailedTest
from nightly_metrics.errors import ExitCode
from nightly_metrics.verdict import judge

END = datetime(2026, 11, 28)
START = datetime(2026, 11, 21)
MISSING = {"dashboard_sessions": [(date(2026, 11, 24), 12.5)]}


def built(*, failed=(), warned=()) -> DbtOutcome:
    return DbtOutcome(not failed, list(failed), [], 0, None, 1.0, list(warned))


def fact(fact_type: str, action: str, **extra) -> dict:
    return {
        "factType": fact_type,
        "windowStart": START,
        "createdAt": END,
        "action": action,
        **extra,
    }


WRITTEN = [fact("activation", "written"), fact("sla", "written")]
DAY_TEST = FailedTest("source_days_arrived_sessions", "Got 1 result", MISSING_DAYS_TEST)
UNIQUE_TEST = FailedTest("unique_combination_of_columns_x", "Got 2 results", "unique_combination")


def test_every_fact_written_is_exit_0():
    verdict = judge(built(), WRITTEN, {}, False, "2026-11-28")
    assert (verdict.exit_code, verdict.problems, verdict.warnings, verdict.withheld) == (
        ExitCode.OK,
        [],
        [],
        0,
    )


def test_a_withheld_fact_is_exit_4_and_names_the_missing_day():
    outcomes = [fact("activation", "withheld"), fact("sla", "written")]
    verdict = judge(built(failed=[DAY_TEST]), outcomes, MISSING, False, "2026-11-28")
    assert verdict.exit_code == ExitCode.DATA_MISSING == 4
    assert verdict.withheld == 1
    [problem] = verdict.problems
    assert problem.startswith("withheld 1 fact(s) (activation) in 1 window(s) ending 2026-11-28")
    assert "dashboard_sessions: no rows on 1 day(s) (the stream averaged 12.5 a day" in problem
    assert "2026-11-24" in problem


def test_a_failed_data_test_is_exit_1_even_beside_a_withheld_fact():
    outcomes = [fact("activation", "withheld"), fact("sla", "written")]
    verdict = judge(built(failed=[DAY_TEST, UNIQUE_TEST]), outcomes, MISSING, False, "d")
    assert verdict.exit_code == ExitCode.BUILD_FAILED == 1
    assert len(verdict.problems) == 2
    assert verdict.problems[1] == (
        "data tests failed for d: unique_combination_of_columns_x: Got 2 results; {written}"
    )


def test_kept_facts_and_overridden_days_are_warnings_not_failures():
    kept = fact("sla", "kept", sourceRowsRead=90, storedSourceRowsRead=120)
    warned = FailedTest("expression_is_true_x", "Got 1 result", "expression_is_true")
    verdict = judge(
        built(warned=[warned, DAY_TEST]), [WRITTEN[0], kept], MISSING, True, "2026-11-28"
    )
    assert verdict.exit_code == ExitCode.OK
    assert verdict.warnings == [
        "warning (run continued): expression_is_true_x: Got 1 result",
        "warning: source days that never arrived, written anyway (--allow-missing-days):"
        " dashboard_sessions: no rows on 1 day(s) (the stream averaged 12.5 a day before):"
        " 2026-11-24",
        "kept the stored sla of the window 2026-11-21 – 2026-11-27"
        " (as of 2026-11-28): its sources now read 90"
        " rows, 120 when it was written (--allow-fewer-rows replaces it)",
    ]
