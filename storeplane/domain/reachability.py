"""What a settled store says while the cluster cannot be reached: ``Unknown``, not ``Ready``.

A store that was ``Ready`` (or ``Suspended``) and whose resync or health check could not reach
the Kubernetes API keeps its phase - nothing known changed - but ``StoreReachable`` and
``Ready`` turn ``Unknown`` with reason ``ClusterUnreachable``, the cause and the time of the
last successful observation, as Argo CD shows ``Unknown`` health. The next pass that reaches
the cluster derives every condition again. Called by ``reconciler/reconcile.py``.
"""

from __future__ import annotations

from datetime import datetime

from storeplane.domain.conditions import (
    Condition,
    ConditionStatus,
    ConditionType,
    get_condition,
    set_condition,
)
from storeplane.domain.store import Phase, Store

CLUSTER_UNREACHABLE = "ClusterUnreachable"
# Phases whose conditions claim something about the running store (True) that an
# unreachable cluster can no longer confirm.
SETTLED_PHASES = (Phase.READY, Phase.SUSPENDED)


def already_unknown(store: Store) -> bool:
    ready = get_condition(store.conditions, ConditionType.READY)
    return ready is not None and ready.reason == CLUSTER_UNREACHABLE


def unreachable_message(store: Store, cause: str, now: datetime) -> str:
    """``the cluster could not be reached (cause); last successful observation at T``. The
    last success is the last pass that converged (it set ``updated_at``); it stays put while
    the outage lasts, since failed passes do not move it."""
    last = store.updated_at.isoformat(timespec="seconds")
    return (
        f"the cluster could not be reached at {now.isoformat(timespec='seconds')} ({cause}); "
        f"last successful observation at {last}; the store's state is unknown until the "
        "cluster answers again"
    )


def unreachable_conditions(store: Store, message: str, now: datetime) -> tuple[Condition, ...]:
    conditions = store.conditions
    for type_ in (ConditionType.STORE_REACHABLE, ConditionType.READY):
        conditions = set_condition(
            conditions,
            type_,
            ConditionStatus.UNKNOWN,
            CLUSTER_UNREACHABLE,
            message,
            now=now,
            generation=store.generation,
        )
    return conditions
