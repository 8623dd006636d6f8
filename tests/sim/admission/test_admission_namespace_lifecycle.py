"""NamespaceLifecycle admission over HTTP: missing and terminating namespaces, immortal ones."""

from __future__ import annotations

import httpx
import pytest
from sim_helpers import namespace

CM = {"metadata": {"name": "settings"}}


@pytest.mark.parametrize(
    ("body", "status"),
    [(CM, 404), ({"metadata": {"name": "Bad_Name"}}, 404)],
    ids=["a valid object", "even an invalid one: admission runs before validation"],
)
def test_creating_in_a_missing_namespace_is_not_found(
    http: httpx.Client, body: dict[str, object], status: int
) -> None:
    response = http.post("/api/v1/namespaces/nowhere/configmaps", json=body)
    assert response.status_code == status
    assert response.json()["message"] == 'namespaces "nowhere" not found'


def test_creating_in_a_terminating_namespace_is_forbidden(http: httpx.Client) -> None:
    namespace(http, "shop")
    http.post("/api/v1/namespaces/shop/configmaps", json={"metadata": {"name": "held",
              "finalizers": ["example.com/hold"]}})  # fmt: skip
    http.delete("/api/v1/namespaces/shop")
    response = http.post("/api/v1/namespaces/shop/configmaps", json=CM)
    assert response.status_code == 403
    assert response.json()["message"] == (
        'configmaps "settings" is forbidden: unable to create new content in namespace shop '
        "because it is being terminated"
    )


@pytest.mark.parametrize("name", ["default", "kube-system", "kube-public"])
def test_the_namespaces_a_cluster_needs_cannot_be_deleted(http: httpx.Client, name: str) -> None:
    response = http.delete(f"/api/v1/namespaces/{name}")
    assert response.status_code == 403
    assert response.json()["message"] == (
        f'namespaces "{name}" is forbidden: this namespace may not be deleted'
    )
    assert http.get(f"/api/v1/namespaces/{name}").json()["status"]["phase"] == "Active"
