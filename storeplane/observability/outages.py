"""Availability of what storeplane depends on (the database, the cluster), told once per change.

A :class:`Dependency` is fed the outcome of calls made anyway (the reconcile loop's claims,
API requests, health observations of stores); it never polls by itself. It logs one line when
the dependency goes down (with the cause), one every ``still_every`` seconds while it stays
down, and one when it is back; it sets ``storeplane_dependency_up{dependency=...}`` to 0/1.
``failures_to_down`` consecutive failures are needed before it says "down", so a single
failed request does not flap it; one success brings it back.

Used by ``api/errors.py`` (database outages answered 503), ``reconciler/loop.py`` (claims,
passes that failed because the database was down) and ``reconciler/reconcile.py`` through the
context (the cluster, from each store's observation); ``/readyz`` and ``/api/v1/status``
report what they hold. Thread-safe: API handlers call it from worker threads.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from prometheus_client import Gauge

DEPENDENCY_UP = Gauge(
    "storeplane_dependency_up",
    "1 while this process reaches the dependency, 0 while it is down.",
    ["dependency"],
)
log = logging.getLogger("storeplane.outages")


@dataclass(frozen=True)
class DependencyState:
    name: str
    available: bool
    cause: str  # why it is down (the last failure), "" while available
    down_since: datetime | None  # when the current outage began (first failed call)
    last_success: datetime | None  # the last call that worked


class Dependency:
    def __init__(
        self,
        name: str,
        *,
        failures_to_down: int = 1,
        still_every: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = name
        self._failures_to_down = failures_to_down
        self._still_every = still_every
        self._clock = clock
        self._lock = threading.Lock()
        self._failures = 0  # consecutive
        self._first_failure: tuple[float, datetime] | None = None
        self._down = False
        self._cause = ""
        self._last_report = 0.0
        self._last_success: datetime | None = None
        DEPENDENCY_UP.labels(name).set(1)

    def report_every(self, seconds: float) -> None:
        """How often a lasting outage is logged again (``outage_log_every_seconds``)."""
        self._still_every = seconds

    @property
    def available(self) -> bool:
        return not self._down

    def state(self) -> DependencyState:
        with self._lock:
            return DependencyState(
                self.name,
                not self._down,
                self._cause if self._down else "",
                self._first_failure[1] if self._down and self._first_failure else None,
                self._last_success,
            )

    def succeeded(self) -> None:
        with self._lock:
            self._last_success = datetime.now(UTC)
            if self._down and self._first_failure is not None:
                took = self._clock() - self._first_failure[0]
                log.info("%s available again after %.0f s", self.name, took)
            self._failures = 0
            self._first_failure = None
            self._down = False
            self._cause = ""
        DEPENDENCY_UP.labels(self.name).set(1)

    def failed(self, cause: str) -> None:
        now = self._clock()
        with self._lock:
            self._failures += 1
            self._cause = cause
            if self._first_failure is None:
                self._first_failure = (now, datetime.now(UTC))
            if not self._down:
                if self._failures < self._failures_to_down:
                    return
                self._down = True
                self._last_report = now
                log.warning("%s unavailable: %s", self.name, cause)
            elif now - self._last_report >= self._still_every:
                self._last_report = now
                log.warning(
                    "%s still unavailable after %.0f s: %s",
                    self.name,
                    now - self._first_failure[0],
                    cause,
                )
        DEPENDENCY_UP.labels(self.name).set(0)


# One of each per process (a process talks to one database and one cluster).
DATABASE = Dependency("database", still_every=30.0)
CLUSTER = Dependency("cluster", failures_to_down=2, still_every=30.0)
