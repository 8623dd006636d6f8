"""Object semantics: JSON patch, ownerReferences and garbage collection per
propagationPolicy, deletion preconditions, namespace termination with finalizers and the
``/finalize`` subresource, deletecollection."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest
from lightkube import AsyncClient
from lightkube.models.meta_v1 import ObjectMeta, OwnerReference
from lightkube.resources.core_v1 import ConfigMap, Namespace
from lightkube.types import CascadeType
from sim_helpers import namespace, wait_until

from storeplane.sim.kubeconfig import write_kubeconfig
from storeplane.sim.runner import RunningSimulator, SimulatorConfig

JSON_PATCH = {"content-type": "application/json-patch+json"}
MERGE = {"content-type": "application/merge-patch+json"}


@pytest.fixture
def sim_config() -> SimulatorConfig:
    return SimulatorConfig(ready_delay=60, terminate_delay=0.05)


def cms(ns: str = "shop") -> str:
    return f"/api/v1/namespaces/{ns}/configmaps"


def make(http: httpx.Client, name: str, *owners: dict[str, Any], **meta: Any) -> dict[str, Any]:
    refs = [
        {"apiVersion": "v1", "kind": "ConfigMap", "name": o["metadata"]["name"],
         "uid": o["metadata"]["uid"]}
        for o in owners
    ]  # fmt: skip
    body = {"metadata": {"name": name, **({"ownerReferences": refs} if refs else {}), **meta}}
    response = http.post(cms(), json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


def exists(http: httpx.Client, name: str) -> bool:
    return http.get(f"{cms()}/{name}").status_code == 200


# --- JSON patch --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("operations", "expected"),
    [
        ([{"op": "add", "path": "/data/b", "value": "2"}], {"a": "1", "b": "2"}),
        ([{"op": "replace", "path": "/data/a", "value": "9"}], {"a": "9"}),
        ([{"op": "remove", "path": "/data/a"}], {}),
        ([{"op": "move", "from": "/data/a", "path": "/data/z"}], {"z": "1"}),
        ([{"op": "copy", "from": "/data/a", "path": "/data/c"}], {"a": "1", "c": "1"}),
        (
            [
                {"op": "test", "path": "/data/a", "value": "1"},
                {"op": "add", "path": "/data/t", "value": "ok"},
            ],
            {"a": "1", "t": "ok"},
        ),
    ],
    ids=[
        "add puts a new key",
        "replace changes a value",
        "remove deletes a key",
        "move renames a key",
        "copy duplicates a value",
        "a passing test lets the rest apply",
    ],
)
def test_json_patch_operations(
    http: httpx.Client, operations: list[dict[str, Any]], expected: dict[str, str] | None
) -> None:
    namespace(http, "shop")
    http.post(cms(), json={"metadata": {"name": "c"}, "data": {"a": "1"}})
    response = http.patch(f"{cms()}/c", json=operations, headers=JSON_PATCH)
    assert response.status_code == 200, response.text
    assert response.json().get("data") == expected


@pytest.mark.parametrize(
    "operations",
    [
        [{"op": "test", "path": "/data/a", "value": "2"}],
        [{"op": "remove", "path": "/data/missing"}],
        [{"op": "replace", "path": "/spec/replicas"}],
    ],
    ids=[
        "a failing test refuses the whole patch",
        "removing a missing path is refused",
        "replace without a value is refused",
    ],
)
def test_json_patch_errors_are_422_and_change_nothing(
    http: httpx.Client, operations: list[dict[str, Any]]
) -> None:
    namespace(http, "shop")
    http.post(cms(), json={"metadata": {"name": "c"}, "data": {"a": "1"}})
    response = http.patch(f"{cms()}/c", json=operations, headers=JSON_PATCH)
    assert response.status_code == 422
    assert response.json()["reason"] == "Invalid"
    assert http.get(f"{cms()}/c").json()["data"] == {"a": "1"}


# --- garbage collection ------------------------------------------------------------------


def test_background_deletion_removes_dependents_and_their_dependents(http: httpx.Client) -> None:
    namespace(http, "shop")
    owner = make(http, "owner")
    child = make(http, "child", owner)
    make(http, "grandchild", child)
    make(http, "stranger")
    http.delete(f"{cms()}/owner", params={"propagationPolicy": "Background"})
    assert [exists(http, n) for n in ("owner", "child", "grandchild", "stranger")] == [
        False, False, False, True,
    ]  # fmt: skip


def test_a_dependent_with_another_live_owner_only_loses_the_reference(
    http: httpx.Client,
) -> None:
    namespace(http, "shop")
    first, second = make(http, "first"), make(http, "second")
    make(http, "shared", first, second)
    http.delete(f"{cms()}/first")
    refs = http.get(f"{cms()}/shared").json()["metadata"]["ownerReferences"]
    assert [r["name"] for r in refs] == ["second"]


def test_orphan_deletion_keeps_dependents_without_the_reference(http: httpx.Client) -> None:
    namespace(http, "shop")
    owner = make(http, "owner")
    make(http, "child", owner)
    http.request("DELETE", f"{cms()}/owner", json={"propagationPolicy": "Orphan"})
    assert not exists(http, "owner")
    assert "ownerReferences" not in http.get(f"{cms()}/child").json()["metadata"]


def test_foreground_deletion_waits_for_dependents_with_finalizers(http: httpx.Client) -> None:
    namespace(http, "shop")
    owner = make(http, "owner")
    make(http, "held", owner, finalizers=["example.com/hold"])
    response = http.request("DELETE", f"{cms()}/owner", json={"propagationPolicy": "Foreground"})
    assert response.status_code == 200
    lingering = http.get(f"{cms()}/owner").json()
    assert lingering["metadata"]["finalizers"] == ["foregroundDeletion"]
    assert lingering["metadata"]["deletionTimestamp"]
    assert http.get(f"{cms()}/held").json()["metadata"]["deletionTimestamp"]

    http.patch(f"{cms()}/held", json={"metadata": {"finalizers": None}}, headers=MERGE)
    assert not exists(http, "held")
    assert not exists(http, "owner")


def test_jobs_orphan_their_dependents_by_default_as_the_batch_api_does(
    http: httpx.Client,
) -> None:
    namespace(http, "shop")
    job = http.post(
        "/apis/batch/v1/namespaces/shop/jobs",
        json={
            "metadata": {"name": "migrate"},
            "spec": {
                "template": {
                    "spec": {"containers": [{"name": "m", "image": "x"}], "restartPolicy": "Never"}
                }
            },
        },
    ).json()
    ref = {"apiVersion": "batch/v1", "kind": "Job", "name": "migrate",
           "uid": job["metadata"]["uid"]}  # fmt: skip
    http.post(cms(), json={"metadata": {"name": "log", "ownerReferences": [ref]}})
    http.delete("/apis/batch/v1/namespaces/shop/jobs/migrate")
    assert exists(http, "log")


def test_a_uid_precondition_that_does_not_match_is_a_conflict(http: httpx.Client) -> None:
    namespace(http, "shop")
    make(http, "c")
    response = http.request("DELETE", f"{cms()}/c", json={"preconditions": {"uid": "other"}})
    assert response.status_code == 409
    assert exists(http, "c")


def test_an_unknown_propagation_policy_is_a_bad_request(http: httpx.Client) -> None:
    namespace(http, "shop")
    make(http, "c")
    response = http.delete(f"{cms()}/c", params={"propagationPolicy": "Sideways"})
    assert response.status_code == 400
    assert 'Unsupported value: "Sideways"' in response.json()["message"]


def test_deletecollection_deletes_the_selected_objects_and_cascades(http: httpx.Client) -> None:
    namespace(http, "shop")
    owner = make(http, "owner", labels={"tier": "web"})
    make(http, "child", owner)
    make(http, "other", labels={"tier": "db"})
    response = http.delete(cms(), params={"labelSelector": "tier=web"})
    assert response.status_code == 200
    assert [i["metadata"]["name"] for i in response.json()["items"]] == ["owner"]
    assert [exists(http, n) for n in ("owner", "child", "other")] == [False, False, True]


async def test_lightkube_cascade_types(kube: AsyncClient) -> None:
    await kube.create(Namespace(metadata=ObjectMeta(name="shop")))
    owner = await kube.create(ConfigMap(metadata=ObjectMeta(name="owner")), namespace="shop")
    assert owner.metadata is not None and owner.metadata.uid is not None
    ref = OwnerReference(apiVersion="v1", kind="ConfigMap", name="owner", uid=owner.metadata.uid)
    await kube.create(
        ConfigMap(metadata=ObjectMeta(name="child", ownerReferences=[ref])), namespace="shop"
    )
    await kube.delete(ConfigMap, "owner", namespace="shop", cascade=CascadeType.ORPHAN)
    child = await kube.get(ConfigMap, "child", namespace="shop")
    assert child.metadata is not None and not child.metadata.ownerReferences


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not on PATH")
def test_kubectl_delete_cascade_orphan(
    sim: RunningSimulator, http: httpx.Client, tmp_path: Path
) -> None:
    config = write_kubeconfig(tmp_path / "kubeconfig", sim.url)
    namespace(http, "shop")
    owner = make(http, "owner")
    make(http, "child", owner)
    kubectl = str(shutil.which("kubectl"))
    done = subprocess.run(
        [kubectl, "--kubeconfig", str(config), "-n", "shop", "delete", "configmap", "owner",
         "--cascade=orphan"],
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert 'configmap "owner" deleted' in done.stdout
    assert "ownerReferences" not in http.get(f"{cms()}/child").json()["metadata"]


# --- namespaces --------------------------------------------------------------------------


def test_namespace_termination_waits_for_content_finalizers(http: httpx.Client) -> None:
    namespace(http, "shop")
    make(http, "held", finalizers=["example.com/hold"])
    make(http, "free")
    http.delete("/api/v1/namespaces/shop")

    def waiting() -> dict[str, Any] | None:
        ns: dict[str, Any] = http.get("/api/v1/namespaces/shop").json()
        return ns if ns.get("status", {}).get("conditions") else None

    ns = wait_until(waiting)
    assert ns["status"]["phase"] == "Terminating"
    conditions = {c["type"]: c for c in ns["status"]["conditions"]}
    assert conditions["NamespaceFinalizersRemaining"]["message"] == (
        "Some content in the namespace has finalizers remaining: example.com/hold in 1 "
        "resource instances"
    )
    assert not exists(http, "free")
    assert http.get(f"{cms()}/held").json()["metadata"]["deletionTimestamp"]

    http.patch(f"{cms()}/held", json={"metadata": {"finalizers": None}}, headers=MERGE)
    wait_until(lambda: http.get("/api/v1/namespaces/shop").status_code == 404)


def test_a_namespace_with_another_finalizer_waits_for_the_finalize_subresource(
    http: httpx.Client,
) -> None:
    created = http.post(
        "/api/v1/namespaces",
        json={"metadata": {"name": "shop"}, "spec": {"finalizers": ["example.com/x"]}},
    ).json()
    assert created["spec"]["finalizers"] == ["example.com/x"]
    http.delete("/api/v1/namespaces/shop")
    # The namespace controller empties it first (its default ServiceAccount too).
    sas = "/api/v1/namespaces/shop/serviceaccounts"
    wait_until(lambda: http.get(sas).status_code == 200 and not http.get(sas).json()["items"])
    assert http.get("/api/v1/namespaces/shop").json()["status"]["phase"] == "Terminating"

    ns = http.get("/api/v1/namespaces/shop").json()
    response = http.put("/api/v1/namespaces/shop/finalize", json=dict(ns, spec={"finalizers": []}))
    assert response.status_code == 200, response.text
    assert http.get("/api/v1/namespaces/shop").status_code == 404


def test_finalize_is_only_for_namespaces(http: httpx.Client) -> None:
    namespace(http, "shop")
    make(http, "c")
    assert http.put(f"{cms()}/c/finalize", json={}).status_code == 404
