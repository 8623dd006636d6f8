"""Delete the store's namespace; the cluster removes everything inside it."""

from __future__ import annotations

from storeplane.domain.conditions import Reason
from storeplane.domain.events import Event
from storeplane.domain.ports import ObjectRef
from storeplane.domain.store import Store
from storeplane.reconciler.backup_jobs import volume_name
from storeplane.reconciler.context import ReconcileContext


async def teardown(store: Store, ctx: ReconcileContext) -> list[Event]:
    ref = ObjectRef("v1", "Namespace", store.namespace)
    message = f"namespace {store.namespace} deleted; waiting for it to be gone"
    refs = [ref]
    if ctx.backups.enabled:
        # The store's slice of the folder backup target: the object goes, its files stay (a
        # final backup is kept there until it expires; see docs/backups.md).
        refs.append(ObjectRef("v1", "PersistentVolume", volume_name(store)))
        message += f"; PersistentVolume {volume_name(store)} deleted (its backup files stay)"
    async with ctx.steps.step(store, Reason.TEARDOWN_STARTED, message, deletes=refs) as step:
        for each in refs:
            await step.delete(each)
    return step.events
