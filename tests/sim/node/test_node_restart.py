"""A simulator with local runtimes that is SIGKILLed finds its processes again.

The simulator runs as its own process (``python -m storeplane.sim``) on a state file, so the
test can SIGKILL it. Its containers live in their own sessions and survive it; the next
simulator on the same state file adopts them (pid and start time on disk) instead of
starting them twice, and one on a fresh state file with the same node folder kills them:
nothing is left behind either way.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from node_helpers import alive, pod, ready, require_runtime
from sim_helpers import wait_until


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class SimProcess:
    def __init__(self, state: Path, node_dir: Path, port: int) -> None:
        self.state, self.node_dir, self.port = state, node_dir, port
        self.url = f"http://127.0.0.1:{port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "storeplane.sim", "--port", str(self.port), "--state",
             str(self.state), "--ready-delay", "0.1", "--local-runtimes", "--node-dir",
             str(self.node_dir)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip

        def up() -> bool:
            try:
                return httpx.get(f"{self.url}/readyz", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        wait_until(up, timeout=20, interval=0.1)

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(30)


@pytest.fixture
def sim_process(tmp_path: Path) -> Iterator[SimProcess]:
    require_runtime("redis:7")
    node_dir = Path("/tmp") / f"storeplane-test-node-{os.getpid()}-{tmp_path.name}"
    process = SimProcess(tmp_path / "state.db", node_dir, _free_port())
    yield process
    process.stop()
    import shutil

    shutil.rmtree(node_dir, ignore_errors=True)


def _redis_pod(http: httpx.Client) -> None:
    assert http.post("/api/v1/namespaces", json={"metadata": {"name": "keep"}}).status_code == 201
    body: dict[str, Any] = {"metadata": {"name": "cache"}, "spec": {"containers": [{
        "name": "redis", "image": "redis:7-alpine", "ports": [{"containerPort": 6379}],
        "readinessProbe": {"exec": {"command": ["redis-cli", "ping"]}, "periodSeconds": 1}}]}}  # fmt: skip
    assert http.post("/api/v1/namespaces/keep/pods", json=body).status_code == 201
    wait_until(lambda: ready(pod(http, "keep", "cache")), timeout=20)


def _residue(http: httpx.Client) -> dict[str, Any]:
    return dict(http.get("/sim/v1/node/residue", params={"namespace": "keep"}).json())


def test_a_sigkilled_simulator_adopts_its_running_processes(sim_process: SimProcess) -> None:
    sim_process.start()
    with httpx.Client(base_url=sim_process.url, timeout=10) as http:
        _redis_pod(http)
        done = {"metadata": {"name": "once"}, "spec": {"restartPolicy": "Never", "containers": [
            {"name": "once", "image": "redis:7", "command": ["sh", "-c", "echo ran"]}]}}  # fmt: skip
        assert http.post("/api/v1/namespaces/keep/pods", json=done).status_code == 201
        wait_until(
            lambda: pod(http, "keep", "once")["status"].get("phase") == "Succeeded", timeout=10
        )
        (before,) = _residue(http)["processes"]
    sim_process.kill()
    assert alive(before["pid"]), "the container outlives its simulator"
    sim_process.start()
    with httpx.Client(base_url=sim_process.url, timeout=10) as http:
        (after,) = _residue(http)["processes"]
        assert after == before  # the same process, not a second one
        time.sleep(1.5)  # a probe period: it is still Ready and was never restarted
        current = pod(http, "keep", "cache")
        assert ready(current)
        assert current["status"]["containerStatuses"][0]["restartCount"] == 0
        # a container that had completed is not run again
        assert pod(http, "keep", "once")["status"]["phase"] == "Succeeded"
        assert http.get("/api/v1/namespaces/keep/pods/once/log").text == "ran\n"
        # it still is its kubelet's: deleting the pod stops it
        for name in ("cache", "once"):
            assert http.delete(f"/api/v1/namespaces/keep/pods/{name}").status_code == 200
        wait_until(lambda: not alive(before["pid"]), timeout=10)
        wait_until(lambda: _residue(http) == {"processes": [], "folders": []}, timeout=10)


def test_a_container_that_ended_while_the_simulator_was_down_is_restarted(
    sim_process: SimProcess,
) -> None:
    sim_process.start()
    with httpx.Client(base_url=sim_process.url, timeout=10) as http:
        _redis_pod(http)
        (before,) = _residue(http)["processes"]
    sim_process.kill()
    os.kill(before["pid"], signal.SIGKILL)
    wait_until(lambda: not alive(before["pid"]), timeout=5)
    sim_process.start()
    with httpx.Client(base_url=sim_process.url, timeout=10) as http:

        def restarted() -> dict[str, Any] | None:
            status = pod(http, "keep", "cache")["status"]["containerStatuses"][0]
            return status if status["restartCount"] == 1 and status["ready"] else None

        status = wait_until(restarted, timeout=20)
        assert status["lastState"]["terminated"]["exitCode"] == 137  # learnt from conmon's file
        (after,) = _residue(http)["processes"]
        assert after["pid"] != before["pid"]


def test_a_simulator_on_a_fresh_state_kills_what_it_does_not_know(sim_process: SimProcess) -> None:
    sim_process.start()
    with httpx.Client(base_url=sim_process.url, timeout=10) as http:
        _redis_pod(http)
        (before,) = _residue(http)["processes"]
        folders = _residue(http)["folders"]
    sim_process.kill()
    sim_process.state.unlink()
    sim_process.start()
    wait_until(lambda: not alive(before["pid"]), timeout=10)
    assert not [f for f in folders if Path(f).exists()]
