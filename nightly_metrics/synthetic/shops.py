"""The simulated shops and their Chatwoot conversations."""

from __future__ import annotations

import math
import random

from .copy_text import iso_utc
from .scales import Scale
from .shapes import (
    ACTIVITY_KINDS,
    LOCAL_HOUR_WEIGHTS,
    SLA_CHOICES,
    TZ_OFFSETS,
    USER_AGENTS,
)


class Conversation:
    """A Chatwoot conversation; times are whole epoch seconds."""

    __slots__ = (
        "cid",
        "created",
        "breach",
        "close",
        "status",
        "lm_off",
        "legacy_kind",
        "c_iso",
        "b_iso",
    )

    def __init__(
        self,
        cid: int,
        created: int,
        breach: int | None,
        close: int,
        status: str,
        lm_off: int,
        legacy_kind: int,
    ) -> None:
        self.cid = cid
        self.created = created
        self.breach = breach
        self.close = close
        self.status = status
        self.lm_off = lm_off
        self.legacy_kind = legacy_kind
        self.c_iso = iso_utc(created)
        self.b_iso = iso_utc(breach) if breach is not None else ""


class Shop:
    __slots__ = (
        "domain",
        "start",
        "end",
        "p_active",
        "session_rate",
        "hour_cum",
        "ua",
        "ops",
        "chatwoot",
        "big_ids",
        "conv_rate",
        "sla",
        "account",
        "inbox",
        "volume",
        "orders",
        "convs",
    )

    def __init__(self, index: int, scale: Scale, rng: random.Random) -> None:
        r = rng.random
        h = scale.history_days
        self.domain = f"shop-{index:04d}.myshopify.com"
        self.start = 0
        self.end = h
        u = r()
        if u < 0.25:  # onboarded during the history
            self.start = int(r() * h * 0.8)
        elif u < 0.40:  # churned during the history
            self.end = h // 4 + int(r() * (h - h // 4))
        u = r()
        acc = 0.0
        self.p_active = ACTIVITY_KINDS[-1][1]
        for weight, p in ACTIVITY_KINDS:
            acc += weight
            if u < acc:
                self.p_active = p
                break
        sigma = 0.6
        self.session_rate = scale.sessions_per_active_shop_day * math.exp(
            rng.gauss(-sigma * sigma / 2, sigma)
        )
        off = rng.choice(TZ_OFFSETS)
        weights = [LOCAL_HOUR_WEIGHTS[(hour + off) % 24] for hour in range(24)]
        cum = []
        total = 0.0
        for w in weights:
            total += w
            cum.append(total)
        self.hour_cum = cum
        self.ua = rng.choice(USER_AGENTS)
        self.ops = r() < scale.ops_shop_fraction
        self.chatwoot = r() < (
            scale.chatwoot_ops_shop_fraction if self.ops else scale.chatwoot_other_shop_fraction
        )
        self.big_ids = self.chatwoot and r() < scale.big_conversation_id_fraction
        self.conv_rate = scale.conversations_per_chatwoot_shop_day * math.exp(
            rng.gauss(-0.5 * 0.5 / 2, 0.5)
        )
        self.sla = rng.choice(SLA_CHOICES)
        self.account = 1000 + index
        self.inbox = 20_000 + index * 3
        self.volume = math.exp(rng.gauss(0.0, 1.0))
        self.orders = 1000 + int(r() * 5000)
        self.convs: list[Conversation] = []
