"""A Ready store whose resync cannot reach the cluster says ``Unknown`` (with the cause and the
last successful observation) instead of staying ``Ready``, once, and recovers by itself; the
process-wide reachability turns down only after two failures in a row."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from storeplane.cluster import connect
from storeplane.domain.conditions import ConditionStatus, ConditionType, Reason, get_condition
from storeplane.domain.reachability import CLUSTER_UNREACHABLE
from storeplane.domain.store import Phase, Store
from storeplane.observability.outages import CLUSTER
from storeplane.reconciler.context import ReconcileContext
from storeplane.reconciler.reconcile import reconcile_store
from storeplane.sim.kubeconfig import write_kubeconfig
from tests.reconciler.conftest import Harness


async def test_a_ready_store_turns_unknown_while_the_cluster_is_unreachable_and_recovers(
    harness: Harness, tmp_path: Path
) -> None:
    store = await harness.until(harness.new_store(), {Phase.READY})
    converged_at = store.updated_at
    # Nobody listens on port 9: connection refused, as when the API server is down.
    dead = connect(write_kubeconfig(tmp_path / "dead", "http://127.0.0.1:9"), timeout=2)
    down = replace(harness.ctx, cluster=dead)
    try:
        first = await _pass(harness, down, store)
        assert CLUSTER.available, "one failed observation must not flip the process state"
        second = await _pass(harness, down, first)
        assert not CLUSTER.available
        assert "127.0.0.1:9" in CLUSTER.state().cause or "connect" in CLUSTER.state().cause.lower()
    finally:
        await dead.close()

    for result in (first, second):
        assert result.phase == Phase.READY
        for type_ in (ConditionType.READY, ConditionType.STORE_REACHABLE):
            condition = get_condition(result.conditions, type_)
            assert condition is not None
            assert condition.status == ConditionStatus.UNKNOWN
            assert condition.reason == CLUSTER_UNREACHABLE
            assert (
                f"last successful observation at {converged_at.isoformat(timespec='seconds')}"
                in condition.message
            )
        assert result.next_reconcile_at is not None
        assert (result.next_reconcile_at - harness.ctx.clock()).total_seconds() <= 10
    warnings = [e for e in harness.events if e.reason == CLUSTER_UNREACHABLE]
    assert len(warnings) == 1, "said once per outage, not once per pass"

    recovered = (await harness.once(second)).store
    assert recovered.phase == Phase.READY
    ready = get_condition(recovered.conditions, ConditionType.READY)
    assert ready is not None and ready.status == ConditionStatus.TRUE
    assert harness.reasons(recovered)[-1] == Reason.RECONCILE_SUCCEEDED
    assert CLUSTER.available


async def _pass(harness: Harness, ctx: ReconcileContext, store: Store) -> Store:
    result = await reconcile_store(store, ctx)
    harness.events += result.events
    return result.store
