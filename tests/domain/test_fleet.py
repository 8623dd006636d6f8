"""Percentiles and histogram buckets of provisioning durations (pure)."""

from __future__ import annotations

import pytest

from storeplane.domain.fleet import BUCKETS, duration_stats, percentile


@pytest.mark.parametrize(
    ("values", "fraction", "expected"),
    [
        ([], 0.5, None),
        ([7.0], 0.99, 7.0),
        ([1.0, 2.0, 3.0, 4.0], 0.5, 2.0),
        ([float(i) for i in range(1, 101)], 0.9, 90.0),
        ([float(i) for i in range(1, 101)], 0.99, 99.0),
    ],
    ids=[
        "no values have no percentile",
        "one value is every percentile",
        "the median of four is the second (nearest rank)",
        "p90 of 1..100 is 90",
        "p99 of 1..100 is 99",
    ],
)
def test_percentile(values: list[float], fraction: float, expected: float | None) -> None:
    assert percentile(values, fraction) == expected


def test_every_duration_lands_in_exactly_one_bucket_and_the_last_is_open() -> None:
    stats = duration_stats([3, 5, 5.1, 59, 3600, -1])
    counts = {b.upper_seconds: b.count for b in stats.buckets}
    assert len(stats.buckets) == len(BUCKETS) + 1
    assert counts[5] == 3  # 3, 5 and the clock-skewed -1 (counted as 0)
    assert counts[10] == 1 and counts[60] == 1 and counts[None] == 1
    assert stats.sample == 6 and stats.max == 3600
