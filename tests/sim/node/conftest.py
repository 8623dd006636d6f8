"""Fixtures for the local node's tests: a simulator with local runtimes on, shared by a module.

These tests run real processes (Debian's PostgreSQL and redis-server, the Medusa app): a
missing binary fails them with the install command rather than skipping them silently.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from storeplane.sim.runner import RunningSimulator, SimulatorConfig, start_in_thread


@pytest.fixture(scope="module")
def local_sim() -> Iterator[RunningSimulator]:
    """In memory: the node folder is a temporary one, removed when the simulator stops."""
    config = SimulatorConfig(ready_delay=0.1, terminate_delay=0.1, local_runtimes=True)
    with start_in_thread(config) as running:
        yield running


@pytest.fixture
def sim(local_sim: RunningSimulator) -> RunningSimulator:
    return local_sim


@pytest.fixture
def lhttp(sim: RunningSimulator) -> Iterator[httpx.Client]:
    """A client of the module's simulator (``sim``: the shared local one unless a module
    overrides it)."""
    with httpx.Client(base_url=sim.url, timeout=10) as client:
        yield client
