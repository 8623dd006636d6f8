"""Apply the chart objects that are missing or differ, and prune labelled objects the chart no
longer renders."""

from __future__ import annotations

from storeplane.domain.conditions import Reason
from storeplane.domain.events import Event
from storeplane.domain.ports import ObjectRef
from storeplane.domain.state import Observation
from storeplane.domain.store import Store
from storeplane.reconciler.actions._events import describe, normal
from storeplane.reconciler.context import ReconcileContext
from storeplane.reconciler.desired import DesiredState


async def apply_workloads(
    store: Store, desired: DesiredState, observed: Observation, ctx: ReconcileContext
) -> list[Event]:
    events: list[Event] = []
    wanted = set(observed.workloads_out_of_sync)
    applied: list[ObjectRef] = []
    for manifest in desired.workloads:
        ref = ObjectRef.of(manifest)
        if ref in wanted:
            await ctx.cluster.apply(manifest)
            applied.append(ref)
    if applied:
        drift = store.observed_generation > 0 and store.generation == store.observed_generation
        reason = "DriftCorrected" if drift else Reason.WORKLOADS_APPLIED
        verb = "restored" if drift else "applied"
        events.append(normal(store, ctx, reason, f"{verb} {describe(applied)}"))
    for ref in observed.stale:
        await ctx.cluster.delete(ref)
    if observed.stale:
        events.append(
            normal(
                store,
                ctx,
                Reason.WORKLOADS_PRUNED,
                f"deleted objects no longer rendered: {describe(observed.stale)}",
            )
        )
    return events
