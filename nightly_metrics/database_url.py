"""DATABASE_URL, as the application (Prisma) sets it, mapped onto the dbt
profile's environment variables. The password only ever travels in the
environment of this process, under dbt's secret prefix so dbt scrubs it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from urllib.parse import parse_qs, unquote, urlsplit

# dbt masks the values of DBT_ENV_SECRET_* variables in its logs and
# refuses them anywhere but profiles.yml.
PASSWORD_ENV = "DBT_ENV_SECRET_NIGHTLY_METRICS_DB_PASSWORD"

# Other query parameters (Prisma's connection_limit, pool_timeout, …) mean
# nothing to libpq and are ignored; `pgbouncer=true` marks a transaction
# pooler (Prisma's convention), which the job then treats as one.
SSL_MODES = {"disable", "allow", "prefer", "require", "verify-ca", "verify-full"}


class ConfigError(Exception):
    """A setting the user gave is missing or wrong; the message says which."""


@dataclass(frozen=True)
class ConnectionSettings:
    host: str
    port: int
    user: str
    password: str
    dbname: str
    sslmode: str
    source_schema: str
    # `pgbouncer=true`: a transaction pooler, where statements outside one
    # transaction may run on different server connections.
    through_pooler: bool = False

    def libpq_kwargs(self) -> dict[str, str | int]:
        """Keyword arguments for psycopg.connect()."""
        kwargs: dict[str, str | int] = {
            "host": self.host,
            "port": self.port,
            "user": self.user,
            "dbname": self.dbname,
            "sslmode": self.sslmode,
            "connect_timeout": 10,
        }
        if self.password:
            kwargs["password"] = self.password
        return kwargs

    def dbt_environment(self, target_schema: str) -> dict[str, str]:
        """The variables profiles.example.yml reads."""
        return {
            "NIGHTLY_METRICS_DB_HOST": self.host,
            "NIGHTLY_METRICS_DB_PORT": str(self.port),
            "NIGHTLY_METRICS_DB_USER": self.user,
            PASSWORD_ENV: self.password,
            "NIGHTLY_METRICS_DB_NAME": self.dbname,
            "NIGHTLY_METRICS_DB_SSLMODE": self.sslmode,
            "NIGHTLY_METRICS_SOURCE_SCHEMA": self.source_schema,
            "NIGHTLY_METRICS_TARGET_SCHEMA": target_schema,
        }

    def describe(self) -> str:
        """Where we connect, without the password."""
        return f"{self.user}@{self.host}:{self.port}/{self.dbname} (schema {self.source_schema})"


def parse_database_url(url: str | None, name: str = "DATABASE_URL") -> ConnectionSettings:
    """Settings from a PostgreSQL URL as Prisma writes it; `name` is the variable
    it came from, for the messages."""
    if url is None or not url.strip():
        raise ConfigError(
            f"{name} is not set: set it to the application's PostgreSQL URL, "
            "e.g. postgresql://user:password@host:5432/db?schema=public"
        )
    url = url.strip()
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise ConfigError(f"{name} is not a valid URL ({error})") from None
    if parts.scheme not in ("postgres", "postgresql"):
        raise ConfigError(
            f"{name} must start with postgres:// or postgresql://"
            + (f" (it starts with {parts.scheme}://)" if parts.scheme else "")
        )
    query = {
        key: values[-1] for key, values in parse_qs(parts.query, keep_blank_values=True).items()
    }

    host = unquote(parts.hostname or "") or query.get("host", "")
    if not host:
        raise ConfigError(f"{name} has no host (neither host:port nor ?host=/socket/dir)")
    if "port" in query and port is None:
        if not query["port"].isdigit():
            raise ConfigError(f"{name} port must be a number, got {query['port']!r}")
        port = int(query["port"])

    dbname = unquote(parts.path.lstrip("/")) or query.get("dbname", "")
    if not dbname:
        raise ConfigError(f"{name} names no database (the path after the host)")

    sslmode = query.get("sslmode", "prefer").lower()
    if sslmode not in SSL_MODES:
        raise ConfigError(f"{name} sslmode must be one of {', '.join(sorted(SSL_MODES))}")

    schema = query.get("schema", "public") or "public"
    return ConnectionSettings(
        host=host,
        port=port or 5432,
        user=unquote(parts.username or "") or query.get("user", "") or "postgres",
        password=unquote(parts.password or "") or query.get("password", ""),
        dbname=dbname,
        sslmode=sslmode,
        source_schema=schema,
        through_pooler=query.get("pgbouncer", "").lower() == "true",
    )


def settings_from_environment(environ: Mapping[str, str]) -> tuple[ConnectionSettings, str]:
    """The connection the job uses, and a line for the log saying which and why.

    Prisma apps put a transaction pooler in DATABASE_URL (`pgbouncer=true`) and
    a direct connection in DIRECT_URL for what cannot go through one: the job
    uses DIRECT_URL when it is set (the schema comes from DATABASE_URL when
    DIRECT_URL names none), and otherwise works through the pooler, keeping no
    session state between transactions."""
    database = parse_database_url(environ.get("DATABASE_URL"))
    direct_url = (environ.get("DIRECT_URL") or "").strip()
    if direct_url:
        direct = parse_database_url(direct_url, "DIRECT_URL")
        if "schema" not in parse_qs(urlsplit(direct_url).query):
            direct = replace(direct, source_schema=database.source_schema)
        return direct, (
            f"connecting with DIRECT_URL ({direct.describe()}), a direct connection,"
            " rather than DATABASE_URL"
        )
    if database.through_pooler:
        return database, (
            f"connecting through a transaction pooler (DATABASE_URL has pgbouncer=true:"
            f" {database.describe()}); the job keeps no session state between"
            " transactions; set DIRECT_URL to connect directly"
        )
    return database, f"connecting to {database.describe()}"
