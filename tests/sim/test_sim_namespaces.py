"""Namespace lifecycle: Active on create, Terminating on delete, then gone with its contents."""

from __future__ import annotations

import httpx
from sim_helpers import deployment, namespace, wait_until


def test_new_namespace_is_active_and_labelled_with_its_name(http: httpx.Client) -> None:
    ns = namespace(http, "store-1")
    assert ns["status"] == {"phase": "Active"}
    assert ns["metadata"]["labels"]["kubernetes.io/metadata.name"] == "store-1"
    assert ns["spec"]["finalizers"] == ["kubernetes"]


def test_deleting_a_namespace_terminates_it_then_removes_it_and_its_contents(
    http: httpx.Client,
) -> None:
    namespace(http, "store-1")
    namespace(http, "store-2")
    for ns in ("store-1", "store-2"):
        http.post(f"/api/v1/namespaces/{ns}/secrets", json={"metadata": {"name": "db"}})
        http.post(f"/apis/apps/v1/namespaces/{ns}/deployments", json=deployment("web"))

    answer = http.delete("/api/v1/namespaces/store-1")
    assert answer.status_code == 200
    assert answer.json()["status"]["phase"] == "Terminating"
    assert answer.json()["metadata"]["deletionTimestamp"]
    during = http.get("/api/v1/namespaces/store-1")
    assert during.status_code == 200
    assert during.json()["status"]["phase"] == "Terminating"
    again = http.delete("/api/v1/namespaces/store-1")
    assert again.status_code == 200  # deleting a terminating namespace is idempotent

    wait_until(lambda: http.get("/api/v1/namespaces/store-1").status_code == 404)
    assert http.get("/api/v1/namespaces/store-1/secrets/db").status_code == 404
    remaining = http.get("/apis/apps/v1/deployments").json()["items"]
    assert [d["metadata"]["namespace"] for d in remaining] == ["store-2"]
    assert len(http.get("/api/v1/secrets").json()["items"]) == 1


def test_a_namespace_can_be_recreated_after_it_is_gone(http: httpx.Client) -> None:
    first = namespace(http, "store-1")
    http.delete("/api/v1/namespaces/store-1")
    wait_until(lambda: http.get("/api/v1/namespaces/store-1").status_code == 404)
    second = namespace(http, "store-1")
    assert second["metadata"]["uid"] != first["metadata"]["uid"]
    assert second["status"]["phase"] == "Active"
