"""Fixtures of the cluster adapter tests: a real simulator over HTTP and the adapter on it.

One simulator serves a whole module (tests isolate themselves with a fresh namespace each);
its namespaces stay Terminating for a minute after a delete so that state can be observed,
and its workloads become ready after ``READY_DELAY`` seconds.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from storeplane.cluster import KubernetesCluster, connect
from storeplane.sim.kubeconfig import write_kubeconfig
from storeplane.sim.runner import RunningSimulator, SimulatorConfig, start_in_thread
from tests.cluster.manifests import READY_DELAY, namespace, unique


@pytest.fixture(scope="module")
def sim() -> Iterator[RunningSimulator]:
    with start_in_thread(SimulatorConfig(ready_delay=READY_DELAY, terminate_delay=60)) as running:
        yield running


@pytest.fixture(scope="module")
def kubeconfig(sim: RunningSimulator, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_kubeconfig(tmp_path_factory.mktemp("kube") / "kubeconfig", sim.url)


@pytest.fixture
async def cluster(kubeconfig: Path) -> AsyncIterator[KubernetesCluster]:
    adapter = connect(kubeconfig)
    try:
        yield adapter
    finally:
        await adapter.close()


@pytest.fixture
async def ns(cluster: KubernetesCluster) -> str:
    """A fresh, active namespace created through the adapter."""
    name = unique("test")
    await cluster.apply(namespace(name))
    return name
