"""The ``scale`` subresource (autoscaling/v1 Scale) of Deployments, StatefulSets and
ReplicaSets, and its discovery entries."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sim_helpers import deployment

from storeplane.sim.runner import RunningSimulator


@pytest.fixture(scope="module")
def sim(shared_sim: RunningSimulator) -> Iterator[RunningSimulator]:
    yield shared_sim


def workload(kind: str) -> dict[str, Any]:
    body = deployment("web")
    body["kind"] = kind
    if kind == "StatefulSet":
        body["spec"]["serviceName"] = "web"
    return body


KINDS = ["deployments", "statefulsets", "replicasets"]
KIND_OF = {"deployments": "Deployment", "statefulsets": "StatefulSet", "replicasets": "ReplicaSet"}


@pytest.mark.parametrize(
    "resource", KINDS, ids=[f"{k} scale by merge patch and PUT" for k in KINDS]
)
def test_scale_get_patch_put(http: httpx.Client, ns: str, resource: str) -> None:
    base = f"/apis/apps/v1/namespaces/{ns}/{resource}"
    http.post(base, json=workload(KIND_OF[resource])).raise_for_status()
    scale = http.get(f"{base}/web/scale").json()
    assert scale["kind"] == "Scale" and scale["apiVersion"] == "autoscaling/v1"
    assert scale["spec"] == {"replicas": 1}
    assert scale["status"]["selector"] == "app=web"
    patched = http.patch(
        f"{base}/web/scale", json={"spec": {"replicas": 3}},
        headers={"content-type": "application/merge-patch+json"},
    )  # fmt: skip
    assert patched.status_code == 200 and patched.json()["spec"]["replicas"] == 3
    assert http.get(f"{base}/web").json()["spec"]["replicas"] == 3
    scale = patched.json()
    scale["spec"]["replicas"] = 0
    put = http.put(f"{base}/web/scale", json=scale)
    assert put.status_code == 200, put.text
    obj = http.get(f"{base}/web").json()
    assert obj["spec"]["replicas"] == 0 and obj["metadata"]["generation"] == 3


@pytest.mark.parametrize(
    ("body", "code", "message"),
    [
        (
            {"spec": {"replicas": -1}},
            422,
            "spec.replicas: Invalid value: -1: must be greater than or equal to 0",
        ),
        (
            {"metadata": {"resourceVersion": "1"}, "spec": {"replicas": 2}},
            409,
            "the object has been modified",
        ),
    ],
    ids=["a negative replica count is invalid", "a stale resourceVersion is a conflict"],
)
def test_scale_refusals(
    http: httpx.Client, ns: str, body: dict[str, Any], code: int, message: str
) -> None:
    base = f"/apis/apps/v1/namespaces/{ns}/deployments"
    http.post(base, json=deployment("web")).raise_for_status()
    response = http.put(f"{base}/web/scale", json=body)
    assert response.status_code == code
    assert message in response.json()["message"]


def test_scale_is_in_discovery_and_workloads_are_in_the_all_category(http: httpx.Client) -> None:
    resources = {r["name"]: r for r in http.get("/apis/apps/v1").json()["resources"]}
    assert resources["deployments/scale"]["kind"] == "Scale"
    assert resources["deployments/scale"]["group"] == "autoscaling"
    assert set(resources["statefulsets/scale"]["verbs"]) == {"get", "patch", "update"}
    assert "all" in resources["replicasets"]["categories"]
    core = {r["name"]: r for r in http.get("/api/v1").json()["resources"]}
    assert core["pods"]["categories"] == ["all"] and "categories" not in core["configmaps"]
    assert http.get("/api/v1/namespaces/default/configmaps/x/scale").status_code == 404
