"""Progress on stderr, so stdout can carry --json output alone; --quiet keeps
only errors. The standard logging module, logger "nightly_metrics"."""

from __future__ import annotations

import logging
import os
import sys

LOGGER = logging.getLogger("nightly_metrics")


def configure(*, quiet: bool = False) -> None:
    """One stderr handler, "nightly-metrics: <message>"; --quiet drops progress."""
    LOGGER.handlers.clear()
    handler = logging.StreamHandler()  # sys.stderr as it is when a line is written
    handler.setFormatter(logging.Formatter("nightly-metrics: %(message)s"))
    LOGGER.addHandler(handler)
    LOGGER.setLevel(logging.WARNING if quiet else logging.INFO)
    LOGGER.propagate = False


def is_quiet() -> bool:
    return LOGGER.getEffectiveLevel() > logging.INFO


def log(message: str) -> None:
    if not LOGGER.handlers:
        configure()
    LOGGER.info(message)


def use_colors() -> bool:
    """ANSI colours only for a person at a terminal, never in a cron log."""
    return sys.stderr.isatty() and not os.environ.get("NO_COLOR")
