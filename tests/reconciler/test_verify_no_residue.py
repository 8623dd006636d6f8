"""The residue proof asks the simulator's node too (CONTRACTS D): a process still alive for a
store's namespace keeps the store from Deleted, naming the pod, container and pid; a cluster
without the endpoint (a real one) is skipped and the event says so. Against the real
simulator over HTTP, with one container run for real (Debian's redis-server)."""

from __future__ import annotations

import asyncio
import http.server
import shutil
import socket
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from storeplane.cluster import KubernetesCluster, connect
from storeplane.domain.errors import RetryableError
from storeplane.domain.plans import PlanName
from storeplane.domain.ports import NodeResidue
from storeplane.domain.store import Engine, Phase, Store, StoreSpec, new_store_id
from storeplane.reconciler.actions.verify_no_residue import verify_no_residue
from storeplane.reconciler.context import ReconcileContext, Timing
from storeplane.reconciler.reconcile import reconcile_store
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


async def test_a_process_still_alive_for_the_namespace_keeps_the_store_from_deleted(
    sim: RunningSimulator, ctx: ReconcileContext
) -> None:
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
    assert "every namespace and cluster-scoped kind checked" in event.message
    assert "no process and no folder" in event.message and "simulator's node" in event.message


@pytest.mark.parametrize("status", [404, 403], ids=["no such endpoint", "not allowed to ask"])
async def test_an_api_server_without_the_node_endpoint_gives_no_node_residue(
    tmp_path: Path, status: int
) -> None:
    # Only real clusters answer 404/403 here and none runs on this machine (the simulator
    # always serves the endpoint): a plain HTTP server gives that one answer instead.
    class Refuse(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b'{"kind": "Status", "message": "the server could not find it"}')

        def log_message(self, *_args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Refuse)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    cluster = connect(
        write_kubeconfig(tmp_path / "kubeconfig", f"http://127.0.0.1:{server.server_address[1]}")
    )
    try:
        assert await cluster.node_residue("store-abc12345") is None
    finally:
        await cluster.close()
        server.shutdown()
        server.server_close()


class _RealClusterNode(KubernetesCluster):
    """The simulator's API with the node part answered as a real cluster's would (None):
    stands for a real cluster, which does not run here."""

    async def node_residue(self, namespace: str) -> NodeResidue | None:
        return None


async def test_without_node_residue_the_proof_says_that_part_was_not_checked(
    sim: RunningSimulator, tmp_path: Path
) -> None:
    inner = connect(write_kubeconfig(tmp_path / "kubeconfig", sim.url))
    cluster = _RealClusterNode(inner.client)
    try:
        ctx = ReconcileContext(cluster=cluster, renderer=RenderCache(), charts_dir=CHARTS_DIR)
        clean, (event,) = await verify_no_residue(_store(), ctx)
    finally:
        await cluster.close()
    assert clean and event.reason == "TeardownVerified"
    assert "every namespace and cluster-scoped kind checked" in event.message
    assert "processes and folders not checked" in event.message


async def test_a_deleted_store_waits_for_its_lingering_process_saying_so_once(
    sim: RunningSimulator, tmp_path: Path
) -> None:
    """The namespace is gone while a process that ignores SIGTERM lives out its grace period:
    the store stays Deleting with ResidueFound said once (not once per look), looked at again
    every poll rather than with a growing backoff, and ends Deleted once the node is clean."""
    cluster = connect(write_kubeconfig(tmp_path / "kubeconfig", sim.url))
    timing = Timing(poll=timedelta(milliseconds=100), backoff_base=5.0, backoff_cap=60.0)
    ctx = ReconcileContext(
        cluster=cluster, renderer=RenderCache(), charts_dir=CHARTS_DIR, timing=timing
    )
    store = _store()
    stubborn = {
        "name": "stubborn",
        "image": "redis:7",
        "command": ["sh", "-c", "trap '' TERM; while true; do sleep 0.2; done"],
    }
    try:
        with httpx.Client(base_url=sim.url, timeout=10) as kube:
            kube.post("/api/v1/namespaces", json={"metadata": {"name": store.namespace}})
            kube.post(
                f"/api/v1/namespaces/{store.namespace}/pods",
                json={
                    "metadata": {"name": "stubborn"},
                    "spec": {"terminationGracePeriodSeconds": 3, "containers": [stubborn]},
                },
            ).raise_for_status()
            for _ in range(100):
                pod = kube.get(f"/api/v1/namespaces/{store.namespace}/pods/stubborn").json()
                if (pod.get("status") or {}).get("phase") == "Running":
                    break
                await asyncio.sleep(0.1)
        current = replace(store, phase=Phase.READY).request_deletion(now=NOW)
        events = []
        delays = []
        for _ in range(200):
            result = await reconcile_store(current, ctx)
            current, events = result.store, events + result.events
            if current.phase == Phase.DELETED:
                break
            if result.error_reason == "ResidueFound":
                delays.append(result.requeue_after)
            await asyncio.sleep(0.1)
    finally:
        await cluster.close()
    assert current.phase == Phase.DELETED, current.last_error
    found = [e for e in events if e.reason == "ResidueFound"]
    assert found, "the lingering process was never seen"
    assert "stubborn/stubborn (pid " in found[0].message
    assert len(found) <= 3  # said when what is left changes, not on every look
    assert delays and all(d == timedelta(seconds=1) for d in delays)  # no growing backoff
    assert events[-2].reason == "TeardownVerified"
