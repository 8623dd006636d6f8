"""Delete the store's namespace; the cluster removes everything inside it."""

from __future__ import annotations

from storeplane.domain.conditions import Reason
from storeplane.domain.events import Event
from storeplane.domain.ports import ObjectRef
from storeplane.domain.store import Store
from storeplane.reconciler.context import ReconcileContext


async def teardown(store: Store, ctx: ReconcileContext) -> list[Event]:
    ref = ObjectRef("v1", "Namespace", store.namespace)
    message = f"namespace {store.namespace} deleted; waiting for it to be gone"
    async with ctx.steps.step(store, Reason.TEARDOWN_STARTED, message, deletes=[ref]) as step:
        await step.delete(ref)
    return step.events
