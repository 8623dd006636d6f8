"""The fleet at a glance: what ``GET /api/v1/fleet`` answers, as plain values.

The database computes the counts and picks the rows (:mod:`storeplane.db.fleet`); the only
arithmetic done here is over at most ``MAX_SAMPLE`` provisioning durations (percentiles and
histogram buckets), so the summary costs the same at 10 stores and at 10,000.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from storeplane.domain.events import Event

MAX_SAMPLE = 500
# Upper bounds (seconds) of the provisioning-duration histogram; the last bucket is open.
BUCKETS: tuple[float, ...] = (5, 10, 20, 30, 60, 120, 300, 600)


@dataclass(frozen=True, slots=True)
class Bucket:
    upper_seconds: float | None  # None: everything above the last bound
    count: int


@dataclass(frozen=True, slots=True)
class DurationStats:
    """How long the last stores took from ``Created`` to their first ``Ready``."""

    sample: int  # how many stores the figures are over (the newest that reached Ready)
    p50: float | None
    p90: float | None
    p99: float | None
    max: float | None
    buckets: tuple[Bucket, ...]


@dataclass(frozen=True, slots=True)
class FailingStore:
    id: str
    name: str
    reason: str  # the Ready condition's CamelCase reason (or the phase when it has none)
    message: str  # the last error, in words
    since: datetime


@dataclass(frozen=True, slots=True)
class FleetEvent:
    """An event of any store, with the store's name so a list can link it."""

    event: Event
    store_name: str
    owner_id: str | None = None  # who may see it besides admins (the change feed filters on it)


@dataclass(frozen=True, slots=True)
class FleetSummary:
    total: int  # live stores (Deleted ones are counted in ``by_phase`` only)
    by_phase: dict[str, int]
    by_engine: dict[str, int]
    by_plan: dict[str, int]
    by_engine_version: dict[str, int]  # empty until stores carry an engine version
    durations: DurationStats
    failing: tuple[FailingStore, ...]
    recent_events: tuple[FleetEvent, ...]


def percentile(sorted_values: Sequence[float], fraction: float) -> float | None:
    """The nearest-rank percentile of already sorted values (None for none)."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(fraction * len(sorted_values)))
    return sorted_values[rank - 1]


def duration_stats(seconds: Sequence[float]) -> DurationStats:
    """Percentiles and histogram buckets over ``seconds`` (one value per store)."""
    values = sorted(max(0.0, s) for s in seconds)
    counts = [0] * (len(BUCKETS) + 1)
    for value in values:
        index = next((i for i, bound in enumerate(BUCKETS) if value <= bound), len(BUCKETS))
        counts[index] += 1
    buckets = tuple(
        Bucket(BUCKETS[i] if i < len(BUCKETS) else None, c) for i, c in enumerate(counts)
    )
    return DurationStats(
        sample=len(values),
        p50=percentile(values, 0.5),
        p90=percentile(values, 0.9),
        p99=percentile(values, 0.99),
        max=values[-1] if values else None,
        buckets=buckets,
    )
