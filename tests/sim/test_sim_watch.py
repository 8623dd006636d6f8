"""Watch over real HTTP: initial events, resumption, 410 Expired, selectors, bookmarks,
timeouts; then lightkube's AsyncClient.watch and ``kubectl get -w`` against it."""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from lightkube import AsyncClient
from lightkube.core.exceptions import ApiError as LightkubeApiError
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.core_v1 import ConfigMap, Namespace
from sim_helpers import namespace, wait_until

from storeplane.sim.kubeconfig import write_kubeconfig
from storeplane.sim.runner import RunningSimulator, SimulatorConfig


@pytest.fixture
def sim_config() -> SimulatorConfig:
    return SimulatorConfig(
        ready_delay=60, terminate_delay=60, watch_history=5, watch_bookmark_interval=0.2
    )


def cms(ns: str) -> str:
    return f"/api/v1/namespaces/{ns}/configmaps"


def cm(name: str, labels: dict[str, str] | None = None, **data: str) -> dict[str, Any]:
    return {"metadata": {"name": name, "labels": labels or {}}, "data": data}


@contextlib.contextmanager
def watching(http: httpx.Client, path: str, **params: Any) -> Iterator[Iterator[dict[str, Any]]]:
    """Open a watch; yields an iterator of decoded events. The watch is registered on the
    server once this returns, so changes made afterwards are seen."""
    params = {"watch": "1", **params}
    with http.stream("GET", path, params=params, timeout=5) as response:
        assert response.status_code == 200, response.read()
        assert response.headers["content-type"] == "application/json"
        yield (json.loads(line) for line in response.iter_lines() if line)


def take(events: Iterator[dict[str, Any]], n: int) -> list[tuple[str, str]]:
    """The next ``n`` events as (type, name) pairs."""
    return [(e["type"], e["object"]["metadata"].get("name", "")) for e in _next(events, n)]


def _next(events: Iterator[dict[str, Any]], n: int) -> list[dict[str, Any]]:
    return [next(events) for _ in range(n)]


def test_watch_without_a_version_starts_with_every_object_then_follows_changes(
    http: httpx.Client,
) -> None:
    namespace(http, "shop")
    http.post(cms("shop"), json=cm("a"))
    with watching(http, cms("shop")) as events:
        assert take(events, 1) == [("ADDED", "a")]
        http.post(cms("shop"), json=cm("b"))
        http.patch(
            f"{cms('shop')}/a",
            json={"data": {"k": "v"}},
            headers={"content-type": "application/merge-patch+json"},
        )
        http.delete(f"{cms('shop')}/b")
        seen = _next(events, 3)
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in seen] == [
        ("ADDED", "b"),
        ("MODIFIED", "a"),
        ("DELETED", "b"),
    ]
    assert seen[1]["object"]["data"] == {"k": "v"}
    versions = [int(e["object"]["metadata"]["resourceVersion"]) for e in seen]
    assert versions == sorted(versions)


def test_watch_resumes_after_a_resource_version_without_replaying_older_changes(
    http: httpx.Client,
) -> None:
    namespace(http, "shop")
    first = http.post(cms("shop"), json=cm("a")).json()
    http.post(cms("shop"), json=cm("b"))
    http.post(cms("shop"), json=cm("c"))
    rv = first["metadata"]["resourceVersion"]
    with watching(http, cms("shop"), resourceVersion=rv) as events:
        assert take(events, 2) == [("ADDED", "b"), ("ADDED", "c")]
        http.post(cms("shop"), json=cm("d"))
        assert take(events, 1) == [("ADDED", "d")]


def test_a_version_older_than_the_kept_history_is_410_expired_in_the_stream(
    http: httpx.Client,
) -> None:
    namespace(http, "shop")
    first = http.post(cms("shop"), json=cm("c0")).json()
    for i in range(1, 8):  # the history keeps 5 changes per resource
        http.post(cms("shop"), json=cm(f"c{i}"))
    rv = first["metadata"]["resourceVersion"]
    with watching(http, cms("shop"), resourceVersion=rv) as events:
        event = next(events)
        assert next(events, None) is None  # and the stream ends
    assert event["type"] == "ERROR"
    status = event["object"]
    assert (status["kind"], status["code"], status["reason"]) == ("Status", 410, "Expired")
    assert status["message"].startswith(f"too old resource version: {rv} (")


