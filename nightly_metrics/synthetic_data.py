"""Seeded, deterministic synthetic source data for the demo, the tests and the benchmark.

`generate()` fills the application's two source tables, ``"DashboardFact"`` and
``"DecisionLog"``, with a realistic history that ends the day before ``as_of``
(all times UTC). The same seed, scale and date give byte-identical rows (in the
same order, hence the same serial ids in fresh tables): only ``random.Random(seed)``
is used, never the global generator.

What the data holds (see the metrics contract for why each piece matters):

* shops ``shop-0001.myshopify.com`` ... with their own activity pattern (daily,
  regular, occasional, rare), some onboarded late, some churned;
  ``dashboard.session.opened`` facts on their active days, plus a few sessions
  with a blank or ``__aggregate__`` shop domain that the metrics must ignore;
* ``DecisionLog`` rows: ``ops`` decisions by operators for the ~40% of shops
  that work with ops, decisions of other scopes (``growth``, ``billing``, and
  ``support``, which closes the escalations of the shops ops does not work
  with) that must not count, a few ``ops`` decisions without or with a
  differently cased shop domain;
* Chatwoot conversations (globally unique ids, some shops' ids above 2**31)
  that breach their SLA, resolving ``ops`` decisions ``externalRef =
  'chatwoot:<id>'`` minutes to days later (lognormal), some never resolved, some
  with an extra decision *before* the breach, some follow-ups after the
  resolution, some ``externalRef`` spellings that are not resolutions;
* ``chatwoot.escalations`` snapshots four times a day per shop with open
  breached conversations, repeating every open conversation until it closes:
  the legacy format (no ``metadata.breaches``) in the oldest quarter of the
  history, the modern one after it, with the timestamp and id spellings seen in
  production and ~0.5% corrupt elements;
* ~30% of all ``DashboardFact`` rows of unrelated fact types with bulky JSON.

Rows are written as pre-escaped COPY text, in ``createdAt`` order (as an
application would insert them), streamed day by day.
"""

from __future__ import annotations

import bisect
import datetime as dt
import math
import random
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib import resources
from json import dumps as _json_dumps
from typing import Any

import psycopg
from psycopg import sql
from psycopg.copy import QueuedLibpqWriter

__all__ = ["SCALES", "Scale", "create_source_tables", "generate", "source_ddl"]


@dataclass(frozen=True)
class Scale:
    """How much data to generate, and its character."""

    shops: int
    history_days: int
    # Mean number of dashboard sessions on a day a shop is active (at least 1).
    sessions_per_active_shop_day: float = 3.0
    # Share of shops whose operators log 'ops' decisions, and the daily chance
    # (on an active day) that they do.
    ops_shop_fraction: float = 0.4
    ops_decision_day_probability: float = 0.35
    # Share of the ops shops, and of the other shops, that use Chatwoot. The
    # escalations of the other shops are handled by 'support', not 'ops'. Of the
    # Chatwoot shops, the share whose conversation ids come from an instance
    # numbering above 2**31.
    chatwoot_ops_shop_fraction: float = 0.8
    chatwoot_other_shop_fraction: float = 0.15
    big_conversation_id_fraction: float = 0.2
    conversations_per_chatwoot_shop_day: float = 2.0
    breach_probability: float = 0.4
    # Median minutes from breach to the resolving ops decision (lognormal).
    resolution_median_minutes: float = 360.0
    resolution_sigma: float = 1.2
    unresolved_fraction: float = 0.03
    pre_breach_decision_fraction: float = 0.03
    bad_ref_decision_fraction: float = 0.02
    follow_up_decision_fraction: float = 0.03
    # Share of all DashboardFact rows that are unrelated fact types.
    unrelated_fraction: float = 0.30
    # Chance per escalation element that a corrupt element rides along.
    corrupt_fraction: float = 0.005
    # Oldest share of the history whose escalation snapshots use the legacy format.
    legacy_fraction: float = 0.25
    # The application deletes chatwoot.escalations facts after 14 days (they hold
    # transcript snippets): with a number here, snapshots older than that many days
    # before as_of are generated (the same data otherwise) but not written.
    escalation_retention_days: int | None = None


# S and M are benchmark scales: the number of rows is what matters there, so
# sessions are denser than in the demo (busy shops with several staff members).
_BENCHMARK_SESSIONS = 27.0

