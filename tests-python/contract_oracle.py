"""A plain-Python reference implementation ("oracle") of the nightly metrics contract.

The contract is the project's spec, ``docs/metrics-contract.md``. This module is the
independent second implementation that the tests compare the dbt project's output with, so
it shares no code,
SQL or idea of structure with the project: standard library only, no database.

Inputs are the source rows as Python objects: :class:`Fact` for ``"DashboardFact"`` and
:class:`Decision` for ``"DecisionLog"``; timestamps are naive datetimes holding UTC (aware ones
are converted), ``value`` and ``metadata`` are already JSON-decoded.

Times taken from JSON payloads are handled as integer microseconds since 1970-01-01 UTC until
they are known to lie in the usable range [1970-01-01, 10000-01-01), so that no arithmetic on
them can overflow ``datetime``.

Decisions taken where the contract leaves room (the accepted "other spellings" among them) are
listed in the docstrings of the functions they concern and summed up here:

* Blank shop domain: empty after stripping the six ASCII white-space characters (space, tab,
  LF, CR, VT, FF). Other Unicode white space (e.g. U+00A0) does not make a domain blank.
* Timestamps: ``YYYY-MM-DD[Tt ]HH:MM[:SS[.fraction]][Z|z|±HH:MM]`` with ASCII digits only, no
  surrounding white space; no offset means UTC. Fractions of any length are rounded half up
  to microseconds (the 7th digit decides). Hours > 23, minutes or seconds > 59, offsets with
  hours > 23 or minutes > 59 and impossible calendar dates are invalid. ``±HHMM`` and ``±HH``
  offsets, date-only strings and JSON numbers are not timestamps.
* "Valid"/"usable" time: parsed and, converted to UTC, within [1970-01-01, 10000-01-01). This
  is checked for every candidate (``breachedAt``, each start) and again for the result of
  start + ``slaMinutes``. An out-of-range ``breachedAt`` or start is therefore "not valid" and
  the next one in the contract's order is tried; an out-of-range start + ``slaMinutes`` rejects
  the element (it does not fall back to a later start).
* Conversation ids: ``metadata.breaches[].conversationId`` is a JSON integer >= 0 (Python
  ``int``, not ``bool``; ``12.0`` is a JSON float and rejected; ``1e3`` decoded as
  ``Decimal`` is the integer 1000) or a string of ASCII digits; the legacy ``value[].id``
  must be a JSON integer >= 0 (digit strings rejected). Canonical form: decimal digits
  without leading zeros, any length.
* JSON numbers (``slaMinutes``, epoch ``created_at``): ``int``, finite ``float`` or finite
  ``Decimal`` (if decoded with ``parse_float=Decimal``), never ``bool`` or a string. Floats
  are read through their shortest decimal ``repr``; the product with 60 000 000 (minutes) or
  1 000 000 (seconds) is rounded half-even to whole microseconds.
* Rejected elements are counted per element per fact (two snapshots carrying the same bad
  element count twice), for escalation facts in the look-back range only.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any

ACTIVATION_FACT_TYPE = "metrics.activation.rolling7d"
SLA_FACT_TYPE = "metrics.sla_resolution.rolling7d"
SESSION_FACT_TYPE = "dashboard.session.opened"
ESCALATION_FACT_TYPE = "chatwoot.escalations"
AGGREGATE_SHOP = "__aggregate__"
OPS_SCOPE = "ops"
WINDOW_DAYS = 7
DEFAULT_LOOKBACK_DAYS = 30

_ASCII_WHITESPACE = " \t\n\r\v\f"

_EPOCH = datetime(1970, 1, 1)
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_US_PER_SECOND = 1_000_000
_US_PER_MINUTE = 60 * _US_PER_SECOND
_US_PER_DAY = 24 * 60 * _US_PER_MINUTE
# First instant that is no longer usable: 10000-01-01 00:00:00 UTC.
_US_END_OF_9999 = (date(9999, 12, 31).toordinal() + 1 - _EPOCH_ORDINAL) * _US_PER_DAY

# [0-9], never \d: Python's \d also matches non-ASCII digits.
_TIMESTAMP_RE = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})"
    r"[Tt ]([0-9]{2}):([0-9]{2})"
    r"(?::([0-9]{2})(?:\.([0-9]+))?)?"
    r"([Zz]|[+-][0-9]{2}:[0-9]{2})?"
)
_DIGITS_RE = re.compile(r"[0-9]+")
# Used with fullmatch: Python's `$` would also match before a trailing newline.
_RESOLUTION_REF_RE = re.compile(r"chatwoot:([0-9]+)")


@dataclass
class Fact:
    """One ``"DashboardFact"`` row (the columns the contract reads)."""

    shop_domain: str
    fact_type: str
    value: Any
    metadata: Any
    created_at: datetime


@dataclass
class Decision:
    """One ``"DecisionLog"`` row (the columns the contract reads)."""

    scope: str
    shop_domain: str | None
    external_ref: str | None
    created_at: datetime


# --------------------------------------------------------------------------- time helpers


def _naive_utc(ts: datetime) -> datetime:
    if ts.tzinfo is not None:
        return ts.astimezone(UTC).replace(tzinfo=None)
    return ts


def _usable(micros: int) -> int | None:
    """``micros`` (since the epoch) when within [1970-01-01, 10000-01-01), else None."""
    return micros if 0 <= micros < _US_END_OF_9999 else None


def _micros_to_datetime(micros: int) -> datetime:
    return _EPOCH + timedelta(microseconds=micros)


def _datetime_to_micros(ts: datetime) -> int:
    return (_naive_utc(ts) - _EPOCH) // timedelta(microseconds=1)


def window(as_of: date) -> tuple[datetime, datetime]:
    """The half-open window ``[D - 7 days 00:00, D 00:00)`` as naive UTC datetimes."""
    end = datetime(as_of.year, as_of.month, as_of.day)
    return end - timedelta(days=WINDOW_DAYS), end


def iso_utc(ts: datetime) -> str:
    """Like JavaScript's ``toISOString()``: ``2026-11-21T00:00:00.000Z`` (milliseconds, cut)."""
    ts = _naive_utc(ts)
    return (
        f"{ts.year:04d}-{ts.month:02d}-{ts.day:02d}"
        f"T{ts.hour:02d}:{ts.minute:02d}:{ts.second:02d}.{ts.microsecond // 1000:03d}Z"
    )


