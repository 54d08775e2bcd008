"""DecisionLog rows: the generic queue, ops decisions and decisions of other scopes."""

from __future__ import annotations

import bisect

from .copy_text import DAY_MS, NULL, copy_timestamp
from .shapes import CURRENCIES, OPERATORS, OPS_ACTIONS, OTHER_SCOPES
from .shops import Shop
from .state import GeneratorState


class Decisions(GeneratorState):
    """Queues DecisionLog rows per day, to be written once their day is simulated."""

    def _decision(
        self,
        t_ms: int,
        scope: str,
        actor: str,
        action: str,
        rationale: str,
        evidence: str,
        shop: str,
        ref: str,
        payload: str,
        kind: str,
    ) -> None:
        """Queue a DecisionLog row at epoch milliseconds t_ms, counted under `kind`.

        Rows after the history (decisions that have not happened yet) are dropped.
        """
        day, ms = divmod(t_ms - self.e0 * 1000, DAY_MS)
        if day >= self.scale.history_days:
            return
        self.counts[kind] += 1
        line = (
            f"{scope}\t{actor}\t{action}\t{rationale}\t{evidence}\t{shop}\t{ref}\t"
            f"{payload}\t{copy_timestamp(self.prefixes[day], ms)}\n"
        )
        self.pending.setdefault(day, []).append((ms, line))
        self.counts["DecisionLog"] += 1

    def _operator(self) -> str:
        return "ops:" + OPERATORS[int(self.r() * len(OPERATORS))]

    def _ops_decisions(self, shop: Shop, day_ms: int) -> None:
        r = self.r
        for _ in range(1 + (r() < 0.3) + (r() < 0.1)):
            hour = bisect.bisect(shop.hour_cum, r() * shop.hour_cum[-1])
            t = day_ms + min(hour, 23) * 3_600_000 + int(r() * 3_600_000)
            action = OPS_ACTIONS[int(r() * len(OPS_ACTIONS))]
            ref = NULL
            payload = NULL
            if r() < 0.4:
                order = 5_000_000_000 + int(r() * 90_000_000)
                ref = f"shopify:order:{order}"
                payload = (
                    f'{{"orderId":{order},'
                    f'"amount":"{int(r() * 300) + 5}.{int(r() * 100):02d}",'
                    f'"currency":"{CURRENCIES[int(r() * len(CURRENCIES))]}"}}'
                )
            u = r()
            domain = shop.domain
            if u < 0.01:
                domain = NULL  # a global ops action
            elif u < 0.02:
                domain = domain.capitalize()  # 'Shop-0001...': not the same shop
            evidence = f"https://admin.shopify.com/store/{shop.domain[:9]}" if r() < 0.3 else NULL
            self._decision(
                t,
                "ops",
                self._operator(),
                action,
                f"{action.replace('_', ' ')} after dashboard review",
                evidence,
                domain,
                ref,
                payload,
                "ops_decisions",
            )

    def _other_decision(self, shop: Shop, day_ms: int) -> None:
        r = self.r
        scope, actor, actions = OTHER_SCOPES[int(r() * len(OTHER_SCOPES))]
        action = actions[int(r() * len(actions))]
        t = day_ms + int(r() * DAY_MS)
        payload = f'{{"campaign":"cmp-{int(r() * 9000) + 1000}"}}' if scope == "growth" else NULL
        self._decision(
            t,
            scope,
            actor,
            action,
            f"automated {scope} rule",
            NULL,
            shop.domain,
            NULL,
            payload,
            "other_scope_decisions",
        )