SCALES: dict[str, Scale] = {
    "demo": Scale(shops=300, history_days=60),
    "S": Scale(shops=130, history_days=400, sessions_per_active_shop_day=_BENCHMARK_SESSIONS),
    "M": Scale(shops=1300, history_days=400, sessions_per_active_shop_day=_BENCHMARK_SESSIONS),
    # Where most breached conversations are never resolved by an ops decision and
    # the application's 14-day purge of escalation snapshots is not (yet) running:
    # the shape that makes "every breach seen, per as-of date" expensive.
    "SU": Scale(
        shops=130,
        history_days=400,
        sessions_per_active_shop_day=_BENCHMARK_SESSIONS,
        unresolved_fraction=0.95,
    ),
    "MU": Scale(
        shops=1300,
        history_days=400,
        sessions_per_active_shop_day=_BENCHMARK_SESSIONS,
        unresolved_fraction=0.95,
    ),
    # S as the application keeps it: escalation snapshots purged after 14 days.
    "SP": Scale(
        shops=130,
        history_days=400,
        sessions_per_active_shop_day=_BENCHMARK_SESSIONS,
        escalation_retention_days=14,
    ),
}

_DDL_RESOURCE = ("sql", "prisma_schema.sql")

_FACT_COLUMNS = (
    "shopDomain",
    "factType",
    "scope",
    "value",
    "metadata",
    "evidenceUrl",
    "createdAt",
    "updatedAt",
)
_DECISION_COLUMNS = (
    "scope",
    "actor",
    "action",
    "rationale",
    "evidenceUrl",
    "shopDomain",
    "externalRef",
    "payload",
    "createdAt",
)

_NULL = "\\N"
_DAY_MS = 86_400_000
_SLOTS = (0, 6, 12, 18)  # UTC hours of the escalation snapshots

# Local-time weights of when people work (index = local hour).
_LOCAL_HOUR_WEIGHTS = (
    1,
    1,
    1,
    1,
    1,
    2,
    4,
    7,
    10,
    12,
    12,
    11,
    10,
    11,
    11,
    10,
    9,
    8,
    7,
    6,
    5,
    4,
    3,
    2,
)
_TZ_OFFSETS = (-8, -7, -6, -5, -5, -4, 0, 1, 1, 2, 3, 5, 8, 10)  # hours east of UTC

_ACTIVITY_KINDS = (  # (weight, chance of being active on a weekday)
    (0.40, 0.92),  # daily
    (0.30, 0.60),  # regular
    (0.20, 0.25),  # occasional
    (0.10, 0.06),  # rare
)
_SLA_CHOICES = (15, 30, 30, 60, 60, 120, 240)

_PATHS = (
    "/app",
    "/app",
    "/app",
    "/app/metrics",
    "/app/escalations",
    "/app/decisions",
    "/app/settings",
    "/app/onboarding",
)
_USER_AGENTS = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.5 Safari/605.1.15",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Mobile/15E148 Shopify Mobile/iOS/9.170.0",
    "Mozilla/5.0 (X11; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0",
)
_OPERATORS = ("alice", "bob", "chen", "dana", "emeka", "farah")
_OPS_ACTIONS = (
    "approve_refund",
    "approve_refund",
    "pause_campaign",
    "adjust_inventory_threshold",
    "escalate_to_merchant",
    "flag_fraud_review",
    "extend_trial",
    "update_shipping_rule",
)
_RESOLVE_ACTIONS = ("resolve_escalation", "resolve_escalation", "approve_refund", "reply_customer")
_OTHER_SCOPES = (
    ("growth", "growth:bot", ("send_winback_email", "offer_discount", "enable_upsell")),
    ("growth", "growth:erin", ("launch_campaign", "offer_discount")),
    ("billing", "billing:stripe-sync", ("apply_credit", "retry_charge", "change_plan")),
)
_BAD_REFS = ("chatwoot:{id}a", "Chatwoot:{id}", "chatwoot:", "chatwoot: {id}", "chatwoot:#{id}")
_SQLISH = '\'; drop table "DashboardFact"; --'
_OFFSETS_MIN = (120, -300, 330, 60, -420, 600, -180)

