"""Fixtures for the simulator tests: a real server on a free port, and clients for it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from lightkube import AsyncClient, KubeConfig

from storeplane.sim.kubeconfig import write_kubeconfig
from storeplane.sim.runner import RunningSimulator, SimulatorConfig, start_in_thread


@pytest.fixture
def sim_config() -> SimulatorConfig:
    """Override in a test module to run its simulator differently."""
    return SimulatorConfig(ready_delay=0.1, terminate_delay=0.1)


@pytest.fixture
def sim(sim_config: SimulatorConfig) -> Iterator[RunningSimulator]:
    with start_in_thread(sim_config) as running:
        yield running


@pytest.fixture(scope="module")
def shared_sim_config() -> SimulatorConfig:
    """No controllers: nothing gets a status, creates pods or finishes terminating while a
    module runs, so its tests never race a controller's write."""
    return SimulatorConfig(ready_delay=60, terminate_delay=60, controllers=False)


@pytest.fixture(scope="module")
def shared_sim(shared_sim_config: SimulatorConfig) -> Iterator[RunningSimulator]:
    """One simulator for a whole module; a module opts in by overriding ``sim`` with it.
    Its tests then isolate themselves with the ``ns`` fixture."""
    with start_in_thread(shared_sim_config) as running:
        yield running


@pytest.fixture
def http(sim: RunningSimulator) -> Iterator[httpx.Client]:
    # verify=False: plain HTTP anyway, and it skips loading a CA bundle per test.
    with httpx.Client(base_url=sim.url, timeout=5, verify=False) as client:
        yield client


@pytest.fixture
def ns(http: httpx.Client) -> str:
    """A fresh namespace with a generated name, for tests that share a simulator."""
    response = http.post("/api/v1/namespaces", json={"metadata": {"generateName": "test-"}})
    assert response.status_code == 201, response.text
    return str(response.json()["metadata"]["name"])


@pytest.fixture
async def kube(sim: RunningSimulator, tmp_path: Path) -> AsyncIterator[AsyncClient]:
    """lightkube's AsyncClient configured from a kubeconfig the simulator wrote (lightkube
    1.0's ``KubeConfig.from_server`` has no user, which its client refuses)."""
    path = write_kubeconfig(tmp_path / "kubeconfig", sim.url)
    client = AsyncClient(KubeConfig.from_file(path), field_manager="tests")
    try:
        yield client
    finally:
        await client.close()
