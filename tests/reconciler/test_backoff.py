import random

import pytest

from storeplane.reconciler.backoff import backoff_delay


@pytest.mark.parametrize(
    ("failures", "low", "high"),
    [(1, 0.5, 1.0), (2, 1.0, 2.0), (4, 4.0, 8.0), (20, 150.0, 300.0)],
    ids=[
        "the first retry waits about the base",
        "the second doubles",
        "the fourth is eight times",
        "it never passes the cap",
    ],
)
def test_backoff_grows_exponentially_with_jitter_up_to_the_cap(
    failures: int, low: float, high: float
) -> None:
    rng = random.Random(7)
    delays = [backoff_delay(failures, base=1.0, cap=300.0, rng=rng) for _ in range(200)]
    assert all(low <= d <= high for d in delays)
    assert len({round(d, 6) for d in delays}) > 150  # jittered, not one fixed value
