"""The generator: simulates the history day by day, in createdAt order."""

from __future__ import annotations

from collections.abc import Iterator

from .conversations import Conversations
from .escalations import EscalationSnapshots
from .sessions import Sessions
from .shapes import SNAPSHOT_HOURS
from .shops import Shop
from .unrelated import UnrelatedFacts


class Generator(Conversations, EscalationSnapshots, Sessions, UnrelatedFacts):
    """Seeded generator of both source tables' rows (see `generate`)."""

    def fact_days(self) -> Iterator[str]:
        """COPY text of the DashboardFact rows, one chunk per day, in createdAt order."""
        sc = self.scale
        ratio = sc.unrelated_fraction / (1.0 - sc.unrelated_fraction)
        related_total = 0
        unrelated_total = 0
        for day in range(sc.history_days):
            rows: list[tuple[int, str]] = []
            existing = self._simulate_shops(day, rows)
            self._odd_sessions(self.prefixes[day], rows)
            purged_today = self._day_snapshots(existing, day, rows)
            # Purged snapshots count here, so the rest of the history stays the same.
            related_total += len(rows) + purged_today
            wanted = round(ratio * related_total) - unrelated_total
            if wanted > 0 and existing:
                self._day_unrelated(existing, self.prefixes[day], wanted, rows)
                unrelated_total += wanted
            rows.sort()
            self.counts["DashboardFact"] += len(rows)
            yield "".join(line for _, line in rows)
            # Decisions of this day are all known once the day has been simulated.
            decisions = self.pending.pop(day, [])
            decisions.sort()
            self.decision_sink("".join(line for _, line in decisions))
        self.counts["unrelated_facts"] = unrelated_total
        self.counts["breaches_in_snapshots"] = len(self._seen_breach)

    def _simulate_shops(self, day: int, rows: list[tuple[int, str]]) -> list[Shop]:
        """Each existing shop's sessions, decisions and new conversations of the day.

        Returns the shops that exist on the day.
        """
        sc = self.scale
        r = self.r
        prefix = self.prefixes[day]
        day_ms = (self.e0 + day * 86_400) * 1000
        weekend = self.weekdays[day] >= 5
        existing: list[Shop] = []
        for shop in self.shops:
            if not shop.start <= day < shop.end:
                continue
            existing.append(shop)
            active = r() < shop.p_active * (0.7 if weekend else 1.0)
            if active:
                self._sessions(shop, prefix, rows)
            if shop.ops and r() < (sc.ops_decision_day_probability if active else 0.02):
                self._ops_decisions(shop, day_ms)
            if r() < 0.04:
                self._other_decision(shop, day_ms)
            if shop.chatwoot:
                self._new_conversations(shop, day, weekend)
        return existing

    def _day_snapshots(self, existing: list[Shop], day: int, rows: list[tuple[int, str]]) -> int:
        """Append the day's escalation snapshots; return how many were purged instead."""
        sc = self.scale
        r = self.r
        legacy = day < self.legacy_days
        purged = (
            sc.escalation_retention_days is not None
            and day < sc.history_days - sc.escalation_retention_days
        )
        purged_today = 0
        for shop in existing:
            if not shop.chatwoot:
                continue
            for hour in SNAPSHOT_HOURS:
                ms = hour * 3_600_000 + 60_000 + int(r() * 420_000)
                t_s = self.e0 + day * 86_400 + ms // 1000
                line = self._snapshot(shop, t_s, ms, day, legacy)
                if line is not None and purged:
                    self.counts["escalation_snapshots_purged"] += 1
                    purged_today += 1
                elif line is not None:
                    rows.append((ms, line))
        return purged_today

    def _day_unrelated(
        self, existing: list[Shop], prefix: str, wanted: int, rows: list[tuple[int, str]]
    ) -> None:
        """Append `wanted` unrelated facts, of shops chosen by their volume."""
        cum = []
        acc = 0.0
        for shop in existing:
            acc += shop.volume
            cum.append(acc)
        for shop in self.rng.choices(existing, cum_weights=cum, k=wanted):
            rows.append(self._unrelated(shop, prefix))
