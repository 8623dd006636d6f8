"""Delete the store's namespace; the cluster removes everything inside it."""

from __future__ import annotations

from storeplane.domain.conditions import Reason
from storeplane.domain.events import Event
from storeplane.domain.ports import ObjectRef
from storeplane.domain.store import Store
from storeplane.reconciler.actions._events import normal
from storeplane.reconciler.context import ReconcileContext


async def teardown(store: Store, ctx: ReconcileContext) -> list[Event]:
    await ctx.cluster.delete(ObjectRef("v1", "Namespace", store.namespace))
    return [
        normal(
            store,
            ctx,
            Reason.TEARDOWN_STARTED,
            f"namespace {store.namespace} deleted; waiting for it to be gone",
        )
    ]