def _parse_timestamp_micros(text: Any) -> int | None:
    if not isinstance(text, str):
        return None
    match = _TIMESTAMP_RE.fullmatch(text)
    if match is None:
        return None
    year, month, day, hour, minute, second, fraction, offset = match.groups()
    try:
        ordinal = date(int(year), int(month), int(day)).toordinal()
    except ValueError:  # 2026-02-30, month 13, year 0000 ...
        return None
    hours, minutes = int(hour), int(minute)
    seconds = int(second) if second is not None else 0
    if hours > 23 or minutes > 59 or seconds > 59:
        return None
    micros = 0
    if fraction is not None:
        micros = int(fraction[:6].ljust(6, "0"))
        if len(fraction) > 6 and fraction[6] >= "5":  # round half up on the 7th digit
            micros += 1
    offset_micros = 0
    if offset is not None and offset not in ("Z", "z"):
        offset_hours, offset_minutes = int(offset[1:3]), int(offset[4:6])
        if offset_hours > 23 or offset_minutes > 59:
            return None
        offset_micros = (offset_hours * 60 + offset_minutes) * _US_PER_MINUTE
        if offset[0] == "-":
            offset_micros = -offset_micros
    local = (
        (ordinal - _EPOCH_ORDINAL) * _US_PER_DAY
        + ((hours * 60 + minutes) * 60 + seconds) * _US_PER_SECOND
        + micros
    )
    return _usable(local - offset_micros)


