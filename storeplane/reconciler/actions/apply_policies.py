"""Apply the platform objects that are missing or differ: namespace labels, quota, limit range,
network policies, service account; create the generated credentials once."""

from __future__ import annotations

from storeplane.domain.conditions import Reason
from storeplane.domain.events import Event
from storeplane.domain.ports import ObjectRef
from storeplane.domain.state import Observation
from storeplane.domain.store import Store
from storeplane.reconciler import backup_jobs
from storeplane.reconciler.context import ReconcileContext
from storeplane.reconciler.desired import DesiredState
from storeplane.reconciler.steps import OBJECTS


async def apply_policies(
    store: Store, desired: DesiredState, observed: Observation, ctx: ReconcileContext
) -> list[Event]:
    wanted = set(observed.policies_out_of_sync)
    applies = [m for m in [desired.namespace, *desired.policies] if ObjectRef.of(m) in wanted]
    if any(_is_backup_claim(m) for m in applies):
        # The claim is bound by name to the store's slice of the folder target: that
        # PersistentVolume (cluster-scoped, never listed as "owned") is applied just before it.
        index = next(i for i, m in enumerate(applies) if _is_backup_claim(m))
        applies.insert(index, backup_jobs.persistent_volume(store, ctx.backups))
    creates = [m for m in desired.create_once if ObjectRef.of(m) in wanted]
    if not applies and not creates:
        return []
    if store.observed_generation > 0 and store.generation == store.observed_generation:
        reason, message = "DriftCorrected", f"restored {OBJECTS}"
    else:
        reason, message = Reason.POLICIES_APPLIED, f"applied {OBJECTS}"
    async with ctx.steps.step(
        store,
        reason,
        message,
        applies=[ObjectRef.of(m) for m in applies],
        creates=[ObjectRef.of(m) for m in creates],
    ) as step:
        for manifest in applies:
            await step.apply(manifest)
        for manifest in creates:
            await step.create_if_absent(manifest)  # the values themselves are never logged
    return step.events


def _is_backup_claim(manifest: dict[str, object]) -> bool:
    ref = ObjectRef.of(manifest)
    return ref.kind == "PersistentVolumeClaim" and ref.name == backup_jobs.CLAIM
