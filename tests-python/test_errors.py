"""The exit code of a failure, from its SQLSTATE and libpq's connection status (issue 18
part 4): pure functions, no database. The runs that produce each cause for real are in
test_exit_codes.py."""

from __future__ import annotations

import pytest

from nightly_metrics.errors import ExitCode, classify, classify_connection_failure

SOCKET = 'connection to server on socket "/run/pg/.s.PGSQL.5432" failed: '
TCP = 'connection to server at "db.example" (10.0.0.7), port 5432 failed: '


def test_the_codes_are_the_contracts():
    assert [int(code) for code in ExitCode] == [0, 1, 2, 3, 4, 5, 130, 143]


@pytest.mark.parametrize(
    ("sqlstate", "code"),
    [
        ("08006", ExitCode.UNREACHABLE),  # connection_failure
        ("08003", ExitCode.UNREACHABLE),  # connection_does_not_exist
        ("08P01", ExitCode.UNREACHABLE),  # protocol_violation (a pooler's "cannot connect")
        ("57P01", ExitCode.UNREACHABLE),  # admin_shutdown: pg_terminate_backend, a failover
        ("57P02", ExitCode.UNREACHABLE),  # crash_shutdown
        ("57P03", ExitCode.UNREACHABLE),  # cannot_connect_now: starting up, shutting down
        ("53300", ExitCode.UNREACHABLE),  # too_many_connections
        ("25006", ExitCode.CONFIG),  # read_only_sql_transaction: a standby's URL
        ("42P01", ExitCode.CONFIG),  # undefined_table
        ("42703", ExitCode.CONFIG),  # undefined_column
        ("3F000", ExitCode.CONFIG),  # invalid_schema_name
        ("28P01", ExitCode.CONFIG),  # invalid_password
        ("28000", ExitCode.CONFIG),  # invalid_authorization_specification (pg_hba reject)
        ("3D000", ExitCode.CONFIG),  # invalid_catalog_name: no such database
        ("57014", ExitCode.BUILD_FAILED),  # query_canceled: a statement timeout
        ("22012", ExitCode.BUILD_FAILED),  # division_by_zero: a model error
        ("XX000", ExitCode.BUILD_FAILED),
        (None, ExitCode.BUILD_FAILED),
    ],
)
def test_a_sqlstate_gives_its_exit_code(sqlstate, code):
    assert classify(sqlstate) == code


def test_a_connection_that_is_gone_is_unreachable_whatever_the_sqlstate():
    assert classify(None, connection_lost=True) == ExitCode.UNREACHABLE
    assert classify("XX000", connection_lost=True) == ExitCode.UNREACHABLE


@pytest.mark.parametrize(
    ("message", "code"),
    [
        # the server never answered: retry later
        (TCP + "Connection refused\n\tIs the server running on that host?", 3),
        (TCP + "timeout expired", 3),
        ('could not translate host name "db.example" to address: Name or service not known', 3),
        (SOCKET + "No such file or directory\n\tIs the server running locally?", 3),
        (TCP + "server closed the connection unexpectedly\n\tThis probably means ...", 3),
        # the server answered and refused the login: a configuration error
        (SOCKET + 'FATAL:  password authentication failed for user "app"', 2),
        (SOCKET + 'FATAL:  role "ghost" does not exist', 2),
        (SOCKET + 'FATAL:  database "nowhere" does not exist', 2),
        (SOCKET + 'FATAL:  pg_hba.conf rejects connection for host "[local]", user "x"', 2),
        (TCP + 'FATAL:  no pg_hba.conf entry for host "10.0.0.9", user "app"', 2),
        # ... in another language (lc_messages): the SQLSTATE when libpq gives it ...
        (TCP + "FATAL:  28P01: Passwort-Authentifizierung für Benutzer »app« fehlgeschlagen", 2),
        (TCP + "FATAL:  57P03: das Datenbanksystem fährt herunter", 3),
        # ... and without it: the server answered, so not "unreachable"
        (TCP + "FATAL:  Passwort-Authentifizierung für Benutzer »app« fehlgeschlagen", 2),
        (TCP + 'ВАЖНО:  пользователь "app" не прошёл проверку подлинности (по паролю)', 2),
        # the server answered but cannot take us now: retry later
        (SOCKET + "FATAL:  the database system is starting up", 3),
        (SOCKET + "FATAL:  the database system is shutting down", 3),
        (SOCKET + "FATAL:  sorry, too many clients already", 3),
        (TCP + "ERROR:  pgbouncer cannot connect to server", 3),
    ],
)
def test_a_failed_login_is_told_from_a_server_that_never_answered(message, code):
    assert classify_connection_failure(message) == code


def test_a_sqlstate_given_beside_the_message_wins():
    assert classify_connection_failure(TCP + "FATAL:  irgendwas", "57P03") == 3
    assert classify_connection_failure(TCP + "timeout expired", "28P01") == 2


def test_no_password_to_give_is_a_configuration_error():
    assert (
        classify_connection_failure("fe_sendauth: no password supplied", needs_password=True) == 2
    )