def parse_timestamp(text: Any) -> datetime | None:
    """A payload timestamp as naive UTC, or None when it is not a usable timestamp."""
    micros = _parse_timestamp_micros(text)
    return None if micros is None else _micros_to_datetime(micros)


def _json_number(x: Any) -> Fraction | None:
    """The exact value of a JSON number (int, finite float via repr, finite Decimal)."""
    if isinstance(x, bool):
        return None
    if isinstance(x, int):
        return Fraction(x)
    if isinstance(x, float):
        return Fraction(Decimal(repr(x))) if math.isfinite(x) else None
    if isinstance(x, Decimal):
        if not x.is_finite() or x.adjusted() > 30:
            # >= 1e30 seconds or minutes is beyond year 9999 either way: unusable, and
            # None (like "not a number") gives the same outcome for every caller.
            return None
        if x.adjusted() < -30:
            return Fraction(0)  # far below half a microsecond: avoid huge denominators
        return Fraction(x)
    return None


def _epoch_seconds_micros(x: Any) -> int | None:
    seconds = _json_number(x)
    if seconds is None:
        return None
    return _usable(round(seconds * _US_PER_SECOND))  # Fraction rounds half to even


# ------------------------------------------------------------------ conversation ids


def canonical_conversation_id(x: Any, *, allow_digit_string: bool = True) -> str | None:
    """Decimal digits without leading zeros, or None when ``x`` is not a usable id.

    A usable id is a JSON integer >= 0 (``int``, not ``bool``) or, when
    ``allow_digit_string``, a string of ASCII digits of any length.
    """
    if isinstance(x, bool):
        return None
    if isinstance(x, int):
        return str(x) if x >= 0 else None
    if isinstance(x, Decimal) and x.is_finite() and x >= 0 and x.as_tuple().exponent >= 0:
        # A JSON number written with an exponent and no fractional digits (`1e3`, `1.5e1`)
        # is that whole number: PostgreSQL's jsonb keeps it as 1000 and 15. `12.0` keeps
        # a fractional digit (exponent -1) and is no id. (Decode with parse_float=Decimal.)
        return str(int(x))
    if allow_digit_string and isinstance(x, str) and _DIGITS_RE.fullmatch(x):
        # String operations, not int(): no 4300-digit limit.
        return x.lstrip("0") or "0"
    return None


# ------------------------------------------------------------------------ activation


def _is_blank(shop_domain: str | None) -> bool:
    return shop_domain is None or shop_domain.strip(_ASCII_WHITESPACE) == ""


def _round_half_up(value: Fraction, places: int) -> Decimal:
    """Exact half-up rounding of a non-negative rational to ``places`` decimals."""
    scaled = math.floor(value * 10**places + Fraction(1, 2))
    return Decimal(scaled).scaleb(-places)


def activation(facts: Iterable[Fact], decisions: Iterable[Decision], as_of: date) -> dict:
    """The ``value`` of ``metrics.activation.rolling7d`` for ``as_of``."""
    start, end = window(as_of)
    shops, activated_shops = activation_shops(facts, decisions, as_of)
    total = len(shops)
    activated = len(activated_shops)
    rate = _round_half_up(Fraction(activated, total), 4) if total else Decimal("0")
    return {
        "windowStart": iso_utc(start),
        "windowEnd": iso_utc(end),
        "totalActiveShops": total,
        "activatedShops": activated,
        "activationRate": rate,
    }


