"""Fixtures for the simulator tests: a real server on a free port, and clients for it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from lightkube import AsyncClient, KubeConfig

from storeplane.sim.runner import RunningSimulator, SimulatorConfig, start_in_thread


@pytest.fixture
def sim_config() -> SimulatorConfig:
    """Override in a test module to run its simulator differently."""
    return SimulatorConfig(ready_delay=0.1, terminate_delay=0.1)


@pytest.fixture
def sim(sim_config: SimulatorConfig) -> Iterator[RunningSimulator]:
    with start_in_thread(sim_config) as running:
        yield running


@pytest.fixture
def http(sim: RunningSimulator) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sim.url, timeout=5) as client:
        yield client


@pytest.fixture
async def kube(sim: RunningSimulator) -> AsyncIterator[AsyncClient]:
    client = AsyncClient(KubeConfig.from_server(sim.url), field_manager="tests")
    try:
        yield client
    finally:
        await client.close()
