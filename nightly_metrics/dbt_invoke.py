"""One dbt session: dbt's programmatic runner with the connection settings in
the environment, a private target folder, dbt's partial parse kept between
runs, its console lines on stderr, and its result summarized."""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

from . import console
from .console import log
from .database_url import ConnectionSettings
from .errors import ExitCode, JobError
from .paths import LOG_DIR, PROJECT_DIR


def use_colors() -> bool:
    """ANSI colours only for a person at a terminal, never in a cron log."""
    return sys.stderr.isatty() and not os.environ.get("NO_COLOR")


@contextmanager
def dbt_profiles_dir() -> Iterator[Path]:
    """profiles.example.yml reads every setting from the environment, so the
    runner uses it as is, from a private temporary folder."""
    if not (PROJECT_DIR / "dbt_project.yml").is_file():
        raise JobError(
            f"no dbt project in {PROJECT_DIR} (check NIGHTLY_METRICS_PROJECT_DIR)", ExitCode.CONFIG
        )
    folder = Path(tempfile.mkdtemp(prefix="nightly-metrics-profiles-"))
    try:
        shutil.copy(PROJECT_DIR / "profiles.example.yml", folder / "profiles.yml")
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@dataclass
class FailedTest:
    name: str
    message: str
    kind: str = ""  # the generic test's name, e.g. "source_days_arrived"
    failures: int | None = None  # the rows it found
    arguments: dict = field(default_factory=dict)  # the generic test's arguments


@dataclass
class DbtOutcome:
    success: bool
    failed_tests: list[FailedTest]
    failed_nodes: list[tuple[str, str]]
    skipped: int
    exception: str | None
    seconds: float
    warned_tests: list[FailedTest] = field(default_factory=list)
    freshness: list[str] = field(default_factory=list)
    result: object = None  # dbt's own result: the Manifest, for `parse`
    invocation_id: str | None = None  # dbt's id of the invocation (its logs and artifacts)


class DbtOutput(io.TextIOBase):
    """Where dbt's console lines go while it runs: stderr, until an interrupt
    mutes it, so Ctrl+C or SIGTERM ends with one line of ours rather than
    dbt's traceback of the interrupted threads."""

    active: ClassVar[set[DbtOutput]] = set()
    interrupted: ClassVar[bool] = False  # set by Ctrl+C or SIGTERM

    def __init__(self, target, *, muted: bool = False, paths: tuple[str, str] | None = None):
        super().__init__()
        self.target = target
        self.muted = muted
        self.paths = paths  # (the run's temporary target folder, where a failure keeps it)
        DbtOutput.active.add(self)

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        if not self.muted:
            if self.paths:
                text = text.replace(*self.paths)
            self.target.write(text)
            self.target.flush()
        return len(text)

    @classmethod
    def mute_all(cls) -> None:
        cls.interrupted = True
        for output in cls.active:
            output.muted = True


class BuildProgress:
    """dbt callback: progress of a long build on stderr ("12 of 27 nodes done, 40 s"),
    at most every few seconds and at the end, so a backfill is never a silent minute.
    Nothing of it goes to stdout."""

    EVERY_SECONDS = 5.0

    def __init__(self, label: str):
        self.label = label
        self.started = time.perf_counter()
        self.last_shown = self.started
        self.done = 0

    def __call__(self, event) -> None:
        name = event.info.name
        if name == "LogStartLine":  # "3 of 27 START ...": the build's node count
            self.total = getattr(event.data, "total", None) or self.total
            return
        if name != "NodeFinished":
            return
        self.done += 1
        now = time.perf_counter()
        finished = bool(self.total) and self.done >= self.total
        if now - self.last_shown >= self.EVERY_SECONDS or finished:
            self.last_shown = now
            of_total = f" of {self.total}" if self.total else ""
            log(f"{self.label}: {self.done}{of_total} nodes done, {now - self.started:.0f} s")

    total: int | None = None


@contextmanager
def temporary_environment(values: dict[str, str]) -> Iterator[None]:
    """Sets environment variables for the duration, then restores them."""
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def dbt_arguments(
    args: list[str], profiles: Path, target_path: str | Path | None, quiet: bool
) -> list[str]:
    """A dbt command with the project, profile, log folder and target folder."""
    full_args = [
        *args,
        "--project-dir",
        str(PROJECT_DIR),
        "--profiles-dir",
        str(profiles),
        "--log-path",
        str(LOG_DIR),
        "--use-colors" if use_colors() else "--no-use-colors",
        "--no-use-colors-file",
    ]
    if target_path is not None:
        full_args += ["--target-path", str(target_path)]
    if quiet:
        full_args.append("--quiet")
    return full_args


