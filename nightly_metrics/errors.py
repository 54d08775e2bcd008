"""What a failure means to a scheduler: the run's exit code (the README's table).

Decided by the SQLSTATE and by libpq's connection status wherever they exist,
never by an English message: a server may answer in another language
(lc_messages). A refused login is the one case libpq reports as text only;
classify_connection_failure says how it is told from a server never reached."""

from __future__ import annotations

import re
from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0  # written (or printed, for a dry run); kept over shrunk sources included
    BUILD_FAILED = 1  # a model error, a failed data test, a timeout: alert, not retry
    CONFIG = 2  # URL, login refused, date, tables or columns missing, read-only: alert
    UNREACHABLE = 3  # not reached, or the connection was lost during the run: retry later
    DATA_MISSING = 4  # a source day never arrived: retry once the data arrives
    LOCK_TIMEOUT = 5  # another run held the lock past the lock timeout: retry
    SIGINT = 130  # stopped by Ctrl+C: retry
    SIGTERM = 143  # stopped by SIGTERM: retry


# Class 08 (connection exception) and these: the server ended or refused the
# session for now (pg_terminate_backend, a failover, a restart, too many clients).
LOST_SQLSTATES = frozenset({"57P01", "57P02", "57P03", "57P05", "53300"})
# Class 28 (invalid authorization) and these: nothing a retry would change.
CONFIG_SQLSTATES = frozenset(
    {
        "25006",  # read_only_sql_transaction: a standby, or default_transaction_read_only
        "42P01",  # undefined_table
        "42703",  # undefined_column
        "3F000",  # invalid_schema_name
        "3D000",  # invalid_catalog_name: no such database
        "42501",  # insufficient_privilege: no CONNECT on the database, a missing grant
    }
)


def classify(sqlstate: str | None, *, connection_lost: bool = False) -> ExitCode:
    """The exit code of a database error with this SQLSTATE; connection_lost when
    libpq says the connection is closed or bad (it then often has no SQLSTATE)."""
    if connection_lost or (sqlstate or "").startswith("08") or sqlstate in LOST_SQLSTATES:
        return ExitCode.UNREACHABLE
    if (sqlstate or "").startswith("28") or sqlstate in CONFIG_SQLSTATES:
        return ExitCode.CONFIG
    return ExitCode.BUILD_FAILED


# libpq writes a server's ErrorResponse as "SEVERITY:  message", two spaces after
# the (translated) severity, and "SEVERITY:  SQLSTATE: message" when its error
# verbosity is verbose; its own errors ("Connection refused", "timeout expired")
# never have that shape.
_SERVER_ANSWER = re.compile(r"(?:^|failed: )\S+:  (?:([0-9A-Z]{5}): )?", re.MULTILINE)
# What a server or pooler says, in English, when it answered but cannot take the
# session now. Only consulted without a SQLSTATE; translated, these read as refusals.
_NOT_NOW = (
    "the database system is",  # starting up, shutting down, in recovery mode
    "too many clients",
    "too many connections",
    "remaining connection slots are reserved",
    "cannot connect to server",  # PgBouncer: the server behind it is down
    "try again later",
)


def classify_connection_failure(
    message: str, sqlstate: str | None = None, *, needs_password: bool = False
) -> ExitCode:
    """The exit code of a connection that could not be opened: CONFIG when the
    server answered and refused the login (wrong password, unknown role, missing
    database, pg_hba.conf), UNREACHABLE when it never answered or cannot take a
    session now. needs_password: libpq's PQconnectionNeedsPassword."""
    answer = _SERVER_ANSWER.search(message)
    sqlstate = sqlstate or (answer.group(1) if answer else None)
    if sqlstate:
        code = classify(sqlstate)
        return ExitCode.CONFIG if code == ExitCode.BUILD_FAILED else code
    if needs_password:
        return ExitCode.CONFIG
    if answer is None:
        return ExitCode.UNREACHABLE
    said = message[answer.end() :]
    return ExitCode.UNREACHABLE if any(m in said for m in _NOT_NOW) else ExitCode.CONFIG


class JobError(Exception):
    def __init__(self, message: str, exit_code: int):
        super().__init__(message)
        self.exit_code = exit_code


# How the project's macros begin a message about a setting (macros/configuration.sql).
CONFIGURATION_ERROR = "configuration error:"