def activation_shops(
    facts: Iterable[Fact], decisions: Iterable[Decision], as_of: date
) -> tuple[set[str], set[str]]:
    """The active shops of ``as_of``'s window and, among them, the activated ones."""
    start, end = window(as_of)
    shops = {
        fact.shop_domain
        for fact in facts
        if fact.fact_type == SESSION_FACT_TYPE
        and start <= _naive_utc(fact.created_at) < end
        and not _is_blank(fact.shop_domain)
        and fact.shop_domain != AGGREGATE_SHOP
    }
    decided = {
        decision.shop_domain
        for decision in decisions
        if decision.scope == OPS_SCOPE
        and decision.shop_domain is not None
        and start <= _naive_utc(decision.created_at) < end
    }
    return shops, shops & decided


# -------------------------------------------------------------------------- breaches


def _metadata_breaches(metadata: Any) -> tuple[list[tuple[str, int]], int]:
    if not isinstance(metadata, dict) or not isinstance(metadata.get("breaches"), list):
        return [], 0
    found: list[tuple[str, int]] = []
    rejected = 0
    for element in metadata["breaches"]:
        if not isinstance(element, dict):
            rejected += 1
            continue
        conversation = canonical_conversation_id(element.get("conversationId"))
        breached_at = _parse_timestamp_micros(element.get("breachedAt"))
        if conversation is None or breached_at is None:
            rejected += 1
            continue
        found.append((conversation, breached_at))
    return found, rejected


def _legacy_breach_time(element: dict, sla_minutes: Fraction | None) -> int | None:
    breached_at = _parse_timestamp_micros(element.get("breachedAt"))
    if breached_at is not None:
        return breached_at
    starts = (
        _parse_timestamp_micros(element.get("createdAt")),
        _parse_timestamp_micros(element.get("lastMessageAt")),
        _epoch_seconds_micros(element.get("created_at")),
    )
    start = next((s for s in starts if s is not None), None)
    if start is None or sla_minutes is None:
        return None
    return _usable(start + round(sla_minutes * _US_PER_MINUTE))


def _value_breaches(value: Any, metadata: Any) -> tuple[list[tuple[str, int]], int]:
    if not isinstance(value, list):
        return [], 0
    sla_minutes = _json_number(metadata.get("slaMinutes")) if isinstance(metadata, dict) else None
    found: list[tuple[str, int]] = []
    rejected = 0
    for element in value:
        # JSON true only: not 1, not "true".
        if not isinstance(element, dict) or element.get("slaBreached") is not True:
            continue
        conversation = canonical_conversation_id(element.get("id"), allow_digit_string=False)
        breached_at = _legacy_breach_time(element, sla_minutes)
        if conversation is None or breached_at is None:
            rejected += 1
            continue
        found.append((conversation, breached_at))
    return found, rejected


def breach_candidates(
    facts: Iterable[Fact], as_of: date, lookback_days: int = DEFAULT_LOOKBACK_DAYS
) -> tuple[dict[str, datetime], int]:
    """Earliest ``breachedAt`` per canonical conversation id, and the rejected-element count.

    Reads escalation facts with ``createdAt`` in ``[windowStart - lookback, windowEnd)``.
    """
    start, end = window(as_of)
    range_start = start - timedelta(days=lookback_days)
    earliest: dict[str, int] = {}
    rejected = 0
    for fact in facts:
        if fact.fact_type != ESCALATION_FACT_TYPE:
            continue
        if not range_start <= _naive_utc(fact.created_at) < end:
            continue
        from_metadata, rejected_metadata = _metadata_breaches(fact.metadata)
        from_value, rejected_value = _value_breaches(fact.value, fact.metadata)
        rejected += rejected_metadata + rejected_value
        for conversation, breached_at in from_metadata + from_value:
            if conversation not in earliest or breached_at < earliest[conversation]:
                earliest[conversation] = breached_at
    return {c: _micros_to_datetime(t) for c, t in earliest.items()}, rejected


# ------------------------------------------------------------------- SLA resolution


def percentile_cont(sorted_values: list[float], q: float) -> float:
    """PostgreSQL's ``percentile_cont(q)`` over float8, in the same float arithmetic."""
    position = q * (len(sorted_values) - 1)
    lo, hi = math.floor(position), math.ceil(position)
    if lo == hi:
        return sorted_values[lo]
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (position - lo)


