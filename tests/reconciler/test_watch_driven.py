"""Watch-driven reconciling: the cache follows the cluster, changes wake the right store, and
a Ready store with nothing to change costs the API server one health check and no writes."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import httpx
import pytest

from storeplane.cluster import connect
from storeplane.cluster.cache import ObjectCache
from storeplane.cluster.watch import ClusterWatcher
from storeplane.domain.store import Phase
from storeplane.sim.kubeconfig import write_kubeconfig
from storeplane.sim.runner import RunningSimulator
from tests.reconciler.conftest import Harness, Watched


def _delta(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    return {
        verb: after.get(verb, 0) - before.get(verb, 0)
        for verb in after
        if after.get(verb, 0) != before.get(verb, 0)
    }


async def test_a_ready_store_with_nothing_to_change_costs_one_health_check(
    watched: Watched,
) -> None:
    store = await watched.harness.until(watched.harness.new_store(), {Phase.READY})
    await asyncio.sleep(0.3)  # let the echoes of our own writes arrive
    before = watched.stats()
    reads_before = watched.cached.live_reads
    result = await watched.harness.once(store)
    after = watched.stats()
    assert result.store.phase == Phase.READY and result.events == []
    # the only call is the engine's health check through the service proxy
    assert _delta(before, after) == {"get": 1}
    assert watched.cached.live_reads == reads_before


async def test_an_object_changed_by_hand_wakes_its_store_and_the_cache_follows(
    watched: Watched,
) -> None:
    store = await watched.harness.until(watched.harness.new_store(), {Phase.READY})
    watched.woken.clear()
    kube = watched.harness.kube
    kube.delete(
        f"/api/v1/namespaces/{store.namespace}/resourcequotas/store-quota"
    ).raise_for_status()
    for _ in range(100):
        if store.id in watched.woken:
            break
        await asyncio.sleep(0.02)
    assert store.id in watched.woken
    healed = await watched.harness.until(store, {Phase.READY})
    assert "DriftCorrected" in watched.harness.reasons(healed)
    assert (
        kube.get(f"/api/v1/namespaces/{store.namespace}/resourcequotas/store-quota").status_code
        == 200
    )


async def test_dropped_watch_connections_are_resumed(
    harness: Harness, sim: RunningSimulator, tmp_path: Path
) -> None:
    httpx.patch(f"{sim.url}/sim/v1/faults", json={"watch_drop_after": 0.3}).raise_for_status()
    inner = connect(write_kubeconfig(tmp_path / "drop-kubeconfig", sim.url))
    woken: list[str] = []
    watcher = ClusterWatcher(inner.client, ObjectCache(), woken.append)
    stop = asyncio.Event()
    task = asyncio.create_task(watcher.run(stop))
    try:
        assert await watcher.wait_synced(10)
        await asyncio.sleep(1.0)
        assert watcher.reconnects > 0, "the simulator never cut a watch: the test proves nothing"
        store = await harness.until(harness.new_store(), {Phase.READY})
        woken.clear()
        harness.kube.delete(
            f"/apis/networking.k8s.io/v1/namespaces/{store.namespace}/networkpolicies/allow-dns"
        ).raise_for_status()
        for _ in range(200):
            if store.id in woken:
                break
            await asyncio.sleep(0.02)
        assert store.id in woken, "a change made while watches were being cut was missed"
    finally:
        httpx.delete(f"{sim.url}/sim/v1/faults").raise_for_status()
        stop.set()
        await task
        await inner.close()


async def test_a_watch_from_a_version_the_server_no_longer_keeps_is_gone_410(
    tmp_path: Path,
) -> None:
    # The watcher reads the stream itself (raw JSON, not lightkube's models): the server's
    # ERROR event must still become lightkube's ApiError with code 410, so that it lists again.
    from lightkube import ApiError

    from storeplane.cluster.cache import STORE_ID_LABEL
    from storeplane.cluster.kinds import NAMESPACE
    from storeplane.sim.runner import SimulatorConfig, start_in_thread

    with start_in_thread(SimulatorConfig(watch_history=2)) as small:
        for n in range(5):
            body = {"metadata": {"name": f"ns-{n}", "labels": {STORE_ID_LABEL: f"s{n}"}}}
            httpx.post(f"{small.url}/api/v1/namespaces", json=body).raise_for_status()
        inner = connect(write_kubeconfig(tmp_path / "small-kubeconfig", small.url))
        watcher = ClusterWatcher(inner.client, ObjectCache(), lambda _: None)
        try:
            with pytest.raises(ApiError) as gone:
                async for _ in watcher._watch(NAMESPACE, "1"):
                    pass
            assert gone.value.status.code == 410
            # From a version it keeps: the changes after it, as plain dicts.
            events = []
            async for event, obj in ClusterWatcher(
                inner.client, ObjectCache(), lambda _: None, server_timeout=1
            )._watch(NAMESPACE, _version_of(small.url, "ns-3")):
                events.append((event, obj))
            assert ("ADDED", "ns-4") in [(e, o["metadata"]["name"]) for e, o in events]
            assert "ns-3" not in [o["metadata"]["name"] for _, o in events]
            assert all(type(o) is dict for _, o in events)
        finally:
            await inner.close()


def _version_of(url: str, namespace: str) -> str:
    return str(
        httpx.get(f"{url}/api/v1/namespaces/{namespace}").json()["metadata"]["resourceVersion"]
    )


async def test_the_first_lists_come_in_pages_and_fill_the_cache_as_one_list_would(
    watched: Watched, tmp_path: Path
) -> None:
    store = await watched.harness.until(watched.harness.new_store(), {Phase.READY})
    await asyncio.sleep(0.3)  # the echoes of our own writes reach the first cache
    inner = connect(write_kubeconfig(tmp_path / "paged-kubeconfig", watched.harness.sim.url))
    paged = ObjectCache()
    watcher = ClusterWatcher(inner.client, paged, lambda _: None, chunk=2)
    before = watched.stats()
    stop = asyncio.Event()
    task = asyncio.create_task(watcher.run(stop))
    try:
        assert await watcher.first_lists(10)
        lists = watched.stats()["get"] - before.get("get", 0)  # a list counts as a get
        # Several pages for the kinds the store has more than two objects of.
        assert lists > len(watcher._kinds), f"{lists} lists: no kind came in pages"
        assert paged.versions(store.id, store.namespace) == watched.cached._cache.versions(
            store.id, store.namespace
        )
        assert len(paged.owned(store.id, store.namespace)) >= 20
    finally:
        stop.set()
        await task
        await inner.close()


async def test_a_cluster_that_refuses_connections_ends_the_wait_for_the_first_lists(
    tmp_path: Path,
) -> None:
    with socket.socket() as free:  # a port nothing listens on
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    inner = connect(write_kubeconfig(tmp_path / "refused-kubeconfig", f"http://127.0.0.1:{port}"))
    watcher = ClusterWatcher(inner.client, ObjectCache(), lambda _: None)
    stop = asyncio.Event()
    task = asyncio.create_task(watcher.run(stop))
    try:
        # Not a timing: without the refusal ending it, the wait would last its 600 s.
        assert await asyncio.wait_for(watcher.first_lists(600), 60) is False
    finally:
        stop.set()
        await task
        await inner.close()
