"""Shared pieces of the upgrade tests (test_start_upgrade, test_roll_out_upgrade,
test_fail_migration, test_rerun_migration): a harness whose catalogue has versions A, B and
FAILING (tests/engine_catalogues.py), a store Ready at a version, and what its workloads run."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import httpx

from storeplane.cluster import connect
from storeplane.domain.store import Phase, Store
from storeplane.engines.catalogue import load_catalogue
from storeplane.reconciler.context import ReconcileContext, Timing
from storeplane.render.cache import RenderCache
from storeplane.render.charts import CHARTS_DIR
from storeplane.sim.kubeconfig import write_kubeconfig
from storeplane.sim.runner import RunningSimulator
from tests.engine_catalogues import failing_version, write_catalogue
from tests.reconciler.conftest import Harness


@asynccontextmanager
async def upgrade_harness(sim: RunningSimulator, folder: Path) -> AsyncIterator[Harness]:
    kubeconfig = write_kubeconfig(folder / "kubeconfig", sim.url)
    cluster = connect(kubeconfig)
    catalogue = load_catalogue(
        write_catalogue(folder / "catalogue.yaml", extra=(failing_version(),))
    )
    timing = Timing(poll=timedelta(milliseconds=50), backoff_base=0.05, backoff_cap=1.0)
    ctx = ReconcileContext(
        cluster=cluster,
        renderer=RenderCache(),
        charts_dir=CHARTS_DIR,
        timing=timing,
        catalogue=catalogue,
    )
    with httpx.Client(base_url=sim.url, timeout=10) as kube:
        yield Harness(ctx, sim, kube, [], kubeconfig)
    await cluster.close()


async def ready_at(harness: Harness, version: str) -> Store:
    """A new Medusa store, reconciled to Ready at ``version``."""
    store = harness.new_store()
    store = replace(store, spec=replace(store.spec, engine_version=version))
    store = await harness.until(store, {Phase.READY, Phase.FAILED})
    assert (store.phase, store.running_engine_version) == (Phase.READY, version), store.last_error
    return store


def upgraded(harness: Harness, store: Store, version: str) -> Store:
    """The store as ``PATCH {"engine_version": version}`` leaves it."""
    ctx = harness.ctx
    return store.with_engine_version(version, now=ctx.clock(), deadline=ctx.timing.deadline)


def images(harness: Harness, store: Store) -> dict[str, str]:
    """Deployment name -> the image of its first container, as the cluster has it."""
    found = harness.kube.get(f"/apis/apps/v1/namespaces/{store.namespace}/deployments").json()
    return {
        d["metadata"]["name"]: d["spec"]["template"]["spec"]["containers"][0]["image"]
        for d in found["items"]
    }


def jobs(harness: Harness, store: Store) -> dict[str, str]:
    """Job name -> its migrate (or seed) image, for the store's Jobs."""
    found = harness.kube.get(f"/apis/batch/v1/namespaces/{store.namespace}/jobs").json()
    result = {}
    for job in found["items"]:
        spec = job["spec"]["template"]["spec"]
        containers = [*spec.get("initContainers", []), *spec["containers"]]
        medusa = [c["image"] for c in containers if "medusa-store" in c["image"]]
        result[job["metadata"]["name"]] = medusa[0] if medusa else ""
    return result


def messages(harness: Harness, store: Store, reason: str) -> list[str]:
    return [e.message for e in harness.events if e.store_id == store.id and e.reason == reason]
