"""What the generator knows while it simulates: the scale, the days, the shops, the counts."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from typing import Any

from .scales import Scale
from .shops import Shop

# The counts `generate()` returns, in the order it returns them.
COUNT_NAMES = (
    "DashboardFact",
    "DecisionLog",
    "shops",
    "days",
    "sessions",
    "sessions_blank_or_aggregate",
    "escalation_snapshots",
    "escalation_snapshots_legacy",
    "escalation_snapshots_purged",
    "escalation_elements",
    "corrupt_elements",
    "ignored_value_elements",
    "malformed_breaches_fields",
    "unrelated_facts",
    "conversations",
    "breached_conversations",
    "breaches_in_snapshots",
    "resolving_decisions",
    "support_resolutions",
    "unresolved_breaches",
    "pre_breach_decisions",
    "non_resolution_refs",
    "follow_up_decisions",
    "ops_decisions",
    "other_scope_decisions",
)


class GeneratorState:
    """The state shared by the generator's parts (see history.Generator).

    Building it draws each shop's character from the seeded stream, first thing.
    """

    def __init__(
        self, scale: Scale, as_of: dt.date, seed: int, decision_sink: Callable[[str], Any]
    ) -> None:
        if scale.shops < 1 or scale.history_days < 1:
            raise ValueError("a scale needs at least one shop and one day of history")
        self.scale = scale
        self.decision_sink = decision_sink
        self.rng = random.Random(seed)
        self.r = self.rng.random
        self.first_day = as_of - dt.timedelta(days=scale.history_days)
        self.e0 = (self.first_day - dt.date(1970, 1, 1)).days * 86_400
        self.e_end = self.e0 + scale.history_days * 86_400
        self.prefixes = [
            (self.first_day + dt.timedelta(days=d)).isoformat() + " "
            for d in range(scale.history_days)
        ]
        self.weekdays = [
            (self.first_day + dt.timedelta(days=d)).weekday() for d in range(scale.history_days)
        ]
        self.legacy_days = int(scale.history_days * scale.legacy_fraction)
        self.shops = [Shop(i, scale, self.rng) for i in range(1, scale.shops + 1)]
        self.next_conv_id = 1_000
        self.next_big_conv_id = 3_000_000_000
        self.next_order_id = 5_100_000_000
        self.pending: dict[int, list[tuple[int, str]]] = {}
        self.counts: dict[str, int] = dict.fromkeys(COUNT_NAMES, 0)
        self.counts["shops"] = scale.shops
        self.counts["days"] = scale.history_days
        self._seen_breach: set[int] = set()
