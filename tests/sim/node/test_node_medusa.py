"""A real Medusa store on the local node: the medusa-store chart as storeplane renders it,
applied with kubectl; migration and seed Jobs run for real, the server answers through the
service proxy and the ingress listener, its logs and restarts are a kubelet's.

One pod set for the whole module (it takes a minute or two to migrate, seed and boot): the
tests run in order, the last one deletes it.
"""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from node_helpers import REPO, alive, kubectl, pod, pods, ready, require_runtime
from sim_helpers import wait_until

from storeplane.render import find_helm
from storeplane.sim.kubeconfig import write_kubeconfig
from storeplane.sim.runner import RunningSimulator, SimulatorConfig, start_in_thread

STORE = "shop-medusa"
HOST = f"{STORE}.localhost"
CREDENTIALS = {"db-password": "dbpw4242", "db-root-password": "rootpw4242",
               "admin-password": "adminpw4242", "jwt-secret": "jwt-s3cret",
               "cookie-secret": "cookie-s3cret"}  # fmt: skip


def _b64(value: str) -> str:
    return base64.b64encode(value.encode()).decode()


@pytest.fixture(scope="module")
def medusa_sim() -> Iterator[RunningSimulator]:
    # The runtime's /app is the build of scripts/medusa-local.sh (cached: about a second when
    # nothing changed, a few minutes on a fresh machine).
    built = subprocess.run([str(REPO / "scripts" / "medusa-local.sh"), "install"],
                           capture_output=True, text=True, timeout=1200, check=False)  # fmt: skip
    assert built.returncode == 0, built.stderr[-3000:]
    for image in ("ghcr.io/storeplane/medusa-store:2.21.2", "postgres:16", "redis:7"):
        require_runtime(image)
    config = SimulatorConfig(ready_delay=0.1, terminate_delay=0.1, local_runtimes=True,
                             ingress_port=0)  # fmt: skip
    with start_in_thread(config) as running:
        yield running


