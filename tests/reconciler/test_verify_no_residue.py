"""The residue proof asks the simulator's node too (CONTRACTS D): a process still alive for a
store's namespace keeps the store from Deleted, naming the pod, container and pid; a cluster
without the endpoint (a real one) is skipped and the event says so. Against the real
simulator over HTTP, with one container run for real (Debian's redis-server)."""

from __future__ import annotations

import asyncio
import shutil
import socket
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from storeplane.cluster import KubernetesCluster, connect
from storeplane.domain.errors import RetryableError
from storeplane.domain.plans import PlanName
from storeplane.domain.store import Engine, Store, StoreSpec, new_store_id
from storeplane.reconciler.actions.verify_no_residue import verify_no_residue
from storeplane.reconciler.context import ReconcileContext
from storeplane.render.cache import RenderCache
from storeplane.render.charts import CHARTS_DIR
from storeplane.sim.kubeconfig import write_kubeconfig
from storeplane.sim.runner import RunningSimulator, SimulatorConfig, start_in_thread
from tests.reconciler.conftest import NOW

pytestmark = pytest.mark.skipif(
    shutil.which("redis-server") is None, reason="needs Debian's redis-server (scripts/setup.sh)"
)


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSimulator]:
    node = tmp_path_factory.mktemp("node")
    config = SimulatorConfig(ready_delay=0.1, local_runtimes=True, node_dir=node)
    with start_in_thread(config) as running:
        yield running


@pytest.fixture
async def ctx(sim: RunningSimulator, tmp_path: Path) -> AsyncIterator[ReconcileContext]:
    cluster: KubernetesCluster = connect(write_kubeconfig(tmp_path / "kubeconfig", sim.url))
    yield ReconcileContext(cluster=cluster, renderer=RenderCache(), charts_dir=CHARTS_DIR)
    await cluster.close()


def _store() -> Store:
    store_id = new_store_id()
    spec = StoreSpec(f"shop-{store_id[-6:]}", Engine.MEDUSA, PlanName.SMALL)
    return Store.create(spec, store_id=store_id, url=None, now=NOW, deadline=NOW - NOW)


def _free_port() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return str(sock.getsockname()[1])


def _has_endpoint(sim: RunningSimulator) -> bool:
    answer = httpx.get(f"{sim.url}/sim/v1/node/residue", params={"namespace": "x"})
    return answer.status_code != 404


async def test_a_process_still_alive_for_the_namespace_keeps_the_store_from_deleted(
    sim: RunningSimulator, ctx: ReconcileContext
) -> None:
    if not _has_endpoint(sim):
        pytest.skip("this simulator has no /sim/v1/node/residue yet (CONTRACTS D)")
    store = _store()
    with httpx.Client(base_url=sim.url, timeout=10) as kube:
        kube.post("/api/v1/namespaces", json={"metadata": {"name": store.namespace}})
        kube.post(
            f"/api/v1/namespaces/{store.namespace}/pods",
            json={
                "metadata": {"name": "cache"},
                "spec": {
                    "containers": [
                        {"name": "redis", "image": "redis:7", "args": ["--port", _free_port()]}
                    ]
                },
            },
        ).raise_for_status()
        try:
            for _ in range(100):
                pod = kube.get(f"/api/v1/namespaces/{store.namespace}/pods/cache").json()
                if (pod.get("status") or {}).get("phase") == "Running":
                    break
                await asyncio.sleep(0.1)
            # The pod carries no store label, so no object is found: only the node knows.
            with pytest.raises(RetryableError) as leftover:
                await verify_no_residue(store, ctx)
            assert leftover.value.reason == "ResidueFound"
            message = leftover.value.message
            assert f"namespace {store.namespace} is gone but the simulator's node" in message
            assert "cache/redis (pid " in message and "process(es) alive" in message
        finally:
            kube.delete(f"/api/v1/namespaces/{store.namespace}")


async def test_a_namespace_the_node_has_nothing_of_is_verified_saying_what_was_checked(
    sim: RunningSimulator, ctx: ReconcileContext
) -> None:
    clean, events = await verify_no_residue(_store(), ctx)
    assert clean
    (event,) = events
    assert event.reason == "TeardownVerified"
    if _has_endpoint(sim):
        assert "no process and no folder" in event.message
    else:
        assert "processes and folders not checked" in event.message