def pg_round(x: float, places: int = 2) -> Decimal:
    """PostgreSQL's ``round(x::numeric, places)`` of a float8 (15 significant digits first)."""
    return Decimal(format(x, ".15g")).quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP)


def _resolutions(decisions: Iterable[Decision]) -> dict[str, list[int]]:
    by_conversation: dict[str, list[int]] = {}
    for decision in decisions:
        if decision.scope != OPS_SCOPE or not isinstance(decision.external_ref, str):
            continue
        match = _RESOLUTION_REF_RE.fullmatch(decision.external_ref)
        if match is None:
            continue
        conversation = match.group(1).lstrip("0") or "0"
        by_conversation.setdefault(conversation, []).append(
            _datetime_to_micros(decision.created_at)
        )
    return by_conversation


def resolution_minutes(
    facts: Iterable[Fact],
    decisions: Iterable[Decision],
    as_of: date,
    lookback_days: int = DEFAULT_LOOKBACK_DAYS,
) -> dict[str, float]:
    """Duration in minutes (float) per conversation of the breaches in the sample."""
    start, end = window(as_of)
    start_micros, end_micros = _datetime_to_micros(start), _datetime_to_micros(end)
    breaches, _ = breach_candidates(facts, as_of, lookback_days)
    resolutions = _resolutions(decisions)
    durations: dict[str, float] = {}
    for conversation, breached_at in breaches.items():
        breached_micros = _datetime_to_micros(breached_at)
        later = [t for t in resolutions.get(conversation, []) if t >= breached_micros]
        if not later:
            continue
        resolved = min(later)
        if start_micros <= resolved < end_micros:
            durations[conversation] = float(Fraction(resolved - breached_micros, _US_PER_MINUTE))
    return durations


def sla_resolution(
    facts: Iterable[Fact],
    decisions: Iterable[Decision],
    as_of: date,
    lookback_days: int = DEFAULT_LOOKBACK_DAYS,
) -> dict:
    """The ``value`` of ``metrics.sla_resolution.rolling7d`` for ``as_of``."""
    start, end = window(as_of)
    values = sorted(resolution_minutes(facts, decisions, as_of, lookback_days).values())
    if values:
        median: Decimal | None = pg_round(percentile_cont(values, 0.5))
        p90: Decimal | None = pg_round(percentile_cont(values, 0.9))
    else:
        median = p90 = None
    return {
        "windowStart": iso_utc(start),
        "windowEnd": iso_utc(end),
        "sampleSize": len(values),
        "medianMinutes": median,
        "p90Minutes": p90,
    }


def expected_facts(
    facts: Iterable[Fact],
    decisions: Iterable[Decision],
    as_of: date,
    lookback_days: int = DEFAULT_LOOKBACK_DAYS,
) -> dict[str, dict]:
    """The ``value`` objects a run for ``as_of`` writes, keyed by their ``factType``."""
    facts, decisions = list(facts), list(decisions)
    return {
        ACTIVATION_FACT_TYPE: activation(facts, decisions, as_of),
        SLA_FACT_TYPE: sla_resolution(facts, decisions, as_of, lookback_days),
    }


def non_array_breaches_facts(facts, as_of: date, lookback_days: int = 30) -> int:
    """Escalation facts in the look-back range whose ``metadata.breaches`` is present but
    neither an array nor null. The contract speaks only of array elements, so this oracle
    ignores them; the project rejects each once (issue 3 asks for them to show up), and
    tests add this count to the oracle's to compare rejection counts."""
    start, end = window(as_of)
    count = 0
    for fact in facts:
        if fact.fact_type != ESCALATION_FACT_TYPE:
            continue
        if not start - timedelta(days=lookback_days) <= fact.created_at < end:
            continue
        breaches = fact.metadata.get("breaches") if isinstance(fact.metadata, dict) else None
        if breaches is not None and not isinstance(breaches, list):
            count += 1
    return count


