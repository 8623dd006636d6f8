"""Record that a resumed store is whole again: after ``POST .../resume`` its chart rendered
the workloads at their replicas, the maintenance backend was pruned, the pods came up on the
same volumes and the engine answers its health check. The store's ``suspended_at`` (set when
it reached Suspended) is what tells this pass from any other that converges."""

from __future__ import annotations

from storeplane.domain.conditions import Reason
from storeplane.domain.events import Event
from storeplane.domain.state import Decision
from storeplane.domain.store import Store
from storeplane.reconciler.actions._events import normal
from storeplane.reconciler.context import ReconcileContext


async def settle_resumed(store: Store, decision: Decision, ctx: ReconcileContext) -> list[Event]:
    since = store.suspended_at.isoformat() if store.suspended_at else "an unknown time"
    health = f" ({decision.reachability})" if decision.reachability else ""
    return [
        normal(
            store,
            ctx,
            Reason.STORE_RESUMED,
            f"resumed: suspended since {since}, the store serves again on the same volumes{health}",
        )
    ]
