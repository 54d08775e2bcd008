"""What a finished or failed build means for a scheduler: the exit code, the
problems to report and the warnings to log (the contract's "Exit codes")."""

from __future__ import annotations

from dataclasses import dataclass

import psycopg

from .database_url import ConnectionSettings
from .db import (
    check_writable,
    connect,
)
from .dbt_invoke import (
    MISSING_DAYS_TEST,
    DbtOutcome,
    describe_failed_test,
)
from .errors import CONFIGURATION_ERROR, ExitCode, JobError
from .readback import (
    describe_missing_days,
    window_label,
)


def failed_build_error(
    settings: ConnectionSettings, outcome: DbtOutcome, lost: bool, label: str, written: str
) -> JobError:
    """Why the build failed, as a scheduler must know it: the database gone or
    refusing us now, read-only now (a failover to a standby), the run's
    connections lost; else the build's own failure (a model error, a timeout)."""
    try:
        with connect(settings, autocommit=True) as conn:
            check_writable(conn)
    except JobError as error:
        if error.exit_code == ExitCode.UNREACHABLE:
            return JobError(
                f"the database went away during the run: {error}; {written}",
                ExitCode.UNREACHABLE,
            )
        return JobError(f"dbt build failed for {label}: {error}; {written}", error.exit_code)
    except psycopg.Error as error:
        said = " ".join(str(error).split())
        return JobError(
            f"the database went away during the run: {said}; {written}",
            ExitCode.UNREACHABLE,
        )
    if lost:
        return JobError(
            "the connection to the database was lost during the run (the server or a pooler"
            f" in between ended the run's sessions); {written}",
            ExitCode.UNREACHABLE,
        )
    # A setting a macro refused (exit 2): in a node, or in an on-run-start hook
    # (the source columns' preflight), whose compilation error ends the invocation.
    for message in [message for _, message in outcome.failed_nodes] + [outcome.exception or ""]:
        if CONFIGURATION_ERROR in message:
            said = message[message.index(CONFIGURATION_ERROR) :].splitlines()[0].strip()
            return JobError(f"{said}; {written}", ExitCode.CONFIG)
    details = "; ".join(f"{name}: {message}" for name, message in outcome.failed_nodes)
    return JobError(
        f"dbt build failed for {label}: {details or outcome.exception or 'see logs/dbt.log'}"
        f"; {written}",
        ExitCode.BUILD_FAILED,
    )


@dataclass
class Verdict:
    """What a finished build means: its exit code, the problems to report (where
    "{written}" stands for what the run wrote) and warnings to log."""

    exit_code: int
    problems: list[str]
    warnings: list[str]
    withheld: int


def judge(
    outcome: DbtOutcome, outcomes: list[dict], missing: dict, allow_missing_days: bool, label: str
) -> Verdict:
    """Pure: the contract's "Exit codes" applied to what the build did. A failed
    data test is a failed build (1, look first); 4 only for source days that
    never arrived, whose facts were withheld."""
    warnings = [
        f"warning (run continued): {describe_failed_test(test)}"
        for test in outcome.warned_tests
        if test.kind != MISSING_DAYS_TEST
    ]
    if missing and allow_missing_days:
        warnings.append(
            "warning: source days that never arrived, written anyway (--allow-missing-days):"
            f" {describe_missing_days(missing)}"
        )
    warnings += [
        f"kept the stored {kept['factType']} of the window {window_label(kept)}: its"
        f" sources now read {kept['sourceRowsRead']} rows, {kept['storedSourceRowsRead']}"
        " when it was written (--allow-fewer-rows replaces it)"
        for kept in outcomes
        if kept["action"] == "kept"
    ]
    problems = []
    withheld = [o for o in outcomes if o["action"] == "withheld"]
    if withheld:
        windows = sorted({o["createdAt"] for o in withheld})
        types = sorted({o["factType"] for o in withheld})
        ending = f"{windows[0]:%Y-%m-%d}" + (
            f" to {windows[-1]:%Y-%m-%d}" if len(windows) > 1 else ""
        )
        problems.append(
            f"withheld {len(withheld)} fact(s) ({', '.join(types)}) in {len(windows)}"
            f" window(s) ending {ending} for source days that never arrived:"
            f" {describe_missing_days(missing)} (--allow-missing-days writes them)"
        )
    failed = [t for t in outcome.failed_tests if t.kind != MISSING_DAYS_TEST]
    if failed:
        details = "; ".join(describe_failed_test(test) for test in failed)
        problems.append(f"data tests failed for {label}: {details}; {{written}}")
    code = ExitCode.BUILD_FAILED if failed else ExitCode.DATA_MISSING if problems else ExitCode.OK
    return Verdict(code, problems, warnings, len(withheld))
