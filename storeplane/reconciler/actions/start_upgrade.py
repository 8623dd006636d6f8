"""Start an engine version upgrade: apply the new version's migration Job, and only it.

Called for ``ReconcileState.UPGRADE_PENDING`` (the spec asks for another version than the one
the store runs, and that version's migration Job does not exist yet). Server, worker and the
rest of the chart are left as they are: they are rolled out by ``roll_out_upgrade`` once the
Job succeeded, so the store serves the running version meanwhile.
"""

from __future__ import annotations

from storeplane.domain.conditions import Reason
from storeplane.domain.events import Event
from storeplane.domain.ports import ObjectRef
from storeplane.domain.state import Decision
from storeplane.domain.store import Store
from storeplane.reconciler.context import ReconcileContext
from storeplane.reconciler.desired import DesiredState
from storeplane.reconciler.observe import migration_job
from storeplane.reconciler.steps import OBJECTS


async def start_upgrade(
    store: Store, desired: DesiredState, decision: Decision, ctx: ReconcileContext
) -> list[Event]:
    job = migration_job(store, desired)
    if job is None:  # determine_state only names this state when the Job is rendered
        return []
    message = f"{decision.message}{rollout_note(store)} (applied {OBJECTS})"
    async with ctx.steps.step(
        store, Reason.UPGRADE_STARTED, message, applies=[ObjectRef.of(job)]
    ) as step:
        await step.apply(job)
    return step.events


def rollout_note(store: Store) -> str:
    """`` (rollout <id>)`` when a rollout drives the store, so its events name it."""
    return f" (rollout {store.rollout_id})" if store.rollout_id else ""
