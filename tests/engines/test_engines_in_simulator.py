"""Each engine's chart, reconciled for real against the simulator over HTTP with the real
helm: the store reaches Ready, every rendered object exists in the cluster with the store's
labels, and a plan change rolls out a new migration/setup Job and prunes the previous one.

The simulator completes Jobs and readies workloads after a delay and runs no pods; it does not
enforce ResourceQuotas yet, so "a plan too small for its chart fails naming the quota" is not
testable here (see storeplane/sim/__init__.py)."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from storeplane.cluster import connect
from storeplane.domain.plans import PlanName
from storeplane.domain.store import Engine, Phase, Store, StoreSpec, new_store_id
from storeplane.engines import profile_for
from storeplane.reconciler.context import ReconcileContext, Timing
from storeplane.reconciler.reconcile import reconcile_store
from storeplane.render.cache import RenderCache
from storeplane.render.charts import CHARTS_DIR, REPO_ROOT
from storeplane.sim.kubeconfig import write_kubeconfig
from storeplane.sim.runner import RunningSimulator, SimulatorConfig, start_in_thread

os.environ["PATH"] = f"{REPO_ROOT / '.tools' / 'bin'}:{os.environ['PATH']}"
LABEL = "storeplane.dev/store-id"
PATHS = {
    "ConfigMap": "/api/v1/namespaces/{ns}/configmaps",
    "Service": "/api/v1/namespaces/{ns}/services",
    "PersistentVolumeClaim": "/api/v1/namespaces/{ns}/persistentvolumeclaims",
    "Deployment": "/apis/apps/v1/namespaces/{ns}/deployments",
    "StatefulSet": "/apis/apps/v1/namespaces/{ns}/statefulsets",
    "Job": "/apis/batch/v1/namespaces/{ns}/jobs",
    "NetworkPolicy": "/apis/networking.k8s.io/v1/namespaces/{ns}/networkpolicies",
    "Ingress": "/apis/networking.k8s.io/v1/namespaces/{ns}/ingresses",
}
JOB_COMPONENT = {Engine.MEDUSA: "migrate", Engine.WOOCOMMERCE: "setup"}


@pytest.fixture(scope="module")
def sim() -> Iterator[RunningSimulator]:
    with start_in_thread(SimulatorConfig(ready_delay=0.1, terminate_delay=0.1)) as running:
        yield running


@pytest.fixture
async def ctx(sim: RunningSimulator, tmp_path: Path) -> AsyncIterator[ReconcileContext]:
    cluster = connect(write_kubeconfig(tmp_path / "kubeconfig", sim.url))
    timing = Timing(poll=timedelta(milliseconds=50), backoff_base=0.05, backoff_cap=1.0)
    yield ReconcileContext(
        cluster=cluster, renderer=RenderCache(), charts_dir=CHARTS_DIR, timing=timing
    )
    await cluster.close()


async def _until_ready(store: Store, ctx: ReconcileContext) -> Store:
    for _ in range(80):
        store = (await reconcile_store(store, ctx)).store
        if store.phase == Phase.READY:
            return store
        await asyncio.sleep(0.05)
    raise AssertionError(f"{store.id} stuck in {store.phase}: {store.last_error}")


def _live(sim: RunningSimulator, store: Store) -> dict[tuple[str, str], dict[str, object]]:
    live = {}
    with httpx.Client(base_url=sim.url, timeout=10) as kube:
        for kind, path in PATHS.items():
            response = kube.get(path.format(ns=store.namespace))
            response.raise_for_status()
            for item in response.json()["items"]:
                live[(kind, item["metadata"]["name"])] = item
    return live


async def _rendered(store: Store, ctx: ReconcileContext) -> list[dict[str, object]]:
    profile = profile_for(store.spec.engine)
    return await ctx.renderer.render(
        CHARTS_DIR / profile.chart, store.id, store.namespace, profile.values(store, ctx.exposure)
    )


def _job_names(live: dict[tuple[str, str], dict[str, object]], component: str) -> set[str]:
    return {
        name
        for (kind, name), obj in live.items()
        if kind == "Job"
        and obj["metadata"]["labels"].get("app.kubernetes.io/component") == component  # type: ignore[index]
    }


@pytest.mark.parametrize("engine", list(Engine), ids=["a medusa store", "a woocommerce store"])
async def test_every_chart_object_exists_once_the_store_is_ready_and_a_plan_change_rolls_a_new_job(
    sim: RunningSimulator, ctx: ReconcileContext, engine: Engine
) -> None:
    now = datetime.now(UTC)
    store_id = new_store_id()
    store = Store.create(
        StoreSpec(f"sim-{store_id[-6:]}", engine, PlanName.SMALL),
        store_id=store_id,
        url=ctx.exposure.url(store_id),
        now=now,
        deadline=timedelta(minutes=5),
    )
    store = await _until_ready(store, ctx)

    live = _live(sim, store)
    for obj in await _rendered(store, ctx):
        key = (str(obj["kind"]), str(obj["metadata"]["name"]))  # type: ignore[index]
        assert key in live, f"{key} was rendered but is not in the cluster"
        assert live[key]["metadata"]["labels"][LABEL] == store.id  # type: ignore[index]
    component = JOB_COMPONENT[engine]
    (first_job,) = _job_names(live, component)

    bigger = store.with_plan(PlanName.MEDIUM, now=datetime.now(UTC), deadline=timedelta(minutes=5))
    bigger = await _until_ready(bigger, ctx)
    (second_job,) = _job_names(_live(sim, bigger), component)
    assert second_job != first_job, "new resources must make a new Job (a Job cannot change)"
