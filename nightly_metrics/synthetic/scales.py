"""How much synthetic data to generate (`Scale`) and the named scales (`SCALES`)."""

from __future__ import annotations

from dataclasses import dataclass


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
    # Three times M, shaped as the application's data is: escalation snapshots
    # purged after 14 days and most breached conversations never resolved by an
    # ops decision (issue 22: about 30 M rows in the real data's measurement).
    "L": Scale(
        shops=3900,
        history_days=400,
        sessions_per_active_shop_day=_BENCHMARK_SESSIONS,
        unresolved_fraction=0.95,
        escalation_retention_days=14,
    ),
    # S as the application keeps it: escalation snapshots purged after 14 days.
    "SP": Scale(
        shops=130,
        history_days=400,
        sessions_per_active_shop_day=_BENCHMARK_SESSIONS,
        escalation_retention_days=14,
    ),
}
