"""A reconcile context wired to a real simulator over HTTP and the real helm binary."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from storeplane.cluster import KubernetesCluster, connect
from storeplane.cluster.cache import ObjectCache
from storeplane.cluster.cached import CachedCluster
from storeplane.cluster.watch import ClusterWatcher
from storeplane.domain.events import Event
from storeplane.domain.plans import PlanName
from storeplane.domain.store import Engine, Phase, Store, StoreSpec, new_store_id
from storeplane.reconciler.context import ReconcileContext, Timing
from storeplane.reconciler.converged import ConvergedMemo
from storeplane.reconciler.reconcile import PassResult, reconcile_store
from storeplane.render.cache import RenderCache
from storeplane.render.charts import CHARTS_DIR
from storeplane.sim.kubeconfig import write_kubeconfig
from storeplane.sim.node import images
from storeplane.sim.runner import RunningSimulator, SimulatorConfig, start_in_thread

REPO = Path(__file__).resolve().parents[2]
os.environ["PATH"] = f"{REPO / '.tools' / 'bin'}:{os.environ['PATH']}"


@pytest.fixture(scope="module")
def sim() -> Iterator[RunningSimulator]:
    with start_in_thread(SimulatorConfig(ready_delay=0.2, terminate_delay=0.1)) as running:
        yield running


@dataclass
class Harness:
    ctx: ReconcileContext
    sim: RunningSimulator
    kube: httpx.Client
    events: list[Event]
    kubeconfig: Path

    def new_store(self, engine: Engine = Engine.MEDUSA, plan: PlanName = PlanName.SMALL) -> Store:
        store_id = new_store_id()
        return Store.create(
            StoreSpec(f"shop-{store_id[-6:]}", engine, plan),
            store_id=store_id,
            url=self.ctx.exposure.url(store_id),
            now=self.ctx.clock(),
            deadline=self.ctx.timing.deadline,
        )

    async def once(self, store: Store) -> PassResult:
        result = await reconcile_store(store, self.ctx)
        self.events += result.events
        return result

    async def until(self, store: Store, phases: set[Phase], passes: int = 60) -> Store:
        """Reconcile pass after pass (as the loop would) until the store is in ``phases``."""
        for _ in range(passes):
            store = (await self.once(store)).store
            if store.phase in phases:
                return store
            await asyncio.sleep(0.05)
        raise AssertionError(
            f"{store.id} stuck in {store.phase}: {store.last_error or store.conditions}"
        )

    def reasons(self, store: Store) -> list[str]:
        return [e.reason for e in self.events if e.store_id == store.id]


@pytest.fixture
async def harness(sim: RunningSimulator, tmp_path: Path) -> AsyncIterator[Harness]:
    cluster: KubernetesCluster = connect(write_kubeconfig(tmp_path / "kubeconfig", sim.url))
    timing = Timing(poll=timedelta(milliseconds=50), backoff_base=0.05, backoff_cap=1.0)
    ctx = ReconcileContext(
        cluster=cluster, renderer=RenderCache(), charts_dir=CHARTS_DIR, timing=timing
    )
    with httpx.Client(base_url=sim.url, timeout=10) as kube:
        yield Harness(ctx, sim, kube, [], tmp_path / "kubeconfig")
    await cluster.close()


def at(ctx: ReconcileContext, when: datetime) -> ReconcileContext:
    return replace(ctx, clock=lambda: when)


NOW = datetime.now(UTC)


# The built-in runtime table's python entry alone: a suspended store's maintenance page runs
# for real (this machine's python3), every engine container stays simulated.
def _python_only_table(folder: Path) -> Path:
    table = json.loads((Path(images.__file__).parent / "runtimes.json").read_text())
    python = [entry for entry in table["runtimes"] if entry["image"] == "python"]
    path = folder / "runtimes.json"
    path.write_text(json.dumps({"runtimes": python}))
    return path


@pytest.fixture(scope="module")
def maintenance_sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSimulator]:
    """A simulator whose node runs the maintenance page, with its ingress listener on."""
    table = _python_only_table(tmp_path_factory.mktemp("table"))
    config = SimulatorConfig(
        ready_delay=0.2, terminate_delay=0.1, runtimes_file=table, ingress_port=0
    )
    with start_in_thread(config) as running:
        yield running


def kubectl(kubeconfig: Path, *args: str) -> str:
    """The official kubectl against the simulator; a failure fails the test with its stderr."""
    found = shutil.which("kubectl") or str(REPO / ".tools" / "bin" / "kubectl")
    done = subprocess.run(
        [found, "--kubeconfig", str(kubeconfig), *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, f"kubectl {' '.join(args)}: {done.stderr}"
    return done.stdout


def suspended(store: Store, ctx: ReconcileContext, value: bool = True) -> Store:
    """The store as ``POST .../suspend`` (or resume) leaves it."""
    return store.with_suspended(value, now=ctx.clock(), deadline=ctx.timing.deadline)


@dataclass
class FailingSim:
    """A simulator whose node runs the FAILING Medusa version's migration as a real process
    (tests/engine_catalogues.py): ``db:migrate`` exits 1 until ``fixed`` exists."""

    sim: RunningSimulator
    fixed: Path


@pytest.fixture(scope="session")
def failing_sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FailingSim]:
    from tests.engine_catalogues import failing_runtime

    folder = tmp_path_factory.mktemp("failing-medusa")
    fixed = folder / "fixed"
    config = SimulatorConfig(
        ready_delay=0.2, terminate_delay=0.1, runtimes_file=failing_runtime(folder, fixed)
    )
    with start_in_thread(config) as running:
        yield FailingSim(running, fixed)


@dataclass
class Watched:
    harness: Harness
    cached: CachedCluster
    watcher: ClusterWatcher
    woken: list[str]
    inner: KubernetesCluster
    stop: asyncio.Event
    task: asyncio.Task[None]

    def stats(self) -> dict[str, int]:
        return dict(httpx.get(f"{self.harness.sim.url}/sim/v1/stats").json()["requests"])

    async def go_down(self) -> None:
        """Stop the watch, as a control plane that stops (nothing more reaches its cache)."""
        self.stop.set()
        await self.task

    async def restart(self) -> None:
        """Come back as a restarted control plane would: an empty cache filled by first lists,
        no converged memo in memory (what the stores' rows keep is all that is left)."""
        if not self.stop.is_set():
            await self.go_down()
        cache = ObjectCache()
        self.watcher = ClusterWatcher(self.inner.client, cache, self.woken.append)
        self.cached = CachedCluster(self.inner, cache, self.watcher)
        self.harness.ctx = replace(self.harness.ctx, cluster=self.cached, converged=ConvergedMemo())
        self.stop = asyncio.Event()
        self.task = asyncio.create_task(self.watcher.run(self.stop))
        assert await self.watcher.wait_synced(10), "the watcher never listed every kind"


@pytest.fixture
async def watched(
    harness: Harness, sim: RunningSimulator, tmp_path: Path
) -> AsyncIterator[Watched]:
    inner = connect(write_kubeconfig(tmp_path / "watch-kubeconfig", sim.url))
    cache = ObjectCache()
    woken: list[str] = []
    watcher = ClusterWatcher(inner.client, cache, woken.append)
    cached = CachedCluster(inner, cache, watcher)
    harness.ctx = replace(harness.ctx, cluster=cached)
    stop = asyncio.Event()
    task = asyncio.create_task(watcher.run(stop))
    assert await watcher.wait_synced(10), "the watcher never listed every kind"
    watched = Watched(harness, cached, watcher, woken, inner, stop, task)
    yield watched
    watched.stop.set()
    await watched.task
    await inner.close()