@contextmanager
def dbt_session(
    settings: ConnectionSettings,
    target_schema: str,
    *,
    quiet: bool = True,
    target_path: str | Path | None = None,
    run_environment: dict[str, str] | None = None,
    progress: str | None = None,
    kept_target_path: Path | None = None,
) -> Iterator:
    """Yields invoke(args, manifest=None) -> DbtOutcome, with the connection
    settings (and run_environment, e.g. the as-of dates) in the environment for
    the duration and restored afterwards. Passing the manifest of an earlier
    `parse` skips parsing the project again. dbt's lines name files in
    target_path as in kept_target_path, where a failed run keeps them."""
    from dbt.cli.main import dbtRunner

    if target_path is None and os.environ.get("DBT_TARGET_PATH"):
        # where dbt writes its artifacts, so that they are read from there too
        target_path = PROJECT_DIR / os.environ["DBT_TARGET_PATH"]
    environment = {"DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    environment.update(settings.dbt_environment(target_schema))
    environment.update(run_environment or {})
    with temporary_environment(environment), dbt_profiles_dir() as profiles:

        def invoke(args: list[str], manifest=None) -> DbtOutcome:
            full_args = dbt_arguments(args, profiles, target_path, quiet)
            started = time.perf_counter()
            target = Path(target_path) if target_path is not None else PROJECT_DIR / "target"
            for name in ARTIFACTS:  # an earlier command's results are not this one's
                with contextlib.suppress(OSError):
                    (target / name).unlink()
            # dbt logs to stdout; ours is for results (--json), so its lines go
            # to stderr, through a stream that an interrupt can silence.
            paths = None
            if target_path is not None and kept_target_path is not None:
                paths = (str(target_path), str(kept_target_path))
            output = DbtOutput(sys.stderr, muted=console.is_quiet(), paths=paths)
            try:
                with redirect_stdout(output), redirect_stderr(output):
                    callbacks = [BuildProgress(progress)] if progress and args[0] == "build" else []
                    result = dbtRunner(manifest=manifest, callbacks=callbacks).invoke(full_args)
            finally:
                DbtOutput.active.discard(output)
            if isinstance(result.exception, KeyboardInterrupt) or DbtOutput.interrupted:
                # dbt caught Ctrl+C or SIGTERM and cancelled its queries.
                raise KeyboardInterrupt
            return summarize(result, time.perf_counter() - started, settings, target)

        yield invoke


def invoke_dbt(
    args: list[str],
    settings: ConnectionSettings,
    target_schema: str,
    *,
    quiet: bool = True,
    target_path: str | Path | None = None,
    run_environment: dict[str, str] | None = None,
) -> DbtOutcome:
    """One dbt command, e.g. invoke_dbt(["docs", "generate"], ...)."""
    with dbt_session(
        settings,
        target_schema,
        quiet=quiet,
        target_path=target_path,
        run_environment=run_environment,
    ) as invoke:
        return invoke(args)


def without_compiled_paths(message: str) -> str:
    """dbt's messages point at compiled SQL in the run's temporary target folder,
    which is gone by the time anyone reads them: the SQL is in dbt.log."""
    lines = [line for line in message.splitlines() if "compiled code at" not in line]
    return "\n".join(lines).strip()


ARTIFACTS = ("run_results.json", "sources.json")  # what a command's outcome is read from


def read_artifacts(target: Path) -> tuple[list[dict], dict, str | None]:
    """The node results of the last command from dbt's versioned artifacts
    (run_results.json, or sources.json for freshness), each node's kind from
    manifest.json, and the invocation's id."""
    results: list[dict] = []
    invocation_id = None
    for name in ARTIFACTS:
        with contextlib.suppress(OSError, ValueError):
            artifact = json.loads((target / name).read_text())
            results += artifact.get("results") or []
            invocation_id = artifact.get("metadata", {}).get("invocation_id") or invocation_id
    nodes: dict = {}
    with contextlib.suppress(OSError, ValueError):
        manifest = json.loads((target / "manifest.json").read_text())
        nodes = {
            **manifest.get("nodes", {}),
            **manifest.get("sources", {}),
            **manifest.get("unit_tests", {}),
        }
    return results, nodes, invocation_id


def summarize(result, seconds: float, settings: ConnectionSettings, target: Path) -> DbtOutcome:
    """The command's outcome, from its artifacts (see read_artifacts)."""
    results, nodes, invocation_id = read_artifacts(target)
    # sources.json leaves out a source whose freshness query failed (a timeout):
    # that one result comes from the invocation itself.
    seen = {r.get("unique_id") for r in results}
    for node_result in getattr(result.result, "results", None) or []:
        node = getattr(node_result, "node", None)
        if str(node_result.status) == "runtime error" and node.unique_id not in seen:
            results.append(
                {
                    "unique_id": node.unique_id,
                    "status": "runtime error",
                    "message": node_result.message,
                }
            )
    outcome = DbtOutcome(result.success, [], [], 0, None, seconds, result=result.result)
    outcome.invocation_id = invocation_id
    for node_result in results:
        status = node_result.get("status") or ""
        node = nodes.get(node_result.get("unique_id"), {})
        name = node.get("name") or str(node_result.get("unique_id"))
        message = without_compiled_paths(
            node_result.get("message") or node_result.get("error") or ""
        )
        outcome.skipped += status == "skipped"
        if node.get("resource_type") == "source":
            if "max_loaded_at" in node_result:
                age_hours = (node_result.get("max_loaded_at_time_ago_in_s") or 0) / 3600
                outcome.freshness.append(
                    f"{node.get('source_name')}.{name}: newest row"
                    f" {node_result['max_loaded_at'][:16].replace('T', ' ')} UTC,"
                    f" {age_hours:.1f} h old ({status})"
                )
            if status != "runtime error":
                continue
        test_metadata = node.get("test_metadata") or {}
        test = FailedTest(
            name,
            message,
            test_metadata.get("name") or "",
            node_result.get("failures"),
            test_metadata.get("kwargs") or {},
        )
        is_test = node.get("resource_type") == "test"
        if is_test and status == "warn":
            outcome.warned_tests.append(test)
        elif is_test and status == "fail":
            outcome.failed_tests.append(test)
        elif status in ("fail", "error", "runtime error"):
            outcome.failed_nodes.append((name, message))
    if result.exception is not None:
        outcome.exception = str(result.exception).strip()
        if settings.password:
            outcome.exception = outcome.exception.replace(settings.password, "***")
    return outcome


def describe_failed_test(test: FailedTest) -> str:
    """The test's name and what failed (its message says how many rows)."""
    if test.kind == SKIPPED_ROWS_TEST:
        table = test.arguments.get("table", "?")
        return (
            f"{test.name}: {test.failures} row(s) of the application's {table} skipped,"
            " without a time or a payload (docs/source-naming.md)"
        )
    return f"{test.name}: {test.message}"


# The source test counting rows without a time or a payload (tests/generic/rows_usable.sql).
SKIPPED_ROWS_TEST = "rows_usable"


MISSING_DAYS_TEST = "source_days_arrived"


def describe_parse(files_parsed: tuple[int, int] | None) -> str:
    if files_parsed is None:
        return ""
    parsed, total = files_parsed
    if parsed == 0:
        return " (the parse of an earlier run reused)"
    return f" ({parsed} of {total} project files parsed)"


FAILED_RUNS_DIR = LOG_DIR / "failed-runs"


FAILED_RUNS_KEPT = 5


def keep_failed_target(target: Path, kept: Path) -> None:
    """A failed build's compiled SQL (the files dbt's messages name) outlives the
    run's temporary target folder: copied to logs/failed-runs/, the last few kept."""
    try:
        kept.mkdir(parents=True, exist_ok=True)
        for folder in ("compiled", "run"):
            if (target / folder).is_dir():
                shutil.copytree(target / folder, kept / folder, dirs_exist_ok=True)
        runs = sorted(path for path in FAILED_RUNS_DIR.iterdir() if path.is_dir())
        for old in runs[:-FAILED_RUNS_KEPT]:
            shutil.rmtree(old, ignore_errors=True)
        log(f"the failed build's compiled SQL is kept in {kept}")
    except OSError as error:  # a read-only state folder: the SQL is in dbt.log too
        log(f"warning: the failed build's compiled SQL was not kept: {error}")
