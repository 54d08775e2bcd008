"""The constant tables the synthetic data is drawn from: hours, time zones, names, spellings."""

from __future__ import annotations

SNAPSHOT_HOURS = (0, 6, 12, 18)  # UTC hours of the escalation snapshots

# Local-time weights of when people work (index = local hour).
LOCAL_HOUR_WEIGHTS = (
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
TZ_OFFSETS = (-8, -7, -6, -5, -5, -4, 0, 1, 1, 2, 3, 5, 8, 10)  # hours east of UTC

ACTIVITY_KINDS = (  # (weight, chance of being active on a weekday)
    (0.40, 0.92),  # daily
    (0.30, 0.60),  # regular
    (0.20, 0.25),  # occasional
    (0.10, 0.06),  # rare
)
SLA_CHOICES = (15, 30, 30, 60, 60, 120, 240)

PATHS = (
    "/app",
    "/app",
    "/app",
    "/app/metrics",
    "/app/escalations",
    "/app/decisions",
    "/app/settings",
    "/app/onboarding",
)
USER_AGENTS = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.5 Safari/605.1.15",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Mobile/15E148 Shopify Mobile/iOS/9.170.0",
    "Mozilla/5.0 (X11; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0",
)
OPERATORS = ("alice", "bob", "chen", "dana", "emeka", "farah")
OPS_ACTIONS = (
    "approve_refund",
    "approve_refund",
    "pause_campaign",
    "adjust_inventory_threshold",
    "escalate_to_merchant",
    "flag_fraud_review",
    "extend_trial",
    "update_shipping_rule",
)
RESOLVE_ACTIONS = ("resolve_escalation", "resolve_escalation", "approve_refund", "reply_customer")
OTHER_SCOPES = (
    ("growth", "growth:bot", ("send_winback_email", "offer_discount", "enable_upsell")),
    ("growth", "growth:erin", ("launch_campaign", "offer_discount")),
    ("billing", "billing:stripe-sync", ("apply_credit", "retry_charge", "change_plan")),
)
BAD_REFS = ("chatwoot:{id}a", "Chatwoot:{id}", "chatwoot:", "chatwoot: {id}", "chatwoot:#{id}")
SQLISH = '\'; drop table "DashboardFact"; --'
OFFSETS_MIN = (120, -300, 330, 60, -420, 600, -180)

UNRELATED_KINDS = (  # (weight, factType)
    (0.50, "shopify.order.synced"),
    (0.20, "inventory.snapshot"),
    (0.15, "app.webhook.received"),
    (0.10, "email.digest.sent"),
    (0.05, "dashboard.session.closed"),
)
WEBHOOK_TOPICS = (
    "products/update",
    "orders/create",
    "orders/paid",
    "customers/update",
    "app/uninstalled",
    "inventory_levels/update",
)
CURRENCIES = ("USD", "USD", "USD", "EUR", "GBP", "CAD", "AUD")
FIN_STATUS = ("paid", "paid", "paid", "pending", "refunded", "partially_refunded")
TAGS = ('"vip"', '"wholesale"', '"subscription"', '"first-order"', '"gift"')
