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
        r = self.r
        ratio = sc.unrelated_fraction / (1.0 - sc.unrelated_fraction)
        related_total = 0
        unrelated_total = 0
        for day in range(sc.history_days):
            prefix = self.prefixes[day]
            day_ms = (self.e0 + day * 86_400) * 1000
            weekend = self.weekdays[day] >= 5
            legacy = day < self.legacy_days
            purged = (
                sc.escalation_retention_days is not None
                and day < sc.history_days - sc.escalation_retention_days
            )
            purged_today = 0
            rows: list[tuple[int, str]] = []
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
            self._odd_sessions(prefix, rows)
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
            # Purged snapshots count here, so the rest of the history stays the same.
            related_total += len(rows) + purged_today
            wanted = round(ratio * related_total) - unrelated_total
            if wanted > 0 and existing:
                cum = []
                acc = 0.0
                for shop in existing:
                    acc += shop.volume
                    cum.append(acc)
                for shop in self.rng.choices(existing, cum_weights=cum, k=wanted):
                    rows.append(self._unrelated(shop, prefix))
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
