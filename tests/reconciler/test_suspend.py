"""Suspend: a Ready store goes to Suspended with every workload at zero, its data kept, the
Ingress answering the maintenance page (503) through the simulator's ingress listener, and
drift correction keeping it so. Real helm, the simulator over HTTP, the official kubectl."""

from __future__ import annotations

import json

import httpx
import pytest

from storeplane.domain.conditions import ConditionStatus, ConditionType, get_condition
from storeplane.domain.store import Engine, Phase, Store
from storeplane.sim.runner import RunningSimulator
from tests.reconciler.conftest import Harness, kubectl, suspended

WORKLOADS = {
    Engine.MEDUSA: {
        "deployment/medusa-server",
        "deployment/medusa-worker",
        "deployment/medusa-redis",
        "statefulset/medusa-postgres",
    },
    Engine.WOOCOMMERCE: {"deployment/woocommerce-wordpress", "statefulset/woocommerce-mariadb"},
}


@pytest.fixture
def sim(maintenance_sim: RunningSimulator) -> RunningSimulator:
    return maintenance_sim


def _replicas(harness: Harness, store: Store) -> dict[str, int]:
    listed = json.loads(
        kubectl(harness.kubeconfig, "-n", store.namespace, "get", "deploy,sts", "-o", "json")
    )
    return {
        f"{item['kind'].lower()}/{item['metadata']['name']}": item["spec"]["replicas"]
        for item in listed["items"]
    }


def _front_page(harness: Harness, store: Store) -> httpx.Response:
    """GET / of the store's host, as a browser would reach it through the ingress."""
    assert harness.sim.ingress_url is not None
    host = harness.ctx.exposure.host(store.id)
    return httpx.get(f"{harness.sim.ingress_url}/products?x=1", headers={"Host": host}, timeout=10)


async def _suspend(harness: Harness, engine: Engine) -> Store:
    store = await harness.until(harness.new_store(engine), {Phase.READY}, passes=400)
    return await harness.until(suspended(store, harness.ctx), {Phase.SUSPENDED}, passes=400)


@pytest.mark.parametrize("engine", list(Engine), ids=["a medusa store", "a woocommerce store"])
async def test_a_suspended_store_runs_nothing_keeps_its_data_and_answers_503(
    harness: Harness, engine: Engine
) -> None:
    store = await _suspend(harness, engine)
    replicas = _replicas(harness, store)
    assert {name: replicas[name] for name in WORKLOADS[engine]} == dict.fromkeys(
        WORKLOADS[engine], 0
    )
    assert replicas["deployment/storeplane-maintenance"] == 1
    pods = json.loads(
        kubectl(harness.kubeconfig, "-n", store.namespace, "get", "pods", "-o", "json")
    )
    running = [
        p["metadata"]["name"]
        for p in pods["items"]
        if p["status"].get("phase") not in ("Succeeded", "Failed")
    ]
    assert running and all(name.startswith("storeplane-maintenance-") for name in running)
    # Data stays: the generated credentials and every claim.
    kubectl(harness.kubeconfig, "-n", store.namespace, "get", "secret", "store-credentials")
    claims = kubectl(harness.kubeconfig, "-n", store.namespace, "get", "pvc", "-o", "name")
    assert claims.strip()
    answer = _front_page(harness, store)
    assert answer.status_code == 503
    assert answer.headers["retry-after"] == "300"
    assert f"{store.name} is under maintenance" in answer.text
    reachable = get_condition(store.conditions, ConditionType.STORE_REACHABLE)
    ready = get_condition(store.conditions, ConditionType.READY)
    assert reachable is not None and reachable.reason == "Suspended"
    assert ready is not None and ready.status == ConditionStatus.FALSE
    assert "maintenance page" in ready.message
    assert store.suspended_at is not None
    reasons = harness.reasons(store)
    assert reasons.count("StoreSuspended") == 1


async def test_scaling_a_suspended_store_up_by_hand_is_undone(harness: Harness) -> None:
    store = await _suspend(harness, Engine.MEDUSA)
    kubectl(
        harness.kubeconfig, "-n", store.namespace, "scale", "deploy/medusa-server", "--replicas=2"
    )
    kubectl(
        harness.kubeconfig, "-n", store.namespace, "scale", "sts/medusa-postgres", "--replicas=1"
    )
    assert _replicas(harness, store)["deployment/medusa-server"] == 2
    result = await harness.once(store)
    assert result.store.phase == Phase.SUSPENDED
    replicas = _replicas(harness, store)
    assert replicas["deployment/medusa-server"] == 0
    assert replicas["statefulset/medusa-postgres"] == 0
    restored = [e for e in result.events if e.reason == "DriftCorrected"]
    assert restored and "medusa-server" in restored[0].message
    # Once the pods the scale-up started are gone, it is plainly Suspended again, unannounced.
    store = await harness.until(result.store, {Phase.SUSPENDED}, passes=400)
    settled = await harness.once(store)
    assert settled.store.phase == Phase.SUSPENDED and settled.events == []
    assert harness.reasons(store).count("StoreSuspended") == 1
    assert _front_page(harness, store).status_code == 503
