"""DATABASE_URL as the application sets it, mapped onto the dbt profile."""

from __future__ import annotations

import pytest

from nightly_metrics.database_url import PASSWORD_ENV, ConfigError, parse_database_url


def test_prisma_url_with_schema_sslmode_and_prisma_only_parameters():
    settings = parse_database_url(
        "postgresql://app%40team:p%40ss%3Aw%2Ford@db.example.com:6543/shop"
        "?schema=analytics&sslmode=require&connection_limit=5&pgbouncer=true"
    )
    assert settings.host == "db.example.com"
    assert settings.port == 6543
    assert settings.user == "app@team"
    assert settings.password == "p@ss:w/ord"
    assert settings.dbname == "shop"
    assert settings.sslmode == "require"
    assert settings.source_schema == "analytics"
    env = settings.dbt_environment("nightly_metrics")
    assert env[PASSWORD_ENV] == "p@ss:w/ord"
    assert env["NIGHTLY_METRICS_SOURCE_SCHEMA"] == "analytics"
    assert env["NIGHTLY_METRICS_TARGET_SCHEMA"] == "nightly_metrics"
    assert "p@ss" not in settings.describe()


def test_postgres_scheme_defaults_and_unix_socket_host():
    settings = parse_database_url("postgres://postgres:@/appdb?host=/tmp/socket%20dir")
    assert settings.host == "/tmp/socket dir"
    assert settings.port == 5432
    assert settings.password == ""
    assert settings.source_schema == "public"
    assert settings.sslmode == "prefer"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (None, "DATABASE_URL is not set"),
        ("   ", "DATABASE_URL is not set"),
        ("mysql://u:p@h/db", "must start with postgres://"),
        ("postgresql://u:p@h:notaport/db", "not a valid URL"),
        ("postgresql://u:p@h:5432/", "names no database"),
        ("postgresql://u:p@h/db?sslmode=sometimes", "sslmode must be one of"),
        ("postgresql:///db", "has no host"),
    ],
)
def test_bad_urls_give_one_clear_message(url, message):
    with pytest.raises(ConfigError, match=message) as error:
        parse_database_url(url)
    assert "p@" not in str(error.value)
