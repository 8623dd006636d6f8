"""Create the store's namespace (with its Pod Security labels)."""

from __future__ import annotations

from storeplane.domain.conditions import Reason
from storeplane.domain.events import Event
from storeplane.domain.store import Phase, Store
from storeplane.reconciler.actions._events import normal
from storeplane.reconciler.context import ReconcileContext
from storeplane.reconciler.desired import DesiredState


async def ensure_namespace(
    store: Store, desired: DesiredState, ctx: ReconcileContext
) -> list[Event]:
    await ctx.cluster.apply(desired.namespace)
    labels = desired.namespace["metadata"]["labels"]
    enforce = labels.get("pod-security.kubernetes.io/enforce")
    if store.phase == Phase.READY or store.observed_generation > 0:
        return [
            normal(
                store,
                ctx,
                "DriftCorrected",
                f"namespace {store.namespace} was missing and has been recreated",
            )
        ]
    return [
        normal(
            store,
            ctx,
            Reason.NAMESPACE_CREATED,
            f"namespace {store.namespace} applied (Pod Security: enforce {enforce})",
        )
    ]
