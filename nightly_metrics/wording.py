"""One wording for a window everywhere: the report, the CLI, the Markdown summary."""

from __future__ import annotations

from datetime import date, timedelta

from .project import WINDOW_DAYS


def window_wording(as_of: date) -> str:
    """A window by its UTC days, first and last, and the as-of date that dates
    its fact (the day after its last, excluded from it)."""
    first = as_of - timedelta(days=WINDOW_DAYS)
    last = as_of - timedelta(days=1)
    return f"{first:%Y-%m-%d} – {last:%Y-%m-%d} (as of {as_of:%Y-%m-%d})"
