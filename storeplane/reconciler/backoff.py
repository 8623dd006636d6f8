"""Exponential backoff with full jitter and a cap, per store (by its failure count)."""

from __future__ import annotations

import random


def backoff_delay(
    failures: int, *, base: float, cap: float, rng: random.Random | None = None
) -> float:
    """Seconds to wait after ``failures`` consecutive failures (>= 1): a random point in
    [ceiling/2, ceiling] where the ceiling doubles per failure up to ``cap``. Half the ceiling
    is kept as a floor so a retry storm never collapses to zero delay."""
    exponent = min(max(failures - 1, 0), 30)
    ceiling = min(cap, base * (2**exponent))
    return (rng or random).uniform(ceiling / 2, ceiling)
