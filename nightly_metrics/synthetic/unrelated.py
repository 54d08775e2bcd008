"""DashboardFact rows of unrelated fact types, with bulky JSON, that the metrics skip."""

from __future__ import annotations

from collections.abc import Callable

from .copy_text import DAY_MS, NULL, copy_timestamp
from .shapes import CURRENCIES, FIN_STATUS, TAGS, WEBHOOK_TOPICS
from .shops import Shop
from .state import GeneratorState

Random = Callable[[], float]
# (factType, scope, value, metadata) of one unrelated fact, COPY text.
Fact = tuple[str, str, str, str]


class UnrelatedFacts(GeneratorState):
    """Makes one unrelated fact of a shop on a day."""

    def _unrelated(self, shop: Shop, prefix: str) -> tuple[int, str]:
        """(millisecond of the day, COPY row) of an unrelated fact; kinds as UNRELATED_KINDS."""
        r = self.r
        u = r()
        ms = int(r() * DAY_MS)
        created = copy_timestamp(prefix, ms)
        if u < 0.50:
            fact, scope, value, meta = self._order_synced(shop)
        elif u < 0.70:
            fact, scope, value, meta = _inventory_snapshot(r)
        elif u < 0.85:
            fact, scope, value, meta = _webhook_received(r)
        elif u < 0.95:
            fact, scope, value, meta = _digest_sent(r, shop)
        else:
            fact, scope, value, meta = _session_closed(r)
        return ms, f"{shop.domain}\t{fact}\t{scope}\t{value}\t{meta}\t\\N\t{created}\t{created}\n"

    def _order_synced(self, shop: Shop) -> Fact:
        r = self.r
        self.next_order_id += 1
        shop.orders += 1
        items = ",".join(
            f'{{"sku":"SKU-{int(r() * 90_000) + 10_000}","quantity":{1 + int(r() * r() * 4)},'
            f'"price":"{int(r() * 180) + 2}.{int(r() * 100):02d}",'
            f'"title":"Product {int(r() * 900) + 100}"}}'
            for _ in range(1 + int(r() * r() * 5))
        )
        cust = int(r() * 9_000_000) + 1_000_000
        tags = ",".join(TAGS[int(r() * len(TAGS))] for _ in range(int(r() * 3)))
        value = (
            f'{{"orderId":{self.next_order_id},"name":"#{shop.orders}",'
            f'"totalPrice":"{int(r() * 900) + 5}.{int(r() * 100):02d}",'
            f'"currency":"{CURRENCIES[int(r() * len(CURRENCIES))]}",'
            f'"financialStatus":"{FIN_STATUS[int(r() * len(FIN_STATUS))]}",'
            f'"lineItems":[{items}],'
            f'"customer":{{"id":{cust},"email":"customer{cust}@example.com"}},'
            f'"tags":[{tags}]}}'
        )
        return "shopify.order.synced", "sync", value, '{"source":"webhook","apiVersion":"2026-01"}'


def _inventory_snapshot(r: Random) -> Fact:
    items = ",".join(
        f'{{"sku":"SKU-{int(r() * 90_000) + 10_000}","available":{int(r() * 500)},'
        f'"incoming":{int(r() * r() * 100)}}}'
        for _ in range(4 + int(r() * 10))
    )
    value = f'{{"locationId":{60_000_000 + int(r() * 1000)},"items":[{items}]}}'
    return "inventory.snapshot", "inventory", value, NULL


def _webhook_received(r: Random) -> Fact:
    topic = WEBHOOK_TOPICS[int(r() * len(WEBHOOK_TOPICS))]
    value = (
        f'{{"topic":"{topic}","webhookId":"{int(r() * 2**48):012x}",'
        f'"payloadBytes":{200 + int(r() * 20_000)},'
        f'"resourceId":{7_000_000_000 + int(r() * 10**9)},"attempt":1}}'
    )
    return "app.webhook.received", NULL, value, '{"hmacVerified":true}'


def _digest_sent(r: Random, shop: Shop) -> Fact:
    value = (
        f'{{"recipient":"owner@{shop.domain}","template":"weekly_digest",'
        f'"subject":"Your store this week","stats":{{"orders":{int(r() * 400)},'
        f'"revenue":"{int(r() * 40_000)}.{int(r() * 100):02d}",'
        f'"sessions":{int(r() * 90)}}},'
        f'"messageId":"{int(r() * 2**64):016x}@mail.example.com"}}'
    )
    return "email.digest.sent", "email", value, NULL


def _session_closed(r: Random) -> Fact:
    value = f'{{"path":"/app","durationSec":{5 + int(r() * 1800)}}}'
    return "dashboard.session.closed", "dashboard", value, NULL
