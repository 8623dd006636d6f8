"""Smoke checks: "place a real order in this store and find it again", as a recorded value.

The API records a check as ``Running`` (``services.checks.request_check``); a check runner on
the reconciler side (``reconciler.checks``) claims it, runs the engine's order flow against
the store's public URL, saves each step as it goes and finishes it ``Passed`` (with the order
id) or ``Failed`` (with the step and the cause). Every method returns a new value.

Who runs a check, and what happens when its runner dies, in one place:

* A new check has no ``runner``. Exactly one replica claims it (a conditional UPDATE on
  ``runner IS NULL``) and holds it with a lease it renews while the check runs.
* A check whose runner stopped renewing (lease expired), or that a restarted process finds
  still held under its own owner id, is finished ``Failed`` with step ``interrupted``. It is
  never re-run by itself: the first run may already have placed an order, and a second order
  the user did not ask for is worse than an honest "run it again".
"""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from storeplane.domain.conditions import ConditionType, get_condition
from storeplane.domain.store import Phase, Store, WorkloadRuntime

CHECK_ID_PREFIX = "check-"
_ID_ALPHABET = string.ascii_lowercase + string.digits
INTERRUPTED_STEP = "interrupted"


class CheckStatus(StrEnum):
    RUNNING = "Running"
    PASSED = "Passed"
    FAILED = "Failed"


def new_check_id() -> str:
    return CHECK_ID_PREFIX + "".join(secrets.choice(_ID_ALPHABET) for _ in range(10))


@dataclass(frozen=True, slots=True)
class SmokeCheck:
    id: str
    store_id: str
    status: CheckStatus
    requested_by: str  # the user's name (or "system")
    started_at: datetime
    step: str | None = None  # the step running now, or the one that failed
    message: str = ""
    order_id: str | None = None
    finished_at: datetime | None = None
    # Which control-plane replica runs it, and until when its claim holds without a renewal.
    runner: str | None = None
    lease_expires_at: datetime | None = None

    @property
    def finished(self) -> bool:
        return self.status is not CheckStatus.RUNNING

    @classmethod
    def request(cls, store_id: str, *, requested_by: str, now: datetime) -> SmokeCheck:
        return cls(
            id=new_check_id(),
            store_id=store_id,
            status=CheckStatus.RUNNING,
            requested_by=requested_by,
            started_at=now,
            step="queued",
            message="waiting for a check runner to pick it up",
        )

    def at_step(self, step: str, message: str = "") -> SmokeCheck:
        return replace(self, step=step, message=message)

    def passed(self, order_id: str, message: str, *, now: datetime) -> SmokeCheck:
        return replace(
            self,
            status=CheckStatus.PASSED,
            order_id=order_id,
            step=None,
            message=message,
            finished_at=now,
        )

    def failed(self, step: str, message: str, *, now: datetime) -> SmokeCheck:
        return replace(self, status=CheckStatus.FAILED, step=step, message=message, finished_at=now)

    def interrupted(self, *, now: datetime) -> SmokeCheck:
        """Failed because its runner stopped before it finished (see the module doc)."""
        during = f" during step {self.step!r}" if self.step else ""
        runner = self.runner or "its runner"
        return self.failed(
            INTERRUPTED_STEP,
            f"interrupted: {runner} stopped{during} before the check finished "
            "(an order may or may not have been placed); run the check again",
            now=now,
        )


def not_checkable(store: Store) -> str | None:
    """Why an order check cannot run on ``store`` now, in words a person can act on; None if
    it can. Pure: the API asks before recording a check, the runner again before running it."""
    if store.phase == Phase.DELETED or store.is_deleting:
        return f"store {store.id} is {store.phase.value.lower()}: there is no store to check"
    if store.workload_runtime is WorkloadRuntime.SIMULATED:
        reachable = get_condition(store.conditions, ConditionType.STORE_REACHABLE)
        said = f" ({reachable.message})" if reachable is not None and reachable.message else ""
        return (
            f"store {store.id}'s workloads are simulated{said}: there is no real store to "
            "check; an order check needs the engine to run for real (a real cluster, or "
            "storeplane dev with local runtimes for the store's images)"
        )
    if store.phase != Phase.READY:
        ready = get_condition(store.conditions, ConditionType.READY)
        said = f" ({ready.message})" if ready is not None and ready.message else ""
        return (
            f"store {store.id} is {store.phase.value}, not Ready{said}: there is no working "
            "store to check yet; run the check once it is Ready"
        )
    return None
