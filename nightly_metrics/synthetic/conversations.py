"""Chatwoot conversations, their SLA breaches and the decisions that resolve them."""

from __future__ import annotations

import math

from .copy_text import DAY_MS, NULL
from .decisions import Decisions
from .randomness import poisson
from .shapes import BAD_REFS, OPERATORS, RESOLVE_ACTIONS
from .shops import Conversation, Shop


def _conversation_url(shop: Shop, cid: int) -> str:
    return f"https://app.chatwoot.com/app/accounts/{shop.account}/conversations/{cid}"


class Conversations(Decisions):
    """Opens each Chatwoot shop's conversations of a day and decides their fate.

    The order of the random draws is part of the output: the same seed must give
    the same rows, so the helpers below draw exactly as the single loop did.
    """

    def _new_conversations(self, shop: Shop, day: int, weekend: bool) -> None:
        r = self.r
        lam = shop.conv_rate * (0.6 if weekend else 1.0)
        n = poisson(r, lam)
        if not n:
            return
        day_s = self.e0 + day * 86_400
        starts = sorted(day_s + int(r() * 86_400) for _ in range(n))
        for created in starts:
            cid = self._next_conversation_id(shop)
            self.counts["conversations"] += 1
            if r() < self.scale.breach_probability:
                breach: int | None = created + shop.sla * 60
                close = self._breached_conversation(shop, cid, created)
                status = "open"
            else:
                breach = None
                close, status = self._unbreached_close(created, shop.sla * 60)
            lm_off = int(r() * 1800)
            shop.convs.append(
                Conversation(cid, created, breach, close, status, lm_off, int(r() * 3))
            )

    def _next_conversation_id(self, shop: Shop) -> int:
        """The next id of the shop's Chatwoot instance (some number above 2**31)."""
        if shop.big_ids:
            cid = self.next_big_conv_id
            self.next_big_conv_id += 1
        else:
            cid = self.next_conv_id
            self.next_conv_id += 1
        return cid

    def _unbreached_close(self, created: int, sla_s: int) -> tuple[int, str]:
        """When a conversation that never breaches closes, and its status while open."""
        r = self.r
        if r() < 0.8:  # answered within the SLA
            return created + 60 + int(r() * (sla_s - 90)), "open"
        # Waiting on the customer: the SLA clock is paused.
        close = created + int(math.exp(self.rng.gauss(math.log(8 * 3600), 1.0)))
        return close, "pending" if r() < 0.5 else "snoozed"

    def _breached_conversation(self, shop: Shop, cid: int, created: int) -> int:
        """Queue the decisions about a conversation that breaches; return when it closes."""
        r = self.r
        sc = self.scale
        sla_s = shop.sla * 60
        breach = created + sla_s
        if breach < self.e_end:
            self.counts["breached_conversations"] += 1
        url = _conversation_url(shop, cid)
        if r() < sc.unresolved_fraction:
            # Closed (or forgotten) without any ops decision.
            close = breach + int(math.exp(self.rng.gauss(math.log(3 * 86_400), 0.6)))
            if breach < self.e_end:
                self.counts["unresolved_breaches"] += 1
        else:
            close = self._resolve(shop, cid, breach)
        if shop.ops and r() < sc.pre_breach_decision_fraction:
            # An ops decision about the conversation before it breached.
            t = created * 1000 + int(r() * (sla_s - 1) * 1000)
            self._decision(
                t,
                "ops",
                self._operator(),
                "assign_agent",
                "assigned before the SLA ran out",
                url,
                shop.domain,
                f"chatwoot:{cid}",
                NULL,
                "pre_breach_decisions",
            )
        return close

    def _resolve(self, shop: Shop, cid: int, breach: int) -> int:
        """Queue the decision that resolves a breach (and its neighbours); return the close."""
        r = self.r
        sc = self.scale
        delay_s = math.exp(
            self.rng.gauss(math.log(sc.resolution_median_minutes * 60), sc.resolution_sigma)
        )
        delay_s = int(min(max(delay_s, 120.0), 6 * 86_400.0))
        close = breach + delay_s
        resolved_ms = close * 1000 + int(r() * 1000)
        action = RESOLVE_ACTIONS[int(r() * len(RESOLVE_ACTIONS))]
        payload = f'{{"conversationId":{cid},"channel":"{"email" if r() < 0.6 else "web_widget"}"}}'
        if not shop.ops:
            self._support_resolution(shop, cid, resolved_ms, payload)
        elif r() < sc.bad_ref_decision_fraction:
            self._non_resolution_ref(shop, cid, breach, resolved_ms)
        if shop.ops:
            self._decision(
                resolved_ms,
                "ops",
                self._operator(),
                action,
                "customer answered; escalation closed",
                _conversation_url(shop, cid),
                shop.domain,
                f"chatwoot:{cid}",
                payload,
                "resolving_decisions",
            )
            self._after_resolution(shop, cid, resolved_ms)
        return close

    def _support_resolution(self, shop: Shop, cid: int, resolved_ms: int, payload: str) -> None:
        """Shops ops does not work with: support closes their escalations."""
        self._decision(
            resolved_ms,
            "support",
            "support:" + OPERATORS[int(self.r() * len(OPERATORS))],
            "close_conversation",
            "customer answered",
            _conversation_url(shop, cid),
            shop.domain,
            f"chatwoot:{cid}",
            payload,
            "support_resolutions",
        )

    def _non_resolution_ref(self, shop: Shop, cid: int, breach: int, resolved_ms: int) -> None:
        """A decision whose reference is not a resolution reference."""
        r = self.r
        t = breach * 1000 + int(r() * (resolved_ms - breach * 1000))
        ref = BAD_REFS[int(r() * len(BAD_REFS))].format(id=cid)
        self._decision(
            t,
            "ops",
            self._operator(),
            "note_escalation",
            "manual note",
            _conversation_url(shop, cid),
            shop.domain,
            ref,
            NULL,
            "non_resolution_refs",
        )

    def _after_resolution(self, shop: Shop, cid: int, resolved_ms: int) -> None:
        """Sometimes an ops follow-up, and rarely a support auto-close, after the resolution."""
        r = self.r
        url = _conversation_url(shop, cid)
        if r() < self.scale.follow_up_decision_fraction:
            t = resolved_ms + int(r() * 2 * DAY_MS) + 60_000
            self._decision(
                t,
                "ops",
                self._operator(),
                "follow_up",
                "checked back with the customer",
                url,
                shop.domain,
                f"chatwoot:{cid}",
                NULL,
                "follow_up_decisions",
            )
        if r() < 0.01:
            t = resolved_ms + int(r() * 3_600_000)
            self._decision(
                t,
                "support",
                "support:bot",
                "close_conversation",
                "auto-closed",
                url,
                shop.domain,
                f"chatwoot:{cid}",
                NULL,
                "other_scope_decisions",
            )
