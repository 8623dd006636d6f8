"""Create the store's namespace (with its Pod Security labels)."""

from __future__ import annotations

from storeplane.domain.conditions import Reason
from storeplane.domain.events import Event
from storeplane.domain.ports import ObjectRef
from storeplane.domain.store import Phase, Store
from storeplane.reconciler.context import ReconcileContext
from storeplane.reconciler.desired import DesiredState


async def ensure_namespace(
    store: Store, desired: DesiredState, ctx: ReconcileContext
) -> list[Event]:
    labels = desired.namespace["metadata"]["labels"]
    enforce = labels.get("pod-security.kubernetes.io/enforce")
    if store.phase == Phase.READY or store.observed_generation > 0:
        reason = "DriftCorrected"
        message = f"namespace {store.namespace} was missing and has been recreated"
    else:
        reason = Reason.NAMESPACE_CREATED
        message = f"namespace {store.namespace} applied (Pod Security: enforce {enforce})"
    ref = ObjectRef.of(desired.namespace)
    async with ctx.steps.step(store, reason, message, applies=[ref]) as step:
        await step.apply(desired.namespace)
    return step.events