@pytest.mark.parametrize(
    ("selector", "changes", "expected"),
    [
        (
            {"labelSelector": "tier=web"},
            [("create", "a", {"tier": "web"}), ("create", "b", {"tier": "db"})],
            [("ADDED", "a")],
        ),
        (
            {"labelSelector": "tier=web"},
            [("create", "a", {"tier": "db"}), ("label", "a", {"tier": "web"})],
            [("ADDED", "a")],
        ),
        (
            {"labelSelector": "tier=web"},
            [("create", "a", {"tier": "web"}), ("label", "a", {"tier": "db"})],
            [("ADDED", "a"), ("DELETED", "a")],
        ),
        (
            {"labelSelector": "tier in (web,db),!canary"},
            [("create", "a", {"tier": "db", "canary": "1"}), ("create", "b", {"tier": "db"})],
            [("ADDED", "b")],
        ),
        (
            {"fieldSelector": "metadata.name=b"},
            [("create", "a", {}), ("create", "b", {}), ("label", "b", {"x": "y"})],
            [("ADDED", "b"), ("MODIFIED", "b")],
        ),
    ],
    ids=[
        "a label selector only sees matching objects",
        "an object labelled into the selection arrives as ADDED",
        "an object labelled out of the selection leaves as DELETED",
        "set-based and does-not-exist requirements filter the stream",
        "a field selector on the name follows one object",
    ],
)
def test_watch_selectors(
    http: httpx.Client,
    selector: dict[str, str],
    changes: list[tuple[str, str, dict[str, str]]],
    expected: list[tuple[str, str]],
) -> None:
    namespace(http, "shop")
    with watching(http, cms("shop"), **selector) as events:
        for action, name, labels in changes:
            if action == "create":
                http.post(cms("shop"), json=cm(name, labels))
            else:
                http.patch(
                    f"{cms('shop')}/{name}",
                    json={"metadata": {"labels": labels}},
                    headers={"content-type": "application/strategic-merge-patch+json"},
                )
        http.post(cms("shop"), json=cm("zz-end", {"tier": "web"}))  # a marker
        seen = []
        for event in events:
            name = event["object"]["metadata"]["name"]
            if name == "zz-end":
                break
            seen.append((event["type"], name))
            if len(seen) == len(expected) and "fieldSelector" in selector:
                break
    assert seen == expected


def test_watch_on_one_namespace_ignores_the_others_and_all_namespaces_sees_both(
    http: httpx.Client,
) -> None:
    namespace(http, "one")
    namespace(http, "two")
    with (
        watching(http, cms("one")) as one,
        watching(http, "/api/v1/configmaps") as everywhere,
    ):
        http.post(cms("two"), json=cm("x"))
        http.post(cms("one"), json=cm("y"))
        assert take(one, 1) == [("ADDED", "y")]
        assert take(everywhere, 2) == [("ADDED", "x"), ("ADDED", "y")]


def test_bookmarks_carry_the_latest_version_when_allowed(http: httpx.Client) -> None:
    namespace(http, "shop")
    with watching(http, cms("shop"), allowWatchBookmarks="true") as events:
        created = http.post(cms("shop"), json=cm("a")).json()
        assert take(events, 1) == [("ADDED", "a")]
        bookmark = next(events)
    assert bookmark["type"] == "BOOKMARK"
    assert bookmark["object"]["kind"] == "ConfigMap"
    rv = int(bookmark["object"]["metadata"]["resourceVersion"])
    assert rv >= int(created["metadata"]["resourceVersion"])


def test_send_initial_events_ends_them_with_an_annotated_bookmark(http: httpx.Client) -> None:
    namespace(http, "shop")
    http.post(cms("shop"), json=cm("a"))
    params = {
        "allowWatchBookmarks": "true",
        "sendInitialEvents": "true",
        "resourceVersionMatch": "NotOlderThan",
    }
    with watching(http, cms("shop"), **params) as events:
        added, bookmark = _next(events, 2)
    assert added["type"] == "ADDED"
    assert bookmark["type"] == "BOOKMARK"
    assert bookmark["object"]["metadata"]["annotations"] == {"k8s.io/initial-events-end": "true"}


