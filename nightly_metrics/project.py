"""What the runner needs to know of the dbt project, read from its
dbt_project.yml, where each is defined once: the window's length, the
default look-back, the fact types the project writes and reads, the source
streams it counts, the target schema; and the application's table names,
from the dbt sources (models/staging/app/_app__sources.yml), which also
define every column read or written (checked by the on-run-start hook)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import yaml

from .paths import PROJECT_DIR


def _project_vars() -> dict:
    try:
        return yaml.safe_load((PROJECT_DIR / "dbt_project.yml").read_text())["vars"]
    except (OSError, KeyError, TypeError, yaml.YAMLError):
        return {}  # no project here: the runner says so when it needs it (dbt_invoke)


def _source_tables() -> tuple[str, ...]:
    path = PROJECT_DIR / "models" / "staging" / "app" / "_app__sources.yml"
    try:
        sources = yaml.safe_load(path.read_text())["sources"]
        app = next(source for source in sources if source["name"] == "app")
        return tuple(table.get("identifier", table["name"]) for table in app["tables"])
    except (OSError, KeyError, TypeError, StopIteration, yaml.YAMLError):
        return ()


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
# The application's tables this project reads ("DashboardFact", "DecisionLog").
SOURCE_TABLES: tuple[str, ...] = _source_tables()


def streams_read_by(fact: str) -> list[str]:
    """The streams `fact` (a key of FACT_TYPES) reads, in order."""
    return [name for name, stream in SOURCE_STREAMS.items() if fact in stream["read_by"]]


def read_over_look_back(stream: str) -> bool:
    """Whether a fact that reads `stream` reads it over the look-back too."""
    return any(fact in LOOKBACK_FACTS for fact in SOURCE_STREAMS[stream]["read_by"])


def today_utc() -> date:
    """Today's UTC date: the default as-of date."""
    return datetime.now(UTC).date()
