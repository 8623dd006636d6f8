"""create, get, list, update and delete for every served kind, over HTTP."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from sim_helpers import deployment, namespace

from storeplane.sim.kinds import KINDS, Kind
from storeplane.sim.runner import RunningSimulator

POD_TEMPLATE = {
    "metadata": {"labels": {"app": "x"}},
    "spec": {"containers": [{"name": "c", "image": "busybox"}]},
}
# A Job's pods may not restart Always (the API server refuses it).
JOB_TEMPLATE = {**POD_TEMPLATE, "spec": {**POD_TEMPLATE["spec"], "restartPolicy": "Never"}}
SELECTOR = {"matchLabels": {"app": "x"}}

# A minimal valid body per kind.
SAMPLES: dict[str, dict[str, Any]] = {
    "Namespace": {},
    "ResourceQuota": {"spec": {"hard": {"pods": "10"}}},
    "LimitRange": {"spec": {"limits": [{"type": "Container", "default": {"cpu": "100m"}}]}},
    "ServiceAccount": {"automountServiceAccountToken": False},
    "Secret": {"stringData": {"password": "s3cret"}},
    "ConfigMap": {"data": {"key": "value"}},
    "Service": {"spec": {"selector": {"app": "x"}, "ports": [{"name": "http", "port": 80}]}},
    "PersistentVolumeClaim": {
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}
    },
    "PersistentVolume": {
        "spec": {
            "capacity": {"storage": "1Gi"},
            "accessModes": ["ReadWriteOnce"],
            "hostPath": {"path": "/tmp/storeplane-sim-crud-pv"},
        }
    },
    "Event": {"reason": "Tested", "message": "hello", "involvedObject": {"kind": "Pod"}},
    "Pod": {"spec": {"containers": [{"name": "c", "image": "busybox"}]}},
    "Deployment": {"spec": {"selector": SELECTOR, "template": POD_TEMPLATE}},
    "StatefulSet": {"spec": {"selector": SELECTOR, "template": POD_TEMPLATE, "serviceName": "x"}},
    "ReplicaSet": {"spec": {"selector": SELECTOR, "template": POD_TEMPLATE}},
    "Job": {"spec": {"template": JOB_TEMPLATE}},
    "NetworkPolicy": {"spec": {"podSelector": {}, "policyTypes": ["Ingress"]}},
    "Ingress": {"spec": {"rules": [{"host": "shop.example.com"}]}},
    "Role": {"rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}]},
    "RoleBinding": {
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "r"},
        "subjects": [{"kind": "ServiceAccount", "name": "default", "namespace": "ns1"}],
    },
    "Lease": {"spec": {"holderIdentity": "me", "leaseDurationSeconds": 15}},
    "HorizontalPodAutoscaler": {
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
            "minReplicas": 1,
            "maxReplicas": 3,
        }
    },
    "Node": {"spec": {"unschedulable": True}},
    "Endpoints": {"subsets": [{"addresses": [{"ip": "10.244.0.5"}], "ports": [{"port": 80}]}]},
    "EndpointSlice": {"addressType": "IPv4", "endpoints": [{"addresses": ["10.244.0.5"]}]},
    "ClusterRole": {"rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}]},
    "ClusterRoleBinding": {
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "r"},
        "subjects": [{"kind": "Group", "name": "system:authenticated"}],
    },
}
# The access reviews are answered, never stored (tests/sim/test_sim_rbac.py covers them);
# a CRD's name must be <plural>.<group> (tests/sim/test_sim_crds.py covers them).
STORED = [k for k in KINDS if k.stored and k.kind != "CustomResourceDefinition"]


@pytest.fixture
def sim(shared_sim: RunningSimulator) -> RunningSimulator:
    return shared_sim


def collection(kind: Kind, ns: str | None) -> str:
    base = f"/apis/{kind.group}/{kind.version}" if kind.group else f"/api/{kind.version}"
    if kind.namespaced and ns is not None:
        return f"{base}/namespaces/{ns}/{kind.resource}"
    return f"{base}/{kind.resource}"


def sample(kind: Kind, name: str) -> dict[str, Any]:
    body = {"apiVersion": kind.api_version, "kind": kind.kind, "metadata": {"name": name}}
    body["metadata"]["labels"] = {"app": "x", "tier": "test"}
    return body | SAMPLES[kind.kind]


def test_every_kind_has_a_sample() -> None:
    assert set(SAMPLES) == {k.kind for k in STORED}


@pytest.mark.parametrize("kind", STORED, ids=[f"{k.kind} round-trips" for k in STORED])
def test_create_get_list_update_delete(http: httpx.Client, ns: str, kind: Kind) -> None:
    url = collection(kind, ns)

    created = http.post(url, json=sample(kind, "thing"))
    assert created.status_code == 201, created.text
    obj = created.json()
    meta = obj["metadata"]
    assert obj["kind"] == kind.kind and obj["apiVersion"] == kind.api_version
    assert re.fullmatch(r"[0-9a-f-]{36}", meta["uid"])
    assert meta["resourceVersion"].isdigit()
    assert meta["generation"] == 1
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", meta["creationTimestamp"])
    assert meta["managedFields"][0]["operation"] == "Update"
    assert meta.get("namespace") == (ns if kind.namespaced else None)

    got = http.get(f"{url}/thing")
    assert got.status_code == 200
    assert got.json() == obj

    listed = http.get(url).json()
    assert listed["kind"] == f"{kind.kind}List"
    assert listed["metadata"]["resourceVersion"].isdigit()
    assert "thing" in [i["metadata"]["name"] for i in listed["items"]]

    changed = dict(obj)
    changed["metadata"] = dict(meta, annotations={"touched": "yes"})
    updated = http.put(f"{url}/thing", json=changed)
    assert updated.status_code == 200, updated.text
    assert int(updated.json()["metadata"]["resourceVersion"]) > int(meta["resourceVersion"])
    assert updated.json()["metadata"]["generation"] == 1  # metadata-only change

    deleted = http.delete(f"{url}/thing")
    assert deleted.status_code == 200
    if kind.kind != "Namespace":
        assert deleted.json()["status"] == "Success"
        assert http.get(f"{url}/thing").status_code == 404


def test_generate_name_picks_a_fresh_name(http: httpx.Client, ns: str) -> None:
    body = {"metadata": {"generateName": "job-"}, "data": {}}
    names = {
        http.post(f"/api/v1/namespaces/{ns}/configmaps", json=body).json()["metadata"]["name"]
        for _ in range(3)
    }
    assert len(names) == 3
    assert all(re.fullmatch(r"job-[a-z0-9]{5}", n) for n in names)


def test_list_across_all_namespaces(http: httpx.Client) -> None:
    for ns in ("a1", "b1"):
        namespace(http, ns)
        http.post(f"/api/v1/namespaces/{ns}/secrets", json={"metadata": {"name": "s"}})
        http.post(f"/apis/apps/v1/namespaces/{ns}/deployments", json=deployment("web"))
    secrets = http.get("/api/v1/secrets").json()["items"]
    mine = [s for s in secrets if s["metadata"]["namespace"] in ("a1", "b1")]
    assert [(s["metadata"]["namespace"], s["metadata"]["name"]) for s in mine] == [
        ("a1", "s"),
        ("b1", "s"),
    ]
    deployments = http.get("/apis/apps/v1/deployments").json()
    assert deployments["kind"] == "DeploymentList"
    assert {d["metadata"]["namespace"] for d in deployments["items"]} >= {"a1", "b1"}


def test_list_pages_with_limit_and_continue(http: httpx.Client, ns: str) -> None:
    for i in range(5):
        http.post(f"/api/v1/namespaces/{ns}/configmaps", json={"metadata": {"name": f"cm{i}"}})
    seen: list[str] = []
    params: dict[str, str] = {"limit": "2"}
    while True:
        page = http.get(f"/api/v1/namespaces/{ns}/configmaps", params=params).json()
        seen += [i["metadata"]["name"] for i in page["items"]]
        if not page["metadata"].get("continue"):
            break
        params["continue"] = page["metadata"]["continue"]
    assert seen == [f"cm{i}" for i in range(5)]


def test_secret_string_data_is_stored_as_base64_data(http: httpx.Client, ns: str) -> None:
    body = {"metadata": {"name": "s"}, "stringData": {"password": "hunter2"}}
    secret = http.post(f"/api/v1/namespaces/{ns}/secrets", json=body).json()
    assert secret["data"] == {"password": "aHVudGVyMg=="}
    assert "stringData" not in secret
    assert secret["type"] == "Opaque"


def test_delete_collection_by_label(http: httpx.Client, ns: str) -> None:
    for name, tier in (("a", "web"), ("b", "web"), ("c", "db")):
        body = {"metadata": {"name": name, "labels": {"tier": tier}}}
        http.post(f"/api/v1/namespaces/{ns}/configmaps", json=body)
    http.delete(f"/api/v1/namespaces/{ns}/configmaps", params={"labelSelector": "tier=web"})
    left = http.get(f"/api/v1/namespaces/{ns}/configmaps").json()["items"]
    assert [i["metadata"]["name"] for i in left] == ["c"]


def test_finalizers_hold_deletion_until_removed(http: httpx.Client, ns: str) -> None:
    url = f"/api/v1/namespaces/{ns}/configmaps"
    http.post(url, json={"metadata": {"name": "held", "finalizers": ["example.com/hold"]}})
    lingering = http.delete(f"{url}/held").json()
    assert lingering["metadata"]["deletionTimestamp"]
    assert http.get(f"{url}/held").status_code == 200
    patch = {"metadata": {"finalizers": None}}
    http.patch(
        f"{url}/held",
        json=patch,
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert http.get(f"{url}/held").status_code == 404
