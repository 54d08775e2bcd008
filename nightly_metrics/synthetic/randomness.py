"""Draws from the generator's one `random.Random` stream beyond what it offers itself."""

from __future__ import annotations

import math
from collections.abc import Callable


def poisson(rand: Callable[[], float], lam: float) -> int:
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