_UNRELATED_KINDS = (  # (weight, factType)
    (0.50, "shopify.order.synced"),
    (0.20, "inventory.snapshot"),
    (0.15, "app.webhook.received"),
    (0.10, "email.digest.sent"),
    (0.05, "dashboard.session.closed"),
)
_WEBHOOK_TOPICS = (
    "products/update",
    "orders/create",
    "orders/paid",
    "customers/update",
    "app/uninstalled",
    "inventory_levels/update",
)
_CURRENCIES = ("USD", "USD", "USD", "EUR", "GBP", "CAD", "AUD")
_FIN_STATUS = ("paid", "paid", "paid", "pending", "refunded", "partially_refunded")
_TAGS = ('"vip"', '"wholesale"', '"subscription"', '"first-order"', '"gift"')

# "HH:MM" for each minute of a day, "SS.mmm" for each millisecond of a minute.
_HM = tuple(f"{m // 60:02d}:{m % 60:02d}" for m in range(1440))
_SSMS = tuple(f"{s // 1000:02d}.{s % 1000:03d}" for s in range(60_000))


def _ts(prefix: str, ms_of_day: int) -> str:
    """`timestamp(3)` text for a millisecond of the day whose 'YYYY-MM-DD ' is prefix."""
    m, rem = divmod(ms_of_day, 60_000)
    return f"{prefix}{_HM[m]}:{_SSMS[rem]}"


def _iso(epoch_s: int) -> str:
    """'YYYY-MM-DDTHH:MM:SS' (UTC, no offset) for whole epoch seconds."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(epoch_s))


def _json(obj: Any) -> str:
    """Compact JSON, escaped for COPY's text format (only backslashes can occur)."""
    return _json_dumps(obj, separators=(",", ":")).replace("\\", "\\\\")


def _poisson(rand: Callable[[], float], lam: float) -> int:
    if lam <= 0:
        return 0
    if lam < 30:
        limit = math.exp(-lam)
        k = 0
        p = rand()
        while p > limit:
            k += 1
            p *= rand()
        return k
    # Normal approximation (Box-Muller from the same stream keeps it deterministic).
    u1 = rand() or 1e-12
    z = math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * rand())
    return max(0, int(lam + z * math.sqrt(lam) + 0.5))


class _Conv:
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
        self.c_iso = _iso(created)
        self.b_iso = _iso(breach) if breach is not None else ""


class _Shop:
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
        self.p_active = _ACTIVITY_KINDS[-1][1]
        for weight, p in _ACTIVITY_KINDS:
            acc += weight
            if u < acc:
                self.p_active = p
                break
        sigma = 0.6
        self.session_rate = scale.sessions_per_active_shop_day * math.exp(
            rng.gauss(-sigma * sigma / 2, sigma)
        )
        off = rng.choice(_TZ_OFFSETS)
        weights = [_LOCAL_HOUR_WEIGHTS[(hour + off) % 24] for hour in range(24)]
        cum = []
        total = 0.0
        for w in weights:
            total += w
            cum.append(total)
        self.hour_cum = cum
        self.ua = rng.choice(_USER_AGENTS)
        self.ops = r() < scale.ops_shop_fraction
        self.chatwoot = r() < (
            scale.chatwoot_ops_shop_fraction if self.ops else scale.chatwoot_other_shop_fraction
        )
        self.big_ids = self.chatwoot and r() < scale.big_conversation_id_fraction
        self.conv_rate = scale.conversations_per_chatwoot_shop_day * math.exp(
            rng.gauss(-0.5 * 0.5 / 2, 0.5)
        )
        self.sla = rng.choice(_SLA_CHOICES)
        self.account = 1000 + index
        self.inbox = 20_000 + index * 3
        self.volume = math.exp(rng.gauss(0.0, 1.0))
        self.orders = 1000 + int(r() * 5000)
        self.convs: list[_Conv] = []


