"""Discovery documents: what kubectl and other clients read before anything else."""

from __future__ import annotations

import httpx
import pytest

from storeplane.sim.kinds import KINDS
from storeplane.sim.runner import RunningSimulator


@pytest.fixture
def sim(shared_sim: RunningSimulator) -> RunningSimulator:
    return shared_sim


def test_version_reports_a_kubernetes_version(http: httpx.Client) -> None:
    body = http.get("/version").json()
    assert body["gitVersion"].startswith("v1.")
    assert body["major"] == "1"
    assert body["minor"].isdigit()


def test_core_api_versions_list_v1(http: httpx.Client) -> None:
    body = http.get("/api").json()
    assert body["kind"] == "APIVersions"
    assert body["versions"] == ["v1"]


def test_group_list_names_every_served_group(http: httpx.Client) -> None:
    body = http.get("/apis").json()
    assert body["kind"] == "APIGroupList"
    groups = {g["name"]: g for g in body["groups"]}
    assert set(groups) == {k.group for k in KINDS if k.group}
    assert groups["apps"]["preferredVersion"] == {"groupVersion": "apps/v1", "version": "v1"}


@pytest.mark.parametrize("kind", KINDS, ids=[f"{k.qualified} is discoverable" for k in KINDS])
def test_every_kind_is_listed_in_its_resource_list(http: httpx.Client, kind: object) -> None:
    from storeplane.sim.kinds import Kind

    assert isinstance(kind, Kind)
    path = f"/apis/{kind.group}/{kind.version}" if kind.group else f"/api/{kind.version}"
    body = http.get(path).json()
    assert body["kind"] == "APIResourceList"
    assert body["groupVersion"] == kind.api_version
    entry = next(r for r in body["resources"] if r["name"] == kind.resource)
    assert entry["kind"] == kind.kind
    assert entry["namespaced"] is kind.namespaced
    assert entry["singularName"] == kind.kind.lower()
    if kind.stored:
        assert {"create", "get", "list", "update", "patch", "delete"} <= set(entry["verbs"])
    else:  # an access review is only ever posted
        assert entry["verbs"] == ["create"]
    assert entry.get("shortNames", []) == list(kind.short_names)
    if kind.has_status:
        assert any(r["name"] == f"{kind.resource}/status" for r in body["resources"])


def test_unknown_group_version_is_a_404_status(http: httpx.Client) -> None:
    response = http.get("/apis/example.com/v1")
    assert response.status_code == 404
    assert response.json()["kind"] == "Status"


def test_built_in_namespaces_exist_like_in_a_real_cluster(http: httpx.Client) -> None:
    names = {n["metadata"]["name"] for n in http.get("/api/v1/namespaces").json()["items"]}
    assert {"default", "kube-system", "kube-public", "kube-node-lease"} <= names
