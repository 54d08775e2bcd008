"""COPY text spellings: NULL, timestamps, ISO times and JSON, pre-escaped."""

from __future__ import annotations

import time
from json import dumps as _json_dumps
from typing import Any

NULL = "\\N"
DAY_MS = 86_400_000

# "HH:MM" for each minute of a day, "SS.mmm" for each millisecond of a minute.
_HM = tuple(f"{m // 60:02d}:{m % 60:02d}" for m in range(1440))
_SSMS = tuple(f"{s // 1000:02d}.{s % 1000:03d}" for s in range(60_000))


def copy_timestamp(prefix: str, ms_of_day: int) -> str:
    """`timestamp(3)` text for a millisecond of the day whose 'YYYY-MM-DD ' is prefix."""
    m, rem = divmod(ms_of_day, 60_000)
    return f"{prefix}{_HM[m]}:{_SSMS[rem]}"


def iso_utc(epoch_s: int) -> str:
    """'YYYY-MM-DDTHH:MM:SS' (UTC, no offset) for whole epoch seconds."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(epoch_s))


def copy_json(obj: Any) -> str:
    """Compact JSON, escaped for COPY's text format (only backslashes can occur)."""
    return _json_dumps(obj, separators=(",", ":")).replace("\\", "\\\\")