def test_timeout_seconds_ends_the_stream_cleanly(http: httpx.Client) -> None:
    namespace(http, "shop")
    started = time.monotonic()
    with watching(http, cms("shop"), timeoutSeconds="1") as events:
        assert list(events) == []
    assert 0.9 <= time.monotonic() - started < 3


def test_watch_of_a_single_object_url_is_refused(http: httpx.Client) -> None:
    namespace(http, "shop")
    response = http.get(f"{cms('shop')}/a", params={"watch": "true"})
    assert response.status_code == 405


def test_watch_rejects_a_malformed_resource_version(http: httpx.Client) -> None:
    response = http.get("/api/v1/namespaces", params={"watch": "1", "resourceVersion": "x"})
    assert response.status_code == 400
    assert response.json()["reason"] == "BadRequest"


# --- lightkube ---------------------------------------------------------------------------


async def test_lightkube_watch_sees_changes_and_resumes(kube: AsyncClient) -> None:
    await kube.create(Namespace(metadata=ObjectMeta(name="shop")))
    await kube.create(ConfigMap(metadata=ObjectMeta(name="a")), namespace="shop")

    async def collect(resource_version: str | None, n: int) -> list[tuple[str, str]]:
        seen: list[tuple[str, str]] = []
        async for event, obj in kube.watch(
            ConfigMap, namespace="shop", resource_version=resource_version
        ):
            assert obj.metadata is not None and obj.metadata.name is not None
            seen.append((event, obj.metadata.name))
            if len(seen) == n:
                break
        return seen

    task = asyncio.create_task(collect(None, 3))
    await asyncio.sleep(0.1)
    b = await kube.create(ConfigMap(metadata=ObjectMeta(name="b")), namespace="shop")
    await kube.delete(ConfigMap, "a", namespace="shop")
    assert await asyncio.wait_for(task, 5) == [("ADDED", "a"), ("ADDED", "b"), ("DELETED", "a")]

    assert b.metadata is not None and b.metadata.resourceVersion is not None
    resumed = await asyncio.wait_for(collect(b.metadata.resourceVersion, 1), 5)
    assert resumed == [("DELETED", "a")]


async def test_lightkube_watch_raises_410_for_an_expired_version(kube: AsyncClient) -> None:
    await kube.create(Namespace(metadata=ObjectMeta(name="shop")))
    for i in range(8):
        await kube.create(ConfigMap(metadata=ObjectMeta(name=f"c{i}")), namespace="shop")
    with pytest.raises(LightkubeApiError) as info:
        async for _ in kube.watch(ConfigMap, namespace="shop", resource_version="1"):
            pass
    assert info.value.status.code == 410
    assert info.value.status.reason == "Expired"


# --- kubectl -----------------------------------------------------------------------------

KUBECTL = shutil.which("kubectl")


@pytest.mark.skipif(KUBECTL is None, reason="kubectl is not on PATH")
def test_kubectl_get_watch_prints_new_objects(
    sim: RunningSimulator, http: httpx.Client, tmp_path: Path
) -> None:
    assert KUBECTL is not None
    config = write_kubeconfig(tmp_path / "kubeconfig", sim.url)
    namespace(http, "shop")
    http.post(cms("shop"), json=cm("first"))
    out = tmp_path / "out.txt"
    with out.open("w") as sink:
        proc = subprocess.Popen(
            [KUBECTL, "--kubeconfig", str(config), "get", "configmaps", "-n", "shop", "-w"],
            stdout=sink,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            wait_until(lambda: "first" in out.read_text(), timeout=10)
            wait_until(lambda: sim_watchers(http) >= 1, timeout=10)
            http.post(cms("shop"), json=cm("second"))
            wait_until(lambda: "second" in out.read_text(), timeout=10)
        finally:
            proc.terminate()
            proc.wait(10)
    assert "error" not in out.read_text().lower()


def sim_watchers(http: httpx.Client) -> int:
    return int(http.get("/sim/v1/stats").json()["watchers"])


def test_a_closed_watch_is_unregistered_at_once(http: httpx.Client) -> None:
    namespace(http, "shop")
    with watching(http, cms("shop")):
        assert sim_watchers(http) == 1
    wait_until(lambda: sim_watchers(http) == 0, timeout=2)
