"""``KubernetesCluster`` against the real simulator over HTTP: every ClusterPort call."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

import pytest

from storeplane.cluster import KubernetesCluster
from storeplane.domain.ports import LiveObject, NamespacePhase, ObjectRef
from tests.cluster.manifests import (
    READY_DELAY,
    config_map,
    deployment,
    namespace,
    service,
    unique,
)

T = TypeVar("T")


async def eventually(
    read: Callable[[], Awaitable[T]], done: Callable[[T], bool], what: str, timeout: float = 10
) -> T:
    """Poll ``read`` until ``done`` holds; fail with the last value after ``timeout``."""
    deadline = time.monotonic() + timeout
    value = await read()
    while not done(value):
        assert time.monotonic() < deadline, f"timed out waiting for {what}; last: {value!r}"
        await asyncio.sleep(0.05)
        value = await read()
    return value


async def owned(cluster: KubernetesCluster, store_id: str, ns: str) -> dict[str, LiveObject]:
    return {obj.ref.name: obj for obj in await cluster.list_owned(store_id, ns)}


async def test_apply_creates_then_updates_as_the_storeplane_field_manager(
    cluster: KubernetesCluster, ns: str
) -> None:
    await cluster.apply(config_map("settings", ns, {"theme": "light"}, store_id="store-a"))
    created = (await owned(cluster, "store-a", ns))["settings"].manifest
    assert created["data"] == {"theme": "light"}
    managers = created["metadata"]["managedFields"]
    assert [(m["manager"], m["operation"]) for m in managers] == [("storeplane", "Apply")]

    await cluster.apply(config_map("settings", ns, {"theme": "dark"}, store_id="store-a"))
    updated = (await owned(cluster, "store-a", ns))["settings"].manifest
    assert updated["data"] == {"theme": "dark"}
    assert updated["metadata"]["uid"] == created["metadata"]["uid"]
    assert updated["metadata"]["resourceVersion"] != created["metadata"]["resourceVersion"]
    assert [m["manager"] for m in updated["metadata"]["managedFields"]] == ["storeplane"]


async def test_apply_of_an_unchanged_object_changes_nothing(
    cluster: KubernetesCluster, ns: str
) -> None:
    manifest = config_map("settings", ns, {"theme": "light"}, store_id="store-a")
    await cluster.apply(manifest)
    before = (await owned(cluster, "store-a", ns))["settings"].manifest
    await cluster.apply(manifest)
    after = (await owned(cluster, "store-a", ns))["settings"].manifest
    assert after["metadata"]["resourceVersion"] == before["metadata"]["resourceVersion"]


async def test_create_if_absent_creates_once_and_never_changes_existing_data(
    cluster: KubernetesCluster, ns: str
) -> None:
    first = config_map("credentials", ns, {"password": "first"}, store_id="store-a")
    second = config_map("credentials", ns, {"password": "second"}, store_id="store-a")
    assert await cluster.create_if_absent(first) is True
    assert await cluster.create_if_absent(second) is False
    assert await cluster.create_if_absent(first) is False
    live = (await owned(cluster, "store-a", ns))["credentials"].manifest
    assert live["data"] == {"password": "first"}


async def test_namespace_status_is_absent_active_then_terminating(
    cluster: KubernetesCluster,
) -> None:
    name = unique("shop")
    absent = await cluster.namespace_status(name)
    assert absent.phase is NamespacePhase.ABSENT
    assert absent.manifest is None

    await cluster.apply(namespace(name, {"storeplane.dev/store-id": "store-a"}))
    active = await cluster.namespace_status(name)
    assert active.phase is NamespacePhase.ACTIVE
    assert active.manifest is not None
    assert active.manifest["metadata"]["labels"]["storeplane.dev/store-id"] == "store-a"

    await cluster.delete(ObjectRef("v1", "Namespace", name))
    terminating = await cluster.namespace_status(name)  # terminate_delay is a minute
    assert terminating.phase is NamespacePhase.TERMINATING
    assert terminating.manifest is not None
    assert terminating.manifest["metadata"]["deletionTimestamp"]


async def test_list_owned_returns_only_the_store_objects_in_its_namespace(
    cluster: KubernetesCluster, ns: str
) -> None:
    other_ns = unique("other")
    await cluster.apply(namespace(other_ns))
    await cluster.apply(config_map("mine", ns, {"a": "1"}, store_id="store-a"))
    await cluster.apply(service("web", ns, "store-a", app="web", port=80))
    await cluster.apply(config_map("theirs", ns, {"a": "1"}, store_id="store-b"))
    await cluster.apply(config_map("unlabelled", ns, {"a": "1"}))
    await cluster.apply(config_map("elsewhere", other_ns, {"a": "1"}, store_id="store-a"))

    live = await cluster.list_owned("store-a", ns)

    assert {obj.ref for obj in live} == {
        ObjectRef("v1", "ConfigMap", "mine", ns),
        ObjectRef("v1", "Service", "web", ns),
    }
    assert len(live) == 2
    assert all(obj.ready and obj.readiness_message == "" for obj in live)
    assert all(obj.manifest["kind"] and obj.manifest["apiVersion"] for obj in live)


async def test_list_owned_reports_a_deployment_not_ready_until_the_ready_delay_passes(
    cluster: KubernetesCluster, ns: str
) -> None:
    started = time.monotonic()
    await cluster.apply(deployment("web", ns, "store-a"))
    first = (await owned(cluster, "store-a", ns))["web"]
    assert first.ref == ObjectRef("apps/v1", "Deployment", "web", ns)
    if time.monotonic() - started < READY_DELAY:  # only meaningful while the delay runs
        assert not first.ready
        assert "replicas ready" in first.readiness_message or "generation" in (
            first.readiness_message
        )

    ready = await eventually(
        lambda: owned(cluster, "store-a", ns),
        lambda objs: objs["web"].ready,
        "the Deployment to become ready",
    )
    assert ready["web"].readiness_message == ""
    assert time.monotonic() - started >= READY_DELAY * 0.9


async def test_delete_removes_an_object_and_an_absent_one_is_not_an_error(
    cluster: KubernetesCluster, ns: str
) -> None:
    await cluster.apply(config_map("settings", ns, {"a": "1"}, store_id="store-a"))
    ref = ObjectRef("v1", "ConfigMap", "settings", ns)
    await cluster.delete(ref)
    assert await cluster.list_owned("store-a", ns) == []
    await cluster.delete(ref)  # already gone
    await cluster.delete(ObjectRef("apps/v1", "Deployment", "never-was", ns))
    await cluster.delete(ObjectRef("v1", "ConfigMap", "x", unique("no-such-namespace")))
    await cluster.delete(ObjectRef("v1", "Namespace", unique("no-such-namespace")))


async def test_find_residue_finds_labelled_objects_in_every_namespace(
    cluster: KubernetesCluster,
) -> None:
    store_id = unique("store")
    home, stray = unique("home"), unique("stray")
    await cluster.apply(namespace(home, {"storeplane.dev/store-id": store_id}))
    await cluster.apply(namespace(stray))
    await cluster.apply(config_map("settings", home, {"a": "1"}, store_id=store_id))
    await cluster.apply(deployment("web", stray, store_id))
    await cluster.apply(config_map("unrelated", stray, {"a": "1"}, store_id="store-other"))

    residue = await cluster.find_residue(store_id)

    assert set(residue) == {
        ObjectRef("v1", "Namespace", home, None),
        ObjectRef("v1", "ConfigMap", "settings", home),
        ObjectRef("apps/v1", "Deployment", "web", stray),
    }
    assert len(residue) == 3
    assert await cluster.find_residue(unique("store-none")) == []


async def test_service_get_answers_503_until_a_selected_workload_is_ready_then_ok(
    cluster: KubernetesCluster, ns: str
) -> None:
    await cluster.apply(service("medusa-server", ns, "store-a", app="server", port=9000))
    await cluster.apply(deployment("medusa-server", ns, "store-a", app="server"))

    early = await cluster.service_get(ns, "medusa-server", 9000, "/health")
    if early.status != 200:  # the sim's ready delay has not passed yet
        assert early.status == 503
        assert json.loads(early.body)["message"] == (
            'no endpoints available for service "medusa-server"'
        )
        assert early.runtime is None

    answer = await eventually(
        lambda: cluster.service_get(ns, "medusa-server", 9000, "/health"),
        lambda answer: answer.status == 200,
        "the health check to pass",
    )
    assert answer.body == "OK"
    # The simulator's stand-in says so, as plain values (CONTRACTS A).
    assert answer.runtime == "simulated"
    assert answer.simulated_images and all(answer.simulated_images)


async def test_service_get_of_a_service_without_workloads_is_unavailable(
    cluster: KubernetesCluster, ns: str
) -> None:
    await cluster.apply(service("lonely", ns, "store-a", app="nobody", port=80))
    answer = await cluster.service_get(ns, "lonely", 80, "health")
    assert answer.status == 503


@pytest.mark.parametrize(
    ("path", "expected"),
    [("/health", "OK"), ("/wp-json/", "{")],
    ids=["a ready medusa server answers OK on /health", "wordpress answers its JSON index"],
)
async def test_service_get_passes_the_path_through(
    cluster: KubernetesCluster, ns: str, path: str, expected: str
) -> None:
    await cluster.apply(service("app", ns, "store-a", app="app", port=80))
    await cluster.apply(deployment("app", ns, "store-a"))
    answer = await eventually(
        lambda: cluster.service_get(ns, "app", 80, path),
        lambda answer: answer.status == 200,
        f"{path} to answer",
    )
    assert answer.body.startswith(expected)
