"""Apply the chart objects that are missing or differ, and prune labelled objects the chart no
longer renders."""

from __future__ import annotations

from storeplane.domain.conditions import Reason
from storeplane.domain.events import Event
from storeplane.domain.ports import ObjectRef
from storeplane.domain.state import Observation
from storeplane.domain.store import Store
from storeplane.reconciler.context import ReconcileContext
from storeplane.reconciler.desired import DesiredState
from storeplane.reconciler.steps import OBJECTS


async def apply_workloads(
    store: Store, desired: DesiredState, observed: Observation, ctx: ReconcileContext
) -> list[Event]:
    events: list[Event] = []
    wanted = set(observed.workloads_out_of_sync)
    manifests = [m for m in desired.workloads if ObjectRef.of(m) in wanted]
    if manifests:
        drift = store.observed_generation > 0 and store.generation == store.observed_generation
        reason = "DriftCorrected" if drift else Reason.WORKLOADS_APPLIED
        verb = "restored" if drift else "applied"
        refs = [ObjectRef.of(m) for m in manifests]
        async with ctx.steps.step(store, reason, f"{verb} {OBJECTS}", applies=refs) as step:
            for manifest in manifests:
                await step.apply(manifest)
        events += step.events
    if observed.stale:
        async with ctx.steps.step(
            store,
            Reason.WORKLOADS_PRUNED,
            f"deleted objects no longer rendered: {OBJECTS}",
            deletes=observed.stale,
        ) as step:
            for ref in observed.stale:
                await step.delete(ref)
        events += step.events
    return events
