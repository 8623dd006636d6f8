"""Report a failed migration Job of an engine version upgrade: the store becomes Failed.

Called for ``ReconcileState.MIGRATION_FAILED``. Touches nothing in the cluster: the server
and worker of the running version keep serving, the failed Job and its pods stay for
inspection, and nothing is rolled back (a migration may have changed the schema part way).
The raised TerminalError carries the Job's cause (both versions, pod, container, exit code,
log tail): the reconciler records it as the ``MigrationFailed`` event and ``last_error``, once.
A retry (``POST /stores/{id}/retry``) runs the Job again (``rerun_migration``).
"""

from __future__ import annotations

from storeplane.domain.conditions import Reason
from storeplane.domain.errors import TerminalError
from storeplane.domain.events import Event
from storeplane.domain.state import Decision
from storeplane.domain.store import Store


async def fail_migration(store: Store, decision: Decision) -> list[Event]:
    raise TerminalError(decision.message, reason=Reason.MIGRATION_FAILED)