class _Generator:
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
        self.shops = [_Shop(i, scale, self.rng) for i in range(1, scale.shops + 1)]
        self.next_conv_id = 1_000
        self.next_big_conv_id = 3_000_000_000
        self.next_order_id = 5_100_000_000
        self.pending: dict[int, list[tuple[int, str]]] = {}
        self.counts: dict[str, int] = dict.fromkeys(
            (
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
            ),
            0,
        )
        self.counts["shops"] = scale.shops
        self.counts["days"] = scale.history_days
        self._seen_breach: set[int] = set()

    # -- decisions -------------------------------------------------------------

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
        day, ms = divmod(t_ms - self.e0 * 1000, _DAY_MS)
        if day >= self.scale.history_days:
            return
        self.counts[kind] += 1
        line = (
            f"{scope}\t{actor}\t{action}\t{rationale}\t{evidence}\t{shop}\t{ref}\t"
            f"{payload}\t{_ts(self.prefixes[day], ms)}\n"
        )
        self.pending.setdefault(day, []).append((ms, line))
        self.counts["DecisionLog"] += 1

    def _operator(self) -> str:
        return "ops:" + _OPERATORS[int(self.r() * len(_OPERATORS))]

    def _ops_decisions(self, shop: _Shop, day_ms: int) -> None:
        r = self.r
        for _ in range(1 + (r() < 0.3) + (r() < 0.1)):
            hour = bisect.bisect(shop.hour_cum, r() * shop.hour_cum[-1])
            t = day_ms + min(hour, 23) * 3_600_000 + int(r() * 3_600_000)
            action = _OPS_ACTIONS[int(r() * len(_OPS_ACTIONS))]
            ref = _NULL
            payload = _NULL
            if r() < 0.4:
                order = 5_000_000_000 + int(r() * 90_000_000)
                ref = f"shopify:order:{order}"
                payload = (
                    f'{{"orderId":{order},'
                    f'"amount":"{int(r() * 300) + 5}.{int(r() * 100):02d}",'
                    f'"currency":"{_CURRENCIES[int(r() * len(_CURRENCIES))]}"}}'
                )
            u = r()
            domain = shop.domain
            if u < 0.01:
                domain = _NULL  # a global ops action
            elif u < 0.02:
                domain = domain.capitalize()  # 'Shop-0001...': not the same shop
            evidence = f"https://admin.shopify.com/store/{shop.domain[:9]}" if r() < 0.3 else _NULL
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

    def _other_decision(self, shop: _Shop, day_ms: int) -> None:
        r = self.r
        scope, actor, actions = _OTHER_SCOPES[int(r() * len(_OTHER_SCOPES))]
        action = actions[int(r() * len(actions))]
        t = day_ms + int(r() * _DAY_MS)
        payload = f'{{"campaign":"cmp-{int(r() * 9000) + 1000}"}}' if scope == "growth" else _NULL
        self._decision(
            t,
            scope,
            actor,
            action,
            f"automated {scope} rule",
            _NULL,
            shop.domain,
            _NULL,
            payload,
            "other_scope_decisions",
        )

    # -- conversations ---------------------------------------------------------

    def _new_conversations(self, shop: _Shop, day: int, weekend: bool) -> None:
        r = self.r
        sc = self.scale
        lam = shop.conv_rate * (0.6 if weekend else 1.0)
        n = _poisson(r, lam)
        if not n:
            return
        day_s = self.e0 + day * 86_400
        starts = sorted(day_s + int(r() * 86_400) for _ in range(n))
        for created in starts:
            if shop.big_ids:
                cid = self.next_big_conv_id
                self.next_big_conv_id += 1
            else:
                cid = self.next_conv_id
                self.next_conv_id += 1
            sla_s = shop.sla * 60
            self.counts["conversations"] += 1
            if r() < sc.breach_probability:
                breach = created + sla_s
                if breach < self.e_end:
                    self.counts["breached_conversations"] += 1
                url = f"https://app.chatwoot.com/app/accounts/{shop.account}/conversations/{cid}"
                if r() < sc.unresolved_fraction:
                    # Closed (or forgotten) without any ops decision.
                    close = breach + int(math.exp(self.rng.gauss(math.log(3 * 86_400), 0.6)))
                    if breach < self.e_end:
                        self.counts["unresolved_breaches"] += 1
                else:
                    delay_s = math.exp(
                        self.rng.gauss(
                            math.log(sc.resolution_median_minutes * 60), sc.resolution_sigma
                        )
                    )
                    delay_s = int(min(max(delay_s, 120.0), 6 * 86_400.0))
                    close = breach + delay_s
                    resolved_ms = close * 1000 + int(r() * 1000)
                    action = _RESOLVE_ACTIONS[int(r() * len(_RESOLVE_ACTIONS))]
                    payload = (
                        f'{{"conversationId":{cid},"channel":"'
                        f'{"email" if r() < 0.6 else "web_widget"}"}}'
                    )
                    if not shop.ops:
                        # Shops ops does not work with: support closes their escalations.
                        self._decision(
                            resolved_ms,
                            "support",
                            "support:" + _OPERATORS[int(r() * len(_OPERATORS))],
                            "close_conversation",
                            "customer answered",
                            url,
                            shop.domain,
                            f"chatwoot:{cid}",
                            payload,
                            "support_resolutions",
                        )
                    elif r() < sc.bad_ref_decision_fraction:
                        # A decision whose reference is not a resolution reference.
                        t = breach * 1000 + int(r() * (resolved_ms - breach * 1000))
                        ref = _BAD_REFS[int(r() * len(_BAD_REFS))].format(id=cid)
                        self._decision(
                            t,
                            "ops",
                            self._operator(),
                            "note_escalation",
                            "manual note",
                            url,
                            shop.domain,
                            ref,
                            _NULL,
                            "non_resolution_refs",
                        )
                    if shop.ops:
                        self._decision(
                            resolved_ms,
                            "ops",
                            self._operator(),
                            action,
                            "customer answered; escalation closed",
                            url,
                            shop.domain,
                            f"chatwoot:{cid}",
                            payload,
                            "resolving_decisions",
                        )
                    if shop.ops and r() < sc.follow_up_decision_fraction:
                        t = resolved_ms + int(r() * 2 * _DAY_MS) + 60_000
                        self._decision(
                            t,
                            "ops",
                            self._operator(),
                            "follow_up",
                            "checked back with the customer",
                            url,
                            shop.domain,
                            f"chatwoot:{cid}",
                            _NULL,
                            "follow_up_decisions",
                        )
                    if shop.ops and r() < 0.01:
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
                            _NULL,
                            "other_scope_decisions",
                        )
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
                        _NULL,
                        "pre_breach_decisions",
                    )
                status = "open"
            else:
                breach = None
                if r() < 0.8:  # answered within the SLA
                    close = created + 60 + int(r() * (sla_s - 90))
                    status = "open"
                else:  # waiting on the customer: the SLA clock is paused
                    close = created + int(math.exp(self.rng.gauss(math.log(8 * 3600), 1.0)))
                    status = "pending" if r() < 0.5 else "snoozed"
            lm_off = int(r() * 1800)
            shop.convs.append(_Conv(cid, created, breach, close, status, lm_off, int(r() * 3)))

    def _spell_breached_at(self, cv: _Conv) -> str:
        u = self.r()
        if u < 0.60:
            return cv.b_iso + ".000Z"
        if u < 0.75:
            return cv.b_iso + "Z"
        if u < 0.85:
            return cv.b_iso  # no offset: UTC
        off = _OFFSETS_MIN[int(self.r() * len(_OFFSETS_MIN))]
        assert cv.breach is not None
        local = _iso(cv.breach + off * 60)
        sign = "+" if off >= 0 else "-"
        frac = ".000" if self.r() < 0.5 else ""
        return f"{local}{frac}{sign}{abs(off) // 60:02d}:{abs(off) % 60:02d}"

    def _snapshot(self, shop: _Shop, t_s: int, ms: int, day: int, legacy: bool) -> str | None:
        convs = shop.convs
        if not convs:
            return None
        if any(cv.close <= t_s for cv in convs):
            convs = shop.convs = [cv for cv in convs if cv.close > t_s]
        open_ = [cv for cv in convs if cv.created <= t_s]
        if not any(cv.breach is not None and cv.breach <= t_s for cv in open_):
            return None
        r = self.r
        value: list[Any] = []
        breaches: list[Any] = []
        for cv in open_:
            is_b = cv.breach is not None and cv.breach <= t_s
            if legacy:
                el: dict[str, Any] = {"id": cv.cid, "status": cv.status, "slaBreached": is_b}
                if cv.legacy_kind == 0:
                    el["createdAt"] = cv.c_iso + ".000Z"
                elif cv.legacy_kind == 1:
                    el["lastMessageAt"] = cv.c_iso + ".000Z"
                else:
                    el["created_at"] = cv.created
            else:
                el = {
                    "id": cv.cid,
                    "status": cv.status,
                    "slaBreached": is_b,
                    "inboxId": shop.inbox,
                    "createdAt": cv.c_iso + ".000Z",
                    "lastMessageAt": _iso(min(cv.created + cv.lm_off, t_s)) + ".000Z",
                }
                if is_b:
                    breaches.append(
                        {
                            "conversationId": cv.cid if r() < 0.85 else str(cv.cid),
                            "breachedAt": self._spell_breached_at(cv),
                        }
                    )
            if is_b:
                self._seen_breach.add(cv.cid)
            value.append(el)
        n_elements = len(value) + len(breaches)
        self.counts["escalation_elements"] += n_elements
        metadata: dict[str, Any] = {"slaMinutes": shop.sla}
        if not legacy:
            metadata["breaches"] = breaches
        if r() < self.scale.corrupt_fraction * n_elements:
            self._corrupt(value, metadata, legacy, open_, t_s)
        self.counts["escalation_snapshots"] += 1
        if legacy:
            self.counts["escalation_snapshots_legacy"] += 1
        created = _ts(self.prefixes[day], ms)
        evidence = (
            f"https://app.chatwoot.com/app/accounts/{shop.account}/conversations"
            if r() < 0.5
            else _NULL
        )
        return (
            f"{shop.domain}\tchatwoot.escalations\tchatwoot\t{_json(value)}\t"
            f"{_json(metadata)}\t{evidence}\t{created}\t{created}\n"
        )

    def _corrupt(
        self, value: list[Any], metadata: dict[str, Any], legacy: bool, open_: list[_Conv], t_s: int
    ) -> None:
        """Append one element that the metric must reject (or break metadata.breaches)."""
        r = self.r
        cv = open_[int(r() * len(open_))]
        c_iso = cv.c_iso + ".000Z"
        kinds = 8 if legacy else 13
        kind = int(r() * kinds)
        rejected: Any
        if kind == 0:
            rejected = f"conversation #{cv.cid} (unserializable)"
        elif kind == 1:
            rejected = {"id": 12.5, "status": "open", "slaBreached": True, "createdAt": c_iso}
        elif kind == 2:
            rejected = {"id": -cv.cid, "status": "open", "slaBreached": True, "createdAt": c_iso}
        elif kind == 3:
            rejected = {"id": cv.cid, "status": "open", "slaBreached": True}  # no time at all
        elif kind == 4:
            rejected = {
                "id": cv.cid,
                "status": "open",
                "slaBreached": True,
                "createdAt": "not-a-date",
            }
        elif kind == 5:
            rejected = _SQLISH
        elif kind == 6:
            rejected = {
                "id": cv.cid,
                "status": "open",
                "slaBreached": True,
                "created_at": 99_999_999_999_999,
            }  # year far beyond 9999
        elif kind == 7:
            rejected = {"id": _SQLISH, "status": "open", "slaBreached": True, "createdAt": c_iso}
        else:
            breaches = metadata["breaches"]
            b_iso = _iso(cv.breach if cv.breach is not None else t_s) + ".000Z"
            if kind == 8:
                metadata["breaches"] = {"oops": 1}
                self.counts["malformed_breaches_fields"] += 1
                return
            if kind == 9:
                rejected = {"conversationId": cv.cid, "breachedAt": "not-a-date"}
            elif kind == 10:
                rejected = {"conversationId": _SQLISH, "breachedAt": b_iso}
            elif kind == 11:
                rejected = {"conversationId": cv.cid}
            else:
                rejected = {"conversationId": cv.cid, "breachedAt": "1969-12-31T23:59:59Z"}
            breaches.append(rejected)
            self.counts["corrupt_elements"] += 1
            return
        value.append(rejected)
        # A value element that is not an object has no `slaBreached: true`: the
        # contract makes it no breach, and no rejected one either.
        if isinstance(rejected, dict):
            self.counts["corrupt_elements"] += 1
        else:
            self.counts["ignored_value_elements"] += 1

    # -- sessions and unrelated facts ------------------------------------------

    def _sessions(self, shop: _Shop, prefix: str, rows: list[tuple[int, str]]) -> None:
        r = self.r
        n = 1 + _poisson(r, shop.session_rate - 1.0)
        hours = self.rng.choices(range(24), cum_weights=shop.hour_cum, k=n)
        domain = shop.domain
        ua_meta = f'{{"userAgent":"{shop.ua}"}}'
        n_paths = len(_PATHS)
        for hour in hours:
            ms = hour * 3_600_000 + int(r() * 3_600_000)
            dur = 5 + int(r() * r() * 1800)
            created = _ts(prefix, ms)
            updated = created if r() < 0.7 else _ts(prefix, min(ms + int(r() * 1500), _DAY_MS - 1))
            u = r()
            rows.append(
                (
                    ms,
                    (
                        f"{domain}\tdashboard.session.opened\t{'dashboard' if u < 0.6 else _NULL}\t"
                        f'{{"path":"{_PATHS[int(r() * n_paths)]}","durationSec":{dur}}}\t'
                        f"{ua_meta if u < 0.3 or u > 0.8 else _NULL}\t\\N\t{created}\t{updated}\n"
                    ),
                )
            )
        self.counts["sessions"] += n

    def _odd_sessions(self, prefix: str, rows: list[tuple[int, str]]) -> None:
        """Sessions the metrics must ignore: blank and __aggregate__ shop domains."""
        r = self.r
        for p, domains in ((0.25, ("", "  ", " ")), (0.15, ("__aggregate__",))):
            if r() < p:
                ms = int(r() * _DAY_MS)
                created = _ts(prefix, ms)
                domain = domains[int(r() * len(domains))]
                rows.append(
                    (
                        ms,
                        f"{domain}\tdashboard.session.opened\t\\N\t"
                        f'{{"path":"/app","durationSec":{int(r() * 300)}}}\t\\N\t\\N\t'
                        f"{created}\t{created}\n",
                    )
                )
                self.counts["sessions_blank_or_aggregate"] += 1

    def _unrelated(self, shop: _Shop, prefix: str) -> tuple[int, str]:
        r = self.r
        u = r()
        ms = int(r() * _DAY_MS)
        created = _ts(prefix, ms)
        scope = _NULL
        meta = _NULL
        if u < 0.50:
            fact = "shopify.order.synced"
            self.next_order_id += 1
            shop.orders += 1
            items = ",".join(
                f'{{"sku":"SKU-{int(r() * 90_000) + 10_000}","quantity":{1 + int(r() * r() * 4)},'
                f'"price":"{int(r() * 180) + 2}.{int(r() * 100):02d}",'
                f'"title":"Product {int(r() * 900) + 100}"}}'
                for _ in range(1 + int(r() * r() * 5))
            )
            cust = int(r() * 9_000_000) + 1_000_000
            tags = ",".join(_TAGS[int(r() * len(_TAGS))] for _ in range(int(r() * 3)))
            value = (
                f'{{"orderId":{self.next_order_id},"name":"#{shop.orders}",'
                f'"totalPrice":"{int(r() * 900) + 5}.{int(r() * 100):02d}",'
                f'"currency":"{_CURRENCIES[int(r() * len(_CURRENCIES))]}",'
                f'"financialStatus":"{_FIN_STATUS[int(r() * len(_FIN_STATUS))]}",'
                f'"lineItems":[{items}],'
                f'"customer":{{"id":{cust},"email":"customer{cust}@example.com"}},'
                f'"tags":[{tags}]}}'
            )
            scope = "sync"
            meta = '{"source":"webhook","apiVersion":"2026-01"}'
        elif u < 0.70:
            fact = "inventory.snapshot"
            items = ",".join(
                f'{{"sku":"SKU-{int(r() * 90_000) + 10_000}","available":{int(r() * 500)},'
                f'"incoming":{int(r() * r() * 100)}}}'
                for _ in range(4 + int(r() * 10))
            )
            value = f'{{"locationId":{60_000_000 + int(r() * 1000)},"items":[{items}]}}'
            scope = "inventory"
        elif u < 0.85:
            fact = "app.webhook.received"
            topic = _WEBHOOK_TOPICS[int(r() * len(_WEBHOOK_TOPICS))]
            value = (
                f'{{"topic":"{topic}","webhookId":"{int(r() * 2**48):012x}",'
                f'"payloadBytes":{200 + int(r() * 20_000)},'
                f'"resourceId":{7_000_000_000 + int(r() * 10**9)},"attempt":1}}'
            )
            meta = '{"hmacVerified":true}'
        elif u < 0.95:
            fact = "email.digest.sent"
            value = (
                f'{{"recipient":"owner@{shop.domain}","template":"weekly_digest",'
                f'"subject":"Your store this week","stats":{{"orders":{int(r() * 400)},'
                f'"revenue":"{int(r() * 40_000)}.{int(r() * 100):02d}",'
                f'"sessions":{int(r() * 90)}}},'
                f'"messageId":"{int(r() * 2**64):016x}@mail.example.com"}}'
            )
            scope = "email"
        else:
            fact = "dashboard.session.closed"
            value = f'{{"path":"/app","durationSec":{5 + int(r() * 1800)}}}'
            scope = "dashboard"
        return ms, f"{shop.domain}\t{fact}\t{scope}\t{value}\t{meta}\t\\N\t{created}\t{created}\n"

    # -- the day loop ----------------------------------------------------------

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
            existing: list[_Shop] = []
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
                for hour in _SLOTS:
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


