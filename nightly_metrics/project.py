"""What the runner needs to know of the dbt project, read from its
dbt_project.yml, where each is defined once: the window's length, the
default look-back, the fact types the project writes and reads, the source
streams it counts, the target schema; and the application's table and
column names, by the presets of the var source_namings (the dbt sources,
models/staging/app/_app__sources.yml, define every column read or written,
checked by the on-run-start hook)."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime

import yaml

from .paths import PROJECT_DIR


def _project_vars() -> dict:
    try:
        return yaml.safe_load((PROJECT_DIR / "dbt_project.yml").read_text())["vars"]
    except (OSError, KeyError, TypeError, yaml.YAMLError):
        return {}  # no project here: the runner says so when it needs it (dbt_invoke)


_VARS = _project_vars()
WINDOW_DAYS: int = int(_VARS.get("window_days", 7))
LOOKBACK_DAYS_DEFAULT: int = int(_VARS.get("escalation_lookback_days", 30))
FACT_TYPES: dict[str, str] = dict(_VARS.get("fact_types", {}))
# The two facts this project writes, activation first.
METRIC_FACT_TYPES: tuple[str, str] = (
    FACT_TYPES.get("activation", ""),
    FACT_TYPES.get("sla_resolution", ""),
)
# The source streams (var source_streams), in the order they are reported.
SOURCE_STREAMS: dict[str, dict] = dict(_VARS.get("source_streams", {}))
LOOKBACK_FACTS: tuple[str, ...] = tuple(_VARS.get("lookback_facts", ()))
TARGET_SCHEMA_DEFAULT = "nightly_metrics"
SOURCE_NAMINGS: dict[str, dict] = dict(_VARS.get("source_namings") or {})
# A table's own name, set apart from its preset (the sources' identifier).
TABLE_NAME_VARIABLES = {
    "dashboard_fact": "NIGHTLY_METRICS_DASHBOARD_FACT_TABLE",
    "decision_log": "NIGHTLY_METRICS_DECISION_TABLE",
}


def source_naming() -> str:
    """The preset of the application's names in use, as the macro
    source_naming picks it: the var, else NIGHTLY_METRICS_SOURCE_NAMING, else
    prisma. An unknown one is for check_source_naming to report."""
    return _VARS.get("source_naming") or os.environ.get("NIGHTLY_METRICS_SOURCE_NAMING") or "prisma"


def _preset() -> dict:
    return SOURCE_NAMINGS.get(source_naming()) or SOURCE_NAMINGS.get("prisma", {})


def app_table(table: str) -> str:
    """The database's name of a source table (`dashboard_fact`, `decision_log`)."""
    return os.environ.get(TABLE_NAME_VARIABLES[table]) or _preset()[table]["table"]


def app_column(table: str, column: str) -> str:
    """The database's name of a column, named as the sources name it."""
    return _preset()[table]["columns"][column]


def source_tables() -> tuple[str, ...]:
    """The application's tables this project reads, by their database names."""
    return tuple(app_table(table) for table in TABLE_NAME_VARIABLES)


def streams_read_by(fact: str) -> list[str]:
    """The streams `fact` (a key of FACT_TYPES) reads, in order."""
    return [name for name, stream in SOURCE_STREAMS.items() if fact in stream["read_by"]]


def read_over_look_back(stream: str) -> bool:
    """Whether a fact that reads `stream` reads it over the look-back too."""
    return any(fact in LOOKBACK_FACTS for fact in SOURCE_STREAMS[stream]["read_by"])


def today_utc() -> date:
    """Today's UTC date: the default as-of date."""
    return datetime.now(UTC).date()