# --------------------------------------------------------------------------- missing days

SESSIONS_STREAM = "dashboard_sessions"
ESCALATIONS_STREAM = "escalation_snapshots"
DECISIONS_STREAM = "ops_decisions"
# Which streams each fact reads ("Source days that never arrived").
STREAMS_READ = {
    ACTIVATION_FACT_TYPE: (SESSIONS_STREAM, DECISIONS_STREAM),
    SLA_FACT_TYPE: (ESCALATIONS_STREAM, DECISIONS_STREAM),
}


def stream_rows(facts: Iterable[Fact], decisions: Iterable[Decision]) -> dict[str, list[date]]:
    """The UTC day of every row of each stream: sessions and escalation snapshots are
    ``DashboardFact`` rows of their fact type (any shop domain), ops decisions are
    ``DecisionLog`` rows with ``scope = 'ops'``."""
    days: dict[str, list[date]] = {
        SESSIONS_STREAM: [],
        ESCALATIONS_STREAM: [],
        DECISIONS_STREAM: [],
    }
    for fact in facts:
        if fact.fact_type == SESSION_FACT_TYPE:
            days[SESSIONS_STREAM].append(_naive_utc(fact.created_at).date())
        elif fact.fact_type == ESCALATION_FACT_TYPE:
            days[ESCALATIONS_STREAM].append(_naive_utc(fact.created_at).date())
    for decision in decisions:
        if decision.scope == OPS_SCOPE:
            days[DECISIONS_STREAM].append(_naive_utc(decision.created_at).date())
    return days


def missing_days(
    facts: Iterable[Fact],
    decisions: Iterable[Decision],
    as_of: date,
    *,
    min_daily_rows: float = 10,
    baseline_days: int = 28,
    min_history_days: int = 7,
    first_days: dict[str, date] | None = None,
) -> dict[str, list[date]]:
    """Per stream, the window days that are missing: no row that day, while over the
    ``baseline_days`` UTC days before the window, counting only days on or after the stream's
    first row (``first_days`` overrides it, for rows purged since), with at least
    ``min_history_days`` such days, the stream averaged at least ``min_daily_rows`` a day."""
    window_start = as_of - timedelta(days=WINDOW_DAYS)
    result: dict[str, list[date]] = {}
    for stream, days in stream_rows(facts, decisions).items():
        first = (first_days or {}).get(stream) or (min(days) if days else None)
        if first is None:
            result[stream] = []
            continue
        baseline_start = max(window_start - timedelta(days=baseline_days), first)
        history = max(0, (window_start - baseline_start).days)
        baseline_rows = sum(1 for day in days if baseline_start <= day < window_start)
        judged = history >= min_history_days and baseline_rows >= min_daily_rows * history
        present = set(days)
        result[stream] = [
            window_start + timedelta(days=offset)
            for offset in range(WINDOW_DAYS)
            if judged and window_start + timedelta(days=offset) not in present
        ]
    return result


def source_rows_read(
    facts: Iterable[Fact],
    decisions: Iterable[Decision],
    as_of: date,
    lookback_days: int = DEFAULT_LOOKBACK_DAYS,
) -> dict[str, int]:
    """Per fact type, the rows of the streams it reads in its read window: activation the
    window, SLA resolution the look-back and the window."""
    window_start = as_of - timedelta(days=WINDOW_DAYS)
    read_start = {
        ACTIVATION_FACT_TYPE: window_start,
        SLA_FACT_TYPE: window_start - timedelta(days=lookback_days),
    }
    days = stream_rows(facts, decisions)
    return {
        fact_type: sum(
            1 for stream in streams for day in days[stream] if read_start[fact_type] <= day < as_of
        )
        for fact_type, streams in STREAMS_READ.items()
    }
