"""Resume: a Suspended store is Ready again on the same objects, the maintenance backend is
pruned and the Ingress goes back to the store (simulated workloads, real helm, kubectl)."""

from __future__ import annotations

import json

import pytest

from storeplane.domain.conditions import ConditionStatus
from storeplane.domain.store import Engine, Phase
from storeplane.sim.runner import RunningSimulator
from tests.reconciler.conftest import Harness, kubectl, suspended


@pytest.fixture
def sim(maintenance_sim: RunningSimulator) -> RunningSimulator:
    return maintenance_sim


async def test_a_resumed_store_is_ready_again_on_the_same_claims(harness: Harness) -> None:
    store = await harness.until(harness.new_store(Engine.MEDUSA), {Phase.READY}, passes=400)
    ns = store.namespace
    claims_before = json.loads(kubectl(harness.kubeconfig, "-n", ns, "get", "pvc", "-o", "json"))
    uids = {c["metadata"]["uid"] for c in claims_before["items"]}
    store = await harness.until(suspended(store, harness.ctx), {Phase.SUSPENDED}, passes=400)
    resuming = suspended(store, harness.ctx, False)
    assert resuming.phase == Phase.UPDATING
    store = await harness.until(resuming, {Phase.READY}, passes=400)
    assert all(c.status == ConditionStatus.TRUE for c in store.conditions)
    assert store.suspended_at is None
    claims_after = json.loads(kubectl(harness.kubeconfig, "-n", ns, "get", "pvc", "-o", "json"))
    assert {c["metadata"]["uid"] for c in claims_after["items"]} == uids
    ingress = json.loads(kubectl(harness.kubeconfig, "-n", ns, "get", "ingress", "-o", "json"))
    backend = ingress["items"][0]["spec"]["rules"][0]["http"]["paths"][0]["backend"]
    assert backend["service"]["name"] == "medusa-server"
    leftovers = kubectl(
        harness.kubeconfig, "-n", ns, "get", "deploy,svc,cm", "-l",
        "storeplane.dev/role=maintenance", "-o", "name",
    )  # fmt: skip
    assert leftovers.strip() == ""
    deployments = json.loads(kubectl(harness.kubeconfig, "-n", ns, "get", "deploy", "-o", "json"))
    assert {d["metadata"]["name"]: d["spec"]["replicas"] for d in deployments["items"]} == {
        "medusa-server": 1,
        "medusa-worker": 1,
        "medusa-redis": 1,
    }
    reasons = harness.reasons(store)
    assert reasons.index("StoreSuspended") < reasons.index("StoreResumed")
    assert reasons.count("StoreResumed") == 1
    # Ready again like any store: a further pass converges with nothing to say.
    assert (await harness.once(store)).events == []
