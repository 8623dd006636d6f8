"""The fixed metric set, on Prometheus' default registry (served at ``/metrics``).

| metric | type | labels | meaning |
|---|---|---|---|
| ``storeplane_reconcile_total`` | counter | result | passes by outcome: converged, waiting, error, deleted |
| ``storeplane_reconcile_errors_total`` | counter | reason | failed passes by CamelCase reason |
| ``storeplane_reconcile_duration_seconds`` | histogram | | time of one pass |
| ``storeplane_workqueue_depth`` | gauge | | stores due now or in flight |
| ``storeplane_workqueue_oldest_item_age_seconds`` | gauge | | how long the longest-waiting due store has waited |
| ``storeplane_workqueue_inflight`` | gauge | | passes running in this process |
| ``storeplane_stores`` | gauge | phase | stores by phase |
| ``storeplane_provisioning_duration_seconds`` | histogram | engine | from creation to the first Ready |
| ``storeplane_api_request_duration_seconds`` | histogram | method, route, status | API latency |
| ``storeplane_dependency_up`` | gauge | dependency | 1 while this process reaches the ``database`` / ``cluster``, 0 during an outage (``observability/outages.py``) |

The gauges read from the database are left out of a scrape while it cannot answer; the
scrape itself still succeeds.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

from prometheus_client import Counter, Gauge, Histogram
from prometheus_client.core import REGISTRY, GaugeMetricFamily
from prometheus_client.registry import Collector

RECONCILE_TOTAL = Counter("storeplane_reconcile_total", "Reconcile passes by result.", ["result"])
RECONCILE_ERRORS = Counter(
    "storeplane_reconcile_errors_total", "Reconcile passes that failed, by reason.", ["reason"]
)
RECONCILE_DURATION = Histogram(
    "storeplane_reconcile_duration_seconds",
    "Duration of one reconcile pass.",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
INFLIGHT = Gauge("storeplane_workqueue_inflight", "Reconcile passes running in this process.")
PROVISIONING_DURATION = Histogram(
    "storeplane_provisioning_duration_seconds",
    "Time from a store's creation to its first Ready.",
    ["engine"],
    buckets=(1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1200),
)
API_LATENCY = Histogram(
    "storeplane_api_request_duration_seconds",
    "API request latency by route template.",
    ["method", "route", "status"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)

log = logging.getLogger(__name__)
PhaseCounts = Callable[[], dict[str, int]]
DueSummary = Callable[[datetime], tuple[int, datetime | None]]
PHASES = ("Pending", "Provisioning", "Ready", "Updating", "Failed", "Deleting", "Deleted")


class StoreCollector(Collector):
    """Reads store counts and the due backlog from the database at scrape time, so every
    replica reports the same truth and nothing has to be kept in sync."""

    def __init__(
        self, phase_counts: PhaseCounts, due_summary: DueSummary, inflight: Callable[[], int]
    ) -> None:
        self._phase_counts = phase_counts
        self._due_summary = due_summary
        self._inflight = inflight

    def collect(self) -> Iterator[GaugeMetricFamily]:
        try:
            counts = self._phase_counts()
            now = datetime.now(UTC)
            due, oldest = self._due_summary(now)
        except Exception as exc:
            # The database is down (or broken): leave its gauges out of this scrape rather than
            # fail it, so /metrics still shows storeplane_dependency_up and the rest.
            log.debug("store gauges left out of this scrape: %s", exc)
            return
        stores = GaugeMetricFamily("storeplane_stores", "Stores by phase.", labels=["phase"])
        for phase in PHASES:
            stores.add_metric([phase], counts.get(phase, 0))
        yield stores
        yield GaugeMetricFamily(
            "storeplane_workqueue_depth",
            "Stores due for a reconcile now, plus passes in flight.",
            value=due + self._inflight(),
        )
        age = (now - oldest).total_seconds() if oldest is not None else 0.0
        yield GaugeMetricFamily(
            "storeplane_workqueue_oldest_item_age_seconds",
            "How long the longest-waiting due store has waited.",
            value=max(age, 0.0),
        )


_installed: list[StoreCollector] = []


def install_store_collector(collector: StoreCollector) -> None:
    """Register the store collector (replacing one registered earlier in this process)."""
    for old in _installed:
        REGISTRY.unregister(old)
    _installed.clear()
    REGISTRY.register(collector)
    _installed.append(collector)
