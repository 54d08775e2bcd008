"""Where the dbt project is, and where the runner writes its logs, the docs site
and the demo's data.

From a source checkout (or an editable install) everything stays in the
checkout, as before: `logs/`, `target/`, `.demo/`. An installed package ships
the dbt project as package data (`nightly_metrics/dbt_project/`) and writes to
a state folder of the user's instead, since site-packages is no place for
logs: `$NIGHTLY_METRICS_HOME`, else `$XDG_STATE_HOME/nightly-metrics`, else
`~/.local/state/nightly-metrics`. `NIGHTLY_METRICS_PROJECT_DIR` points the
runner at another copy of the dbt project (e.g. a checkout with local changes).
"""

from __future__ import annotations

import os
from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent
_CHECKOUT_DIR = _PACKAGE_DIR.parent


def _project_dir() -> Path:
    configured = os.environ.get("NIGHTLY_METRICS_PROJECT_DIR")
    if configured:
        return Path(configured).expanduser().resolve()
    for candidate in (_CHECKOUT_DIR, _PACKAGE_DIR / "dbt_project"):
        if (candidate / "dbt_project.yml").is_file():
            return candidate
    return _PACKAGE_DIR / "dbt_project"


def _state_dir() -> Path:
    configured = os.environ.get("NIGHTLY_METRICS_HOME")
    if configured:
        return Path(configured).expanduser().resolve()
    if PROJECT_DIR == _CHECKOUT_DIR:
        return _CHECKOUT_DIR
    xdg_state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(xdg_state) / "nightly-metrics"


PROJECT_DIR = _project_dir()
STATE_DIR = _state_dir()
LOG_DIR = STATE_DIR / "logs"  # dbt's own log, logs/dbt.log
DOCS_TARGET_DIR = STATE_DIR / "target"  # the docs site
PARSE_CACHE_DIR = STATE_DIR / "target" / "parse-cache"  # dbt's partial-parse files, per database
DEMO_DATA_DIR = STATE_DIR / ".demo" / "pgdata"  # the demo's embedded PostgreSQL
DEFAULT_REPORT = DOCS_TARGET_DIR / "nightly-metrics-report.html"  # the report command's file
