"""The KPI cards of a report: each figure of the latest stored window against
the window 7 days earlier. Pure: no database, no drawing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from .project import WINDOW_DAYS
from .report_data import ACTIVATION, SLA, Window


@dataclass
class Card:
    """One figure of the latest window. `value` None: the window has no data
    (no active shop, an empty SLA sample), never a 0."""

    key: str  # activation-rate, sla-median, sla-p90
    title: str
    as_of: date
    value: float | None
    earlier: float | None  # the window 7 days earlier, None when not stored or no data
    sample: str
    higher_is_better: bool

    @property
    def change(self) -> float | None:
        if self.value is None or self.earlier is None:
            return None
        return self.value - self.earlier

    @property
    def change_percent(self) -> float | None:
        if self.change is None or not self.earlier:
            return None
        return self.change / self.earlier * 100

    @property
    def verdict(self) -> str:
        """good, bad or unchanged for this KPI (a faster SLA is good), or n/a."""
        if self.change is None:
            return "n/a"
        if self.change == 0:
            return "unchanged"
        return "good" if (self.change > 0) == self.higher_is_better else "bad"


def number(value) -> float | None:
    try:
        return None if value is None else float(value)
    except (TypeError, ValueError):
        return None


def activation_rate(window: Window | None) -> float | None:
    """The rate in percent, or None for a window without active shops."""
    if window is None or not window.value.get("totalActiveShops"):
        return None
    rate = number(window.value.get("activationRate"))
    return None if rate is None else rate * 100


def sla_minutes(window: Window | None, key: str) -> float | None:
    if window is None or not window.value.get("sampleSize"):
        return None
    return number(window.value.get(key))


def kpi_cards(windows: dict[str, list[Window]]) -> list[Card]:
    """The three cards (activation rate, SLA median, SLA p90) of the latest windows."""
    cards = []
    if windows[ACTIVATION]:
        latest, earlier = latest_and_earlier(windows[ACTIVATION])
        value = latest.value
        cards.append(
            Card(
                "activation-rate", "Activation rate", latest.as_of,
                activation_rate(latest), activation_rate(earlier),
                f"{value.get('activatedShops', 0)} of {value.get('totalActiveShops', 0)}"
                " active shops", higher_is_better=True,
            )
        )  # fmt: skip
    if windows[SLA]:
        latest, earlier = latest_and_earlier(windows[SLA])
        sample = f"{latest.value.get('sampleSize', 0)} resolved breaches"
        for key, title, field in (
            ("sla-median", "SLA resolution, median", "medianMinutes"),
            ("sla-p90", "SLA resolution, p90", "p90Minutes"),
        ):
            cards.append(
                Card(
                    key, title, latest.as_of, sla_minutes(latest, field),
                    sla_minutes(earlier, field), sample, higher_is_better=False,
                )
            )  # fmt: skip
    return cards


def latest_and_earlier(windows: list[Window]) -> tuple[Window, Window | None]:
    latest = windows[-1]
    wanted = latest.as_of - timedelta(days=WINDOW_DAYS)
    earlier = next((w for w in windows if w.as_of == wanted), None)
    return latest, earlier


def change_text(card: Card) -> str:
    """The change against 7 days earlier: points for the rate, minutes and
    percent for durations."""
    if card.change is None:
        return "no comparison (no data 7 days earlier)" if card.value is not None else "no data"
    if card.key == "activation-rate":
        return f"{card.change:+.1f} pts vs 7 days earlier ({card.verdict})"
    percent = f", {card.change_percent:+.0f}%" if card.change_percent is not None else ""
    return f"{card.change:+,.0f} min{percent} vs 7 days earlier ({card.verdict})"


def value_text(card: Card) -> str:
    if card.value is None:
        return "no data"
    if card.key == "activation-rate":
        return f"{card.value:.1f}%"
    return f"{card.value:,.0f} min"


def sla_sample_7d_earlier(windows: dict[str, list[Window]]) -> int | None:
    """The resolved breaches of the stored SLA window 7 days before the latest."""
    if not windows[SLA]:
        return None
    _, earlier = latest_and_earlier(windows[SLA])
    return None if earlier is None else earlier.value.get("sampleSize")
