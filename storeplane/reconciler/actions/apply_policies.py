"""Apply the platform objects that are missing or differ: namespace labels, quota, limit range,
network policies, service account; create the generated credentials once."""

from __future__ import annotations

from storeplane.domain.conditions import Reason
from storeplane.domain.events import Event
from storeplane.domain.ports import ObjectRef
from storeplane.domain.state import Observation
from storeplane.domain.store import Store
from storeplane.reconciler.actions._events import describe, normal
from storeplane.reconciler.context import ReconcileContext
from storeplane.reconciler.desired import DesiredState


async def apply_policies(
    store: Store, desired: DesiredState, observed: Observation, ctx: ReconcileContext
) -> list[Event]:
    wanted = set(observed.policies_out_of_sync)
    applied: list[ObjectRef] = []
    for manifest in [desired.namespace, *desired.policies]:
        ref = ObjectRef.of(manifest)
        if ref in wanted:
            await ctx.cluster.apply(manifest)
            applied.append(ref)
    for manifest in desired.create_once:
        ref = ObjectRef.of(manifest)
        if ref in wanted and await ctx.cluster.create_if_absent(manifest):
            applied.append(ref)  # the values themselves are never logged
    if not applied:
        return []
    if store.observed_generation > 0 and store.generation == store.observed_generation:
        return [normal(store, ctx, "DriftCorrected", f"restored {describe(applied)}")]
    return [normal(store, ctx, Reason.POLICIES_APPLIED, f"applied {describe(applied)}")]
