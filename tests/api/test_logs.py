"""``GET /api/v1/stores/{id}/logs`` against the real simulator over HTTP (its pods/log
subresource), with one container run for real by the simulator's node (Debian's
redis-server, image ``redis``) and one it only simulates; on SQLite and PostgreSQL."""

from __future__ import annotations

import shutil
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from storeplane.api.app import create_app
from storeplane.cluster import connect
from storeplane.db import SqlStoreRepository, SqlUserRepository
from storeplane.services import auth
from storeplane.settings import Settings
from storeplane.sim.kubeconfig import write_kubeconfig
from storeplane.sim.runner import RunningSimulator, SimulatorConfig, start_in_thread
from tests.api.conftest import Api

pytestmark = pytest.mark.skipif(
    shutil.which("redis-server") is None, reason="needs Debian's redis-server (scripts/setup.sh)"
)
POD = "cache"


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSimulator]:
    node = tmp_path_factory.mktemp("node")
    with start_in_thread(
        SimulatorConfig(ready_delay=0.1, local_runtimes=True, node_dir=node)
    ) as running:
        yield running


@pytest.fixture
def api(
    migrated_url: str, repo: SqlStoreRepository, sim: RunningSimulator, tmp_path: Path
) -> Iterator[Api]:
    users = SqlUserRepository(repo.engine)
    token = auth.bootstrap_admin(users)
    assert token is not None
    cluster = connect(write_kubeconfig(tmp_path / "kubeconfig", sim.url))
    app = create_app(Settings(database_url=migrated_url), repo, users=users, pod_logs=cluster)
    with TestClient(app, headers={"Authorization": f"Bearer {token}"}) as client:
        yield Api(client=client, repo=repo, users=users, admin_token=token)
        client.portal.call(cluster.close)  # type: ignore[union-attr]


def _free_port() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return str(sock.getsockname()[1])


PODS = {
    # Run for real. Its own port: simulators in other test processes on this machine hand out
    # the same pod addresses (127.1.0.x), so the default 6379 can be taken there.
    POD: [{"name": "redis", "image": "redis:7", "args": ["--port", _free_port()]}],
    "web": [{"name": "web", "image": "busybox:1.36"}],  # simulated
    "pair": [{"name": "app", "image": "busybox:1.36"}, {"name": "proxy", "image": "busybox:1.36"}],
}


def _pods(kube: httpx.Client, namespace: str) -> None:
    kube.post(
        "/api/v1/namespaces",
        json={"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}},
    ).raise_for_status()
    for name, containers in PODS.items():
        kube.post(
            f"/api/v1/namespaces/{namespace}/pods",
            json={
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": name},
                "spec": {"containers": containers},
            },
        ).raise_for_status()


@pytest.fixture
def store(api: Api, sim: RunningSimulator) -> Iterator[dict[str, Any]]:
    created = api.create("log-shop")
    with httpx.Client(base_url=sim.url, timeout=10) as kube:
        _pods(kube, str(created["id"]))
        yield created
        kube.delete(f"/api/v1/namespaces/{created['id']}")


def _logs(api: Api, store: dict[str, Any], **params: Any) -> httpx.Response:
    return api.client.get(f"/api/v1/stores/{store['id']}/logs", params=params)


def test_a_container_run_for_real_shows_what_it_printed(api: Api, store: dict[str, Any]) -> None:
    deadline = time.monotonic() + 30
    while True:
        response = _logs(api, store, pod=POD, container="redis")
        if response.status_code == 200 and "Ready to accept connections" in response.json()["text"]:
            break
        assert time.monotonic() < deadline, response.text
        time.sleep(0.2)
    body = response.json()
    assert (body["store_id"], body["pod"], body["container"], body["tail"]) == (
        store["id"], POD, "redis", 500,
    )  # fmt: skip
    short = _logs(api, store, pod=POD, container="redis", tail=1).json()["text"]
    assert short.count("\n") <= 1 and short.strip() in body["text"]


def test_a_simulated_container_has_no_output(api: Api, store: dict[str, Any]) -> None:
    response = _logs(api, store, pod="web")  # its only container: no need to name it
    assert response.status_code == 200, response.text
    assert response.json()["container"] == "web"
    assert response.json()["text"] == ""


@pytest.mark.parametrize(
    ("params", "status", "words"),
    [
        (
            {},
            400,
            ["the store's pods are: cache (", ": redis); pair (", "app, proxy", "--pod NAME"],
        ),
        ({"pod": "nope"}, 404, ["has no pod 'nope'", "the store's pods are: cache"]),
        ({"pod": "pair"}, 400, ["several containers", "app, proxy"]),
        ({"pod": "pair", "container": "db"}, 404, ["no container 'db'", "app, proxy"]),
        ({"pod": POD, "container": "redis", "tail": 0}, 422, ["tail"]),
    ],
    ids=[
        "no pod lists the store's pods and their containers",
        "an unknown pod lists the ones there are",
        "a pod with several containers needs one named",
        "an unknown container lists the pod's containers",
        "a tail below one is refused",
    ],
)
def test_a_missing_or_unknown_choice_names_the_valid_ones(
    api: Api, store: dict[str, Any], params: dict[str, Any], status: int, words: list[str]
) -> None:
    response = _logs(api, store, **params)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    for word in words:
        assert word in response.json()["detail"]


def test_another_members_store_logs_are_not_found(api: Api, store: dict[str, Any]) -> None:
    bob = api.as_user("bob")
    response = bob.get(f"/api/v1/stores/{store['id']}/logs", params={"pod": POD})
    assert response.status_code == 404 and "not found" in response.json()["detail"]


def test_without_a_cluster_the_logs_are_unavailable(
    migrated_url: str, repo: SqlStoreRepository
) -> None:
    users = SqlUserRepository(repo.engine)
    token = auth.bootstrap_admin(users)
    app = create_app(Settings(database_url=migrated_url), repo, users=users)
    with TestClient(app, headers={"Authorization": f"Bearer {token}"}) as client:
        created = client.post("/api/v1/stores", json={"name": "no-cluster", "engine": "medusa"})
        response = client.get(f"/api/v1/stores/{created.json()['id']}/logs", params={"pod": "x"})
    assert response.status_code == 503
    assert "no cluster connection" in response.json()["detail"]
