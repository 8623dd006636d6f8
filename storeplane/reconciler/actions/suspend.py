"""Settle a store into ``Suspended``: its chart rendered every workload at zero replicas and
the Ingress on the maintenance backend (both applied by ``apply_workloads``), and none of its
own pods runs any more (``determine_state`` waited for that). This records it once, naming
what stands at zero; a suspended store that drifted and was restored is not announced again.
"""

from __future__ import annotations

from storeplane.domain.conditions import Reason
from storeplane.domain.events import Event
from storeplane.domain.store import Store
from storeplane.engines.maintenance import MAINTENANCE_NAME
from storeplane.reconciler.actions._events import normal
from storeplane.reconciler.context import ReconcileContext
from storeplane.reconciler.desired import DesiredState

_SCALABLE = ("Deployment", "StatefulSet")


def scaled_to_zero(desired: DesiredState) -> list[str]:
    """``Deployment medusa-server``... for the store's own workloads (not the maintenance one)."""
    return [
        f"{m['kind']} {m['metadata']['name']}"
        for m in desired.workloads
        if m.get("kind") in _SCALABLE
        and m["metadata"]["name"] != MAINTENANCE_NAME
        and m.get("spec", {}).get("replicas") == 0
    ]


async def settle_suspended(
    store: Store, desired: DesiredState, ctx: ReconcileContext
) -> list[Event]:
    if store.suspended_at is not None:
        return []  # already announced; this pass only confirmed it (or restored drift)
    stopped = ", ".join(scaled_to_zero(desired)) or "no workloads"
    return [
        normal(
            store,
            ctx,
            Reason.STORE_SUSPENDED,
            f"suspended: {stopped} at 0 replicas, no pod of the store runs; volumes, claims "
            f"and secrets are kept; the Ingress answers 503 from {MAINTENANCE_NAME}",
        )
    ]
