"""``dashboard.session.opened`` facts: the shops' sessions and the ones to ignore."""

from __future__ import annotations

from .copy_text import DAY_MS, NULL, copy_timestamp
from .randomness import poisson
from .shapes import PATHS
from .shops import Shop
from .state import GeneratorState


class Sessions(GeneratorState):
    """Appends a day's dashboard sessions to its rows."""

    def _sessions(self, shop: Shop, prefix: str, rows: list[tuple[int, str]]) -> None:
        r = self.r
        n = 1 + poisson(r, shop.session_rate - 1.0)
        hours = self.rng.choices(range(24), cum_weights=shop.hour_cum, k=n)
        domain = shop.domain
        ua_meta = f'{{"userAgent":"{shop.ua}"}}'
        n_paths = len(PATHS)
        for hour in hours:
            ms = hour * 3_600_000 + int(r() * 3_600_000)
            dur = 5 + int(r() * r() * 1800)
            created = copy_timestamp(prefix, ms)
            updated = (
                created
                if r() < 0.7
                else copy_timestamp(prefix, min(ms + int(r() * 1500), DAY_MS - 1))
            )
            u = r()
            rows.append(
                (
                    ms,
                    (
                        f"{domain}\tdashboard.session.opened\t{'dashboard' if u < 0.6 else NULL}\t"
                        f'{{"path":"{PATHS[int(r() * n_paths)]}","durationSec":{dur}}}\t'
                        f"{ua_meta if u < 0.3 or u > 0.8 else NULL}\t\\N\t{created}\t{updated}\n"
                    ),
                )
            )
        self.counts["sessions"] += n

    def _odd_sessions(self, prefix: str, rows: list[tuple[int, str]]) -> None:
        """Sessions the metrics must ignore: blank and __aggregate__ shop domains."""
        r = self.r
        for p, domains in ((0.25, ("", "  ", " ")), (0.15, ("__aggregate__",))):
            if r() < p:
                ms = int(r() * DAY_MS)
                created = copy_timestamp(prefix, ms)
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
