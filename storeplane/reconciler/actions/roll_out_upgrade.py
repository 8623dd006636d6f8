"""Roll out an engine version upgrade once its migration Job succeeded.

Called for ``ReconcileState.UPGRADE_ROLLOUT``: records ``MigrationSucceeded`` (both versions,
the Job) and applies what the gate held back (server, worker, seed Job...) and prunes what the
new version no longer renders (the previous version's migration Job), as ``apply_workloads``
does. The upgrade completes (``UpgradeCompleted``) when the store converges at the new version.
"""

from __future__ import annotations

from storeplane.domain.conditions import Reason
from storeplane.domain.events import Event
from storeplane.domain.state import Decision, Observation
from storeplane.domain.store import Store
from storeplane.reconciler.actions._events import normal
from storeplane.reconciler.actions.apply_workloads import apply_workloads
from storeplane.reconciler.actions.start_upgrade import rollout_note
from storeplane.reconciler.context import ReconcileContext
from storeplane.reconciler.desired import DesiredState


async def roll_out_upgrade(
    store: Store,
    desired: DesiredState,
    observed: Observation,
    decision: Decision,
    ctx: ReconcileContext,
) -> list[Event]:
    # No cluster write of its own: a plain event (apply_workloads records its steps). Said
    # when the server and worker are rolled out (their Deployments change to the new image),
    # not again for a later pass that only re-applies a Job the cluster changed.
    events = []
    if any(ref.kind == "Deployment" for ref in observed.workloads_out_of_sync):
        message = decision.message + rollout_note(store)
        events.append(normal(store, ctx, Reason.MIGRATION_SUCCEEDED, message))
    return events + await apply_workloads(store, desired, observed, ctx)
