"""What runs a store, read from its health answer through the simulator's real service proxy:
``local`` when the answer came from a process the simulator's node runs (forwarded for real),
``simulated`` when the simulator answered in the engine's place.

The process here is a small Python HTTP server playing Medusa's ``/health``, run by the node
from an operator runtime table (image ``python`` -> Debian's python3): a real Medusa chart takes
minutes to migrate and seed (tests/sim/node/test_node_medusa.py runs that, and the lead's
end-to-end test a whole store)."""

from __future__ import annotations

import asyncio
import json
import shutil
import socket
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from storeplane.cluster import KubernetesCluster, connect
from storeplane.domain.plans import PlanName
from storeplane.domain.store import Engine, Store, StoreSpec, WorkloadRuntime, new_store_id
from storeplane.reconciler.context import ReconcileContext
from storeplane.reconciler.observe import Health, check_health
from storeplane.render.cache import RenderCache
from storeplane.render.charts import CHARTS_DIR
from storeplane.sim.kubeconfig import write_kubeconfig
from storeplane.sim.runner import RunningSimulator, SimulatorConfig, start_in_thread
from tests.reconciler.conftest import NOW

PYTHON = shutil.which("python3")
pytestmark = pytest.mark.skipif(PYTHON is None, reason="needs python3 on PATH")

# Answers /health like Medusa ("OK"), or 500 when its STATUS env says so.
APP = """
import http.server, os
status = int(os.environ.get("STATUS", "200"))
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"OK" if status == 200 else b"broken"
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
http.server.HTTPServer((os.environ["POD_IP"], int(os.environ["PORT"])), H).serve_forever()
"""


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSimulator]:
    base = tmp_path_factory.mktemp("runtime")
    table = base / "runtimes.json"
    table.write_text(
        json.dumps(
            {
                "runtimes": [
                    {
                        "image": "python",
                        "about": "Debian's python3, for this test",
                        "path": [str(Path(str(PYTHON)).parent)],
                        "requires": [str(PYTHON)],
                        "missing": "python3 is missing",
                        "command": ["python3"],
                    }
                ]
            }
        )
    )
    config = SimulatorConfig(ready_delay=0.1, runtimes_file=table, node_dir=base / "node")
    with start_in_thread(config) as running:
        yield running


@pytest.fixture
async def ctx(sim: RunningSimulator, tmp_path: Path) -> AsyncIterator[ReconcileContext]:
    cluster: KubernetesCluster = connect(write_kubeconfig(tmp_path / "kubeconfig", sim.url))
    yield ReconcileContext(cluster=cluster, renderer=RenderCache(), charts_dir=CHARTS_DIR)
    await cluster.close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _store() -> Store:
    store_id = new_store_id()
    spec = StoreSpec(f"shop-{store_id[-6:]}", Engine.MEDUSA, PlanName.SMALL)
    return Store.create(spec, store_id=store_id, url=None, now=NOW, deadline=NOW - NOW)


def _server(kube: httpx.Client, namespace: str, image: str, status: int) -> None:
    """A ``medusa-server`` Service on port 9000 in front of a Deployment of ``image``."""
    port = _free_port()
    kube.post("/api/v1/namespaces", json={"metadata": {"name": namespace}}).raise_for_status()
    kube.post(
        f"/api/v1/namespaces/{namespace}/services",
        json={
            "metadata": {"name": "medusa-server"},
            "spec": {
                "selector": {"app": "server"},
                "ports": [{"port": 9000, "targetPort": port}],
            },
        },
    ).raise_for_status()
    container = {
        "name": "server",
        "image": image,
        "command": ["python3", "-c", APP],
        "env": [
            {"name": "POD_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
            {"name": "PORT", "value": str(port)},
            {"name": "STATUS", "value": str(status)},
        ],
        "ports": [{"containerPort": port}],
        "readinessProbe": {"tcpSocket": {"port": port}, "periodSeconds": 1},
    }
    kube.post(
        f"/apis/apps/v1/namespaces/{namespace}/deployments",
        json={
            "metadata": {"name": "medusa-server"},
            "spec": {
                "replicas": 1,
                "selector": {"matchLabels": {"app": "server"}},
                "template": {
                    "metadata": {"labels": {"app": "server"}},
                    "spec": {"containers": [container]},
                },
            },
        },
    ).raise_for_status()


async def _answered(store: Store, ctx: ReconcileContext) -> Health:
    """The first health answer that came through the proxy (not the 503 before endpoints)."""
    for _ in range(150):
        health = await check_health(store, ctx)
        if health.runtime is not None:
            return health
        await asyncio.sleep(0.1)
    raise AssertionError(f"no answer through the proxy: {health}")


@pytest.mark.parametrize(
    ("image", "status", "reachable", "runtime", "words"),
    [
        ("python:3", 200, True, WorkloadRuntime.LOCAL, "answered HTTP 200"),
        ("python:3", 500, False, WorkloadRuntime.LOCAL, "answered HTTP 500 'broken'"),
        (
            "busybox:1.36",
            200,
            True,
            WorkloadRuntime.SIMULATED,
            "the answer was simulated: no local runtime for busybox:1.36",
        ),
    ],
    ids=[
        "a healthy process run by the node is local",
        "an unhealthy local process is local and unreachable, with its own answer",
        "an image without a local runtime is simulated and says which",
    ],
)
async def test_the_health_answer_says_what_runs_the_store(
    sim: RunningSimulator,
    ctx: ReconcileContext,
    image: str,
    status: int,
    reachable: bool,
    runtime: WorkloadRuntime,
    words: str,
) -> None:
    store = _store()
    with httpx.Client(base_url=sim.url, timeout=10) as kube:
        _server(kube, store.namespace, image, status)
        try:
            health = await _answered(store, ctx)
        finally:
            kube.delete(f"/api/v1/namespaces/{store.namespace}")
    assert (health.reachable, health.runtime) == (reachable, runtime), health
    assert words in health.message, health
    if runtime is WorkloadRuntime.LOCAL:
        assert "simulated" not in health.message