@pytest.fixture(scope="module")
def kubeconfig(medusa_sim: RunningSimulator, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_kubeconfig(tmp_path_factory.mktemp("kube") / "config", medusa_sim.url)


@pytest.fixture(scope="module")
def store(
    medusa_sim: RunningSimulator, kubeconfig: Path, tmp_path_factory: pytest.TempPathFactory
) -> str:
    """The store's namespace, with what storeplane creates (Secret, ServiceAccount) and the
    rendered chart applied; returns once both Jobs completed and the server is Ready."""
    values = {"store": {"id": STORE, "name": "Medusa Test Shop", "plan": "small"},
              "baseDomain": "localhost", "ingress": {"className": "nginx"},
              "seed": {"enabled": True, "adminEmail": f"admin@{HOST}"}}  # fmt: skip
    values_file = tmp_path_factory.mktemp("values") / "values.json"
    values_file.write_text(json.dumps(values))
    rendered = subprocess.run(
        [find_helm(), "template", "store", str(REPO / "charts" / "medusa-store"), "--namespace",
         STORE, "-f", str(values_file)], capture_output=True, text=True, check=True, timeout=60,
    ).stdout  # fmt: skip
    manifest = values_file.with_name("store.yaml")
    manifest.write_text(rendered)
    with httpx.Client(base_url=medusa_sim.url, timeout=10) as http:
        assert (
            http.post("/api/v1/namespaces", json={"metadata": {"name": STORE}}).status_code == 201
        )
        http.post(
            f"/api/v1/namespaces/{STORE}/serviceaccounts", json={"metadata": {"name": "store"}}
        )
        http.post(f"/api/v1/namespaces/{STORE}/secrets", json={
            "metadata": {"name": "store-credentials"},
            "data": {k: _b64(v) for k, v in CREDENTIALS.items()}})  # fmt: skip
        applied = kubectl(kubeconfig, "apply", "-n", STORE, "-f", str(manifest))
        assert applied.returncode == 0, applied.stderr

        def done() -> bool:
            jobs = http.get(f"/apis/batch/v1/namespaces/{STORE}/jobs").json()["items"]
            failed = [j for j in jobs if (j.get("status") or {}).get("failed")]
            assert not failed, f"a Job failed: {failed}"
            complete = all((j.get("status") or {}).get("succeeded") == 1 for j in jobs)
            server = pods(http, STORE, "app.kubernetes.io/component=server")
            return bool(jobs) and complete and bool(server) and ready(server[0])

        wait_until(done, timeout=420, interval=1)
    return STORE


def _server(http: httpx.Client) -> dict[str, Any]:
    found = pods(http, STORE, "app.kubernetes.io/component=server")
    assert len(found) == 1
    return found[0]


def test_migration_and_seed_jobs_ran_their_pods_to_completion(
    lhttp: httpx.Client, store: str
) -> None:
    jobs = lhttp.get(f"/apis/batch/v1/namespaces/{store}/jobs").json()["items"]
    assert sorted(j["metadata"]["name"].split("-")[1] for j in jobs) == ["migrate", "seed"]
    for job in jobs:
        assert any(
            c["type"] == "Complete" and c["status"] == "True" for c in job["status"]["conditions"]
        )
        job_pods = pods(lhttp, store, f"job-name={job['metadata']['name']}")
        assert [p["status"]["phase"] for p in job_pods] == ["Succeeded"]
        assert job_pods[0]["spec"]["nodeName"] == "storeplane-local"
    seed = pods(lhttp, store, "app.kubernetes.io/component=seed")[0]["metadata"]["name"]
    log = lhttp.get(
        f"/api/v1/namespaces/{store}/pods/{seed}/log", params={"container": "seed"}
    ).text
    assert "seeded: region" in log


def test_health_is_ok_through_the_service_proxy_for_real(lhttp: httpx.Client, store: str) -> None:
    response = lhttp.get(f"/api/v1/namespaces/{store}/services/medusa-server:http/proxy/health")
    assert (response.status_code, response.text) == (200, "OK")
    assert response.headers["x-storeplane-sim-runtime"] == "local"
    # a real app answers what a stand-in never would: the Store API wants its key
    keyless = lhttp.get(
        f"/api/v1/namespaces/{store}/services/medusa-server:9000/proxy/store/products"
    )
    assert keyless.status_code == 400 and "publishable" in keyless.text.lower()


def test_health_and_the_admin_page_through_the_ingress_listener(
    medusa_sim: RunningSimulator, store: str
) -> None:
    assert medusa_sim.ingress_url is not None
    with httpx.Client(base_url=medusa_sim.ingress_url, timeout=30) as client:
        health = client.get("/health", headers={"Host": f"{HOST}:8080"})
        assert (health.status_code, health.text) == (200, "OK")
        admin = client.get("/app", headers={"Host": HOST}, follow_redirects=True)
        assert admin.status_code == 200 and "<html" in admin.text.lower()
        unknown = client.get("/health", headers={"Host": "nobody.localhost"})
        assert unknown.status_code == 404


def test_kubectl_logs_show_medusas_own_output(
    kubeconfig: Path, lhttp: httpx.Client, store: str
) -> None:
    name = _server(lhttp)["metadata"]["name"]
    logs = kubectl(kubeconfig, "logs", "-n", store, name)
    assert logs.returncode == 0, logs.stderr
    assert "Server is ready on port: 9000" in logs.stdout
    tail = kubectl(kubeconfig, "logs", "-n", store, name, "-c", "server", "--tail", "2")
    assert len(tail.stdout.splitlines()) == 2
    init = kubectl(kubeconfig, "logs", "-n", store, name, "-c", "wait-for-migration")
    assert init.returncode == 0, init.stderr
    wrong = kubectl(kubeconfig, "logs", "-n", store, name, "-c", "nope")
    assert wrong.returncode != 0 and "container nope is not valid" in wrong.stderr


def test_a_sigkilled_server_restarts_and_is_ready_again(
    kubeconfig: Path, lhttp: httpx.Client, store: str
) -> None:
    before = _server(lhttp)
    name = before["metadata"]["name"]
    residue = lhttp.get("/sim/v1/node/residue", params={"namespace": store}).json()
    pid = next(
        p["pid"] for p in residue["processes"] if p["pod"] == name and p["container"] == "server"
    )
    os.kill(pid, signal.SIGKILL)

    def restarted() -> dict[str, Any] | None:
        current = pod(lhttp, store, name)
        status = current["status"]["containerStatuses"][0]
        return current if status["restartCount"] == 1 and ready(current) else None

    after = wait_until(restarted, timeout=180, interval=0.5)
    last = after["status"]["containerStatuses"][0]["lastState"]["terminated"]
    assert last["exitCode"] == 137 and last["reason"] == "Error"
    previous = kubectl(kubeconfig, "logs", "-n", store, name, "--previous")
    assert previous.returncode == 0 and "Server is ready on port: 9000" in previous.stdout
    events = [e for e in lhttp.get(f"/api/v1/namespaces/{store}/events").json()["items"]
              if e["involvedObject"].get("name") == name]  # fmt: skip
    started = [e for e in events if e["reason"] == "Started" and "server" in e["message"]]
    assert started and max(e.get("count", 1) for e in started) >= 2


def test_deleting_the_namespace_leaves_no_process_and_no_folder(
    lhttp: httpx.Client, store: str
) -> None:
    residue = lhttp.get("/sim/v1/node/residue", params={"namespace": store}).json()
    pids = [p["pid"] for p in residue["processes"]]
    folders = residue["folders"]
    assert pids and folders
    assert lhttp.delete(f"/api/v1/namespaces/{store}").status_code == 200

    def gone() -> bool:
        now = lhttp.get("/sim/v1/node/residue", params={"namespace": store}).json()
        return not now["processes"] and not now["folders"]

    wait_until(gone, timeout=90, interval=0.5)
    deadline = time.monotonic() + 10
    while any(alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not [p for p in pids if alive(p)]
    left = {
        f: sorted(str(p.relative_to(f)) for p in Path(f).rglob("*"))
        for f in folders
        if Path(f).exists()
    }
    assert not left


@pytest.fixture
def sim(medusa_sim: RunningSimulator) -> RunningSimulator:
    return medusa_sim
