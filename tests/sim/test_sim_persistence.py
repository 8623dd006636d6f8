"""The state file: a restarted simulator finds the cluster as it left it, timers included."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from sim_helpers import deployment, wait_until

from storeplane.sim.runner import SimulatorConfig, start_in_thread
from storeplane.sim.store import objects
from storeplane.sim.store.objects import ObjectKey, ObjectStore

DEPLOYMENTS = "/apis/apps/v1/namespaces/shop/deployments"


def test_objects_and_resource_version_survive_a_restart(tmp_path: Path) -> None:
    config = SimulatorConfig(state_path=tmp_path / "state.db", ready_delay=0)
    with start_in_thread(config) as sim, httpx.Client(base_url=sim.url) as http:
        http.post("/api/v1/namespaces", json={"metadata": {"name": "shop"}})
        http.post(DEPLOYMENTS, json=deployment("web"))
        wait_until(lambda: http.get(f"{DEPLOYMENTS}/web").json().get("status"))
        before = http.get(f"{DEPLOYMENTS}/web").json()
        list_rv = int(http.get("/api/v1/namespaces").json()["metadata"]["resourceVersion"])

    with start_in_thread(config) as sim, httpx.Client(base_url=sim.url) as http:
        after = http.get(f"{DEPLOYMENTS}/web").json()
        assert after == before
        assert int(http.get("/api/v1/namespaces").json()["metadata"]["resourceVersion"]) == list_rv
        created = http.post(
            "/api/v1/namespaces/shop/configmaps", json={"metadata": {"name": "c"}}
        ).json()
        assert int(created["metadata"]["resourceVersion"]) > list_rv


def test_pending_namespace_termination_and_ready_delay_resume_after_restart(
    tmp_path: Path,
) -> None:
    slow = SimulatorConfig(state_path=tmp_path / "state.db", ready_delay=0.8, terminate_delay=0.8)
    with start_in_thread(slow) as sim, httpx.Client(base_url=sim.url) as http:
        for ns in ("shop", "gone"):
            http.post("/api/v1/namespaces", json={"metadata": {"name": ns}})
        http.post(DEPLOYMENTS, json=deployment("web"))
        http.post("/api/v1/namespaces/gone/secrets", json={"metadata": {"name": "s"}})
        assert http.delete("/api/v1/namespaces/gone").json()["status"]["phase"] == "Terminating"

    with start_in_thread(slow) as sim, httpx.Client(base_url=sim.url) as http:
        still = http.get("/api/v1/namespaces/gone").json()
        assert still["status"]["phase"] == "Terminating"
        assert http.get(f"{DEPLOYMENTS}/web").json()["status"].get("readyReplicas") is None
        wait_until(lambda: http.get("/api/v1/namespaces/gone").status_code == 404)
        assert http.get("/api/v1/secrets").json()["items"] == []
        # The pod's ready timer was saved with it and resumes.
        wait_until(lambda: http.get(f"{DEPLOYMENTS}/web").json()["status"].get("readyReplicas"))


def test_a_simulator_killed_with_sigkill_restarts_with_its_state(tmp_path: Path) -> None:
    state = tmp_path / "state.db"
    kubeconfig = tmp_path / "kubeconfig"

    def launch() -> tuple[subprocess.Popen[str], str]:
        process = subprocess.Popen(
            [sys.executable, "-m", "storeplane.sim", "--state", str(state),
             "--ready-delay", "30", "--terminate-delay", "0.2",
             "--kubeconfig", str(kubeconfig)],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        )  # fmt: skip
        assert process.stdout is not None
        line = process.stdout.readline()
        assert "listening on http://" in line, line
        url = line.rsplit(" ", 1)[-1].strip()
        wait_until(lambda: _up(url), timeout=10)
        return process, url

    process, url = launch()
    try:
        with httpx.Client(base_url=url) as http:
            http.post("/api/v1/namespaces", json={"metadata": {"name": "shop"}})
            http.post(DEPLOYMENTS, json=deployment("web"))
            created = wait_until(
                lambda: (
                    (d := http.get(f"{DEPLOYMENTS}/web").json()).get("status", {}).get("replicas")
                    and d
                )
            )
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.wait(5)
    assert kubeconfig.stat().st_mode & 0o777 == 0o600

    process, url = launch()
    try:
        with httpx.Client(base_url=url) as http:
            assert http.get(f"{DEPLOYMENTS}/web").json() == created
    finally:
        process.terminate()
        process.wait(5)


def _up(url: str) -> bool:
    try:
        return httpx.get(f"{url}/healthz", timeout=0.5).status_code == 200
    except httpx.HTTPError:
        time.sleep(0.05)
        return False


def test_a_state_file_loaded_in_many_batches_holds_every_object_as_stored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "state.db"
    store = ObjectStore(path)
    made = {}
    for n in range(7):
        key = ObjectKey("configmaps", f"ns-{n % 3}", f"cm-{n}")
        made[key] = {
            "metadata": {"name": key.name, "namespace": key.namespace, "labels": {"n": str(n)}},
            "data": {"n": str(n)},
        }
        store.put(key, made[key])
    store.close()
    monkeypatch.setattr(objects, "LOAD_BATCH", 2)  # 4 batches, the last one short
    loaded = ObjectStore(path)
    assert {key: loaded.peek(key) for key in made} == made
    assert [
        o["metadata"]["name"] for o in loaded.list_objects("configmaps", labels_equal=[("n", "4")])
    ] == ["cm-4"]
    loaded.close()