def source_ddl() -> str:
    """The DDL of the two source tables (a verbatim copy of the application's migration)."""
    return resources.files("nightly_metrics").joinpath(*_DDL_RESOURCE).read_text("utf-8")


def create_source_tables(conn: psycopg.Connection, schema: str = "public") -> None:
    """Create `schema` if needed and the "DashboardFact" and "DecisionLog" tables in it."""
    ddl = source_ddl()
    with conn.transaction(), conn.cursor() as cur:
        cur.execute(sql.SQL("create schema if not exists {}").format(sql.Identifier(schema)))
        cur.execute("select current_setting('search_path')")
        row = cur.fetchone()
        previous = row[0] if row else "public"
        cur.execute("select set_config('search_path', quote_ident(%s), true)", (schema,))
        cur.execute(ddl.encode())
        cur.execute("select set_config('search_path', %s, true)", (previous,))


def _copy_statement(schema: str, table: str, columns: tuple[str, ...]) -> sql.Composed:
    return sql.SQL("copy {} ({}) from stdin").format(
        sql.Identifier(schema, table), sql.SQL(", ").join(map(sql.Identifier, columns))
    )


def generate(
    conn: psycopg.Connection,
    scale: Scale,
    *,
    as_of: dt.date,
    seed: int = 42,
    schema: str = "public",
) -> dict[str, int]:
    """Load a synthetic history into schema."DashboardFact" and schema."DecisionLog".

    The tables must exist (see `create_source_tables`). The history covers the
    `scale.history_days` UTC days before `as_of`; rows are appended with COPY in
    one transaction (committed unless the caller's transaction is open) and the
    tables analyzed. In fresh tables the same arguments give identical rows and ids.

    Returns counts: "DashboardFact" and "DecisionLog" (rows written), "sessions"
    (countable ones) and "sessions_blank_or_aggregate", "escalation_snapshots"
    (generated; of which "escalation_snapshots_legacy", and
    "escalation_snapshots_purged": not written, see
    Scale.escalation_retention_days), "escalation_elements" (sound
    elements of value arrays and breaches lists), "corrupt_elements" (elements
    the metric must reject), "ignored_value_elements" (value elements that are
    not objects: no breach, not rejected), "malformed_breaches_fields" (breaches that is an
    object), "unrelated_facts", "conversations", "breached_conversations",
    "breaches_in_snapshots" (breached conversations some snapshot shows),
    "unresolved_breaches", and per kind of decision "resolving_decisions",
    "support_resolutions", "pre_breach_decisions", "non_resolution_refs",
    "follow_up_decisions", "ops_decisions", "other_scope_decisions".
    """
    if isinstance(as_of, dt.datetime) or not isinstance(as_of, dt.date):
        raise TypeError("as_of must be a datetime.date")
    chunk_limit = 4 * 1024 * 1024
    with tempfile.SpooledTemporaryFile(
        max_size=64 * 1024 * 1024, mode="w+", encoding="utf-8"
    ) as spool:
        gen = _Generator(scale, as_of, seed, spool.write)
        with conn.transaction(), conn.cursor() as cur:
            stmt = _copy_statement(schema, "DashboardFact", _FACT_COLUMNS)
            with cur.copy(stmt, writer=QueuedLibpqWriter(cur)) as copy:
                buffered: list[str] = []
                size = 0
                for chunk in gen.fact_days():
                    buffered.append(chunk)
                    size += len(chunk)
                    if size >= chunk_limit:
                        copy.write("".join(buffered))
                        buffered.clear()
                        size = 0
                if buffered:
                    copy.write("".join(buffered))
            spool.seek(0)
            stmt = _copy_statement(schema, "DecisionLog", _DECISION_COLUMNS)
            with cur.copy(stmt) as copy:
                while block := spool.read(chunk_limit):
                    copy.write(block)
            for table in ("DashboardFact", "DecisionLog"):
                cur.execute(sql.SQL("analyze {}").format(sql.Identifier(schema, table)))
    return dict(gen.counts)
