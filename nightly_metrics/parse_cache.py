"""dbt's partial-parse file, kept between runs per project, database and schema."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
from pathlib import Path

from .database_url import ConnectionSettings
from .paths import PARSE_CACHE_DIR, PROJECT_DIR


class ParseCache:
    """dbt's partial-parse file (partial_parse.msgpack), kept between runs.

    A run compiles into a temporary target folder of its own; the file is
    copied in before `dbt parse` and the new one copied back after it, under a
    name of its own and then renamed, so concurrent runs never read a
    half-written file. One file per project folder, database, schema and set
    of run options (the --vars: a dry run, --allow-missing-days, ...): dbt
    parses the whole project again when the profile, the vars, the project's
    files or dbt's version differ from the file's (it checks), so a nightly
    after a one-off run with other options still finds its own parse, and a
    machine serving several databases keeps one for each."""

    FILE_NAME = "partial_parse.msgpack"
    KEEP = 16  # (database, options) pairs whose parse is kept

    def __init__(
        self,
        settings: ConnectionSettings,
        target_schema: str,
        target_path: Path,
        variables: str = "",
    ):
        identity = {
            key: value
            for key, value in settings.dbt_environment(target_schema).items()
            if "PASSWORD" not in key
        }
        key = hashlib.sha256(
            json.dumps([str(PROJECT_DIR), identity, variables], sort_keys=True).encode()
        ).hexdigest()[:16]
        self.cached = PARSE_CACHE_DIR / key / self.FILE_NAME
        self.target_path = target_path

    def restore(self) -> None:
        # None yet, or unreadable: dbt then parses the whole project.
        with contextlib.suppress(OSError):
            shutil.copyfile(self.cached, self.target_path / self.FILE_NAME)

    def save(self) -> None:
        written = self.target_path / self.FILE_NAME
        if not written.is_file():
            return
        # A read-only state folder only costs the next run a full parse.
        with contextlib.suppress(OSError):
            self.cached.parent.mkdir(parents=True, exist_ok=True)
            partial = self.cached.with_name(f".{self.FILE_NAME}.{os.getpid()}")
            shutil.copyfile(written, partial)
            os.replace(partial, self.cached)
            self.forget_all_but_the_newest()

    @staticmethod
    def forget_all_but_the_newest(keep: int = KEEP) -> None:
        """Each file is a megabyte or two: keep those used last."""
        kept = sorted(
            (folder for folder in PARSE_CACHE_DIR.iterdir() if folder.is_dir()),
            key=lambda folder: folder.stat().st_mtime,
            reverse=True,
        )
        for folder in kept[keep:]:
            shutil.rmtree(folder, ignore_errors=True)

    def files_parsed(self) -> tuple[int, int] | None:
        """(files dbt parsed, files in the project) by the last `dbt parse`:
        (0, n) when it reused the cached parse unchanged."""
        try:
            info = json.loads((self.target_path / "perf_info.json").read_text())
            return int(info["parsed_path_count"]), int(info["path_count"])
        except (OSError, ValueError, KeyError, TypeError):
            return None
