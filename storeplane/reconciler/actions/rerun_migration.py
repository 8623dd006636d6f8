"""Run a failed upgrade migration again, after a retry: delete the failed Job and its pods.

Called for ``ReconcileState.MIGRATION_RETRY`` (the Job failed, that was reported, and the
store left ``Failed`` because someone retried or changed it). The next step of the same pass
sees the Job absent and ``start_upgrade`` applies it again, so the migration resumes from
whatever the failed attempt left (Medusa's migrations skip what already ran).
"""

from __future__ import annotations

from storeplane.domain.conditions import Reason
from storeplane.domain.events import Event
from storeplane.domain.pods import selects
from storeplane.domain.ports import ObjectRef
from storeplane.domain.state import Decision
from storeplane.domain.store import Store
from storeplane.reconciler.actions.start_upgrade import rollout_note
from storeplane.reconciler.context import ReconcileContext
from storeplane.reconciler.desired import DesiredState
from storeplane.reconciler.observe import migration_job
from storeplane.reconciler.steps import OBJECTS


async def rerun_migration(
    store: Store, desired: DesiredState, decision: Decision, ctx: ReconcileContext
) -> list[Event]:
    job = migration_job(store, desired)
    if job is None:
        return []
    # Its pods too: they carry the same job-name label, and the Job that replaces it must
    # not be judged by the failed attempt's pods. The Job last: a pass interrupted between
    # the two finds the failed Job and retries again.
    live = await ctx.cluster.list_owned(store.id, store.namespace)
    refs = [o.ref for o in live if o.ref.kind == "Pod" and selects(job, o.manifest)]
    refs.append(ObjectRef.of(job))
    message = f"{decision.message}{rollout_note(store)} (deleted {OBJECTS})"
    async with ctx.steps.step(store, Reason.MIGRATION_RETRIED, message, deletes=refs) as step:
        for ref in refs:
            await step.delete(ref)
    return step.events
