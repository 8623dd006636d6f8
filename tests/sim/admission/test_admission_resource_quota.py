"""ResourceQuota admission over HTTP: object counts and compute, refused with the real 403."""

from __future__ import annotations

import httpx
from sim_helpers import namespace


def test_an_object_count_quota_refuses_the_next_object(http: httpx.Client) -> None:
    namespace(http, "shop")
    http.post("/api/v1/namespaces/shop/resourcequotas", json={"metadata": {"name": "q"},
              "spec": {"hard": {"count/configmaps": "1"}}})  # fmt: skip
    assert http.post("/api/v1/namespaces/shop/configmaps",
                     json={"metadata": {"name": "a"}}).status_code == 201  # fmt: skip
    refused = http.post("/api/v1/namespaces/shop/configmaps", json={"metadata": {"name": "b"}})
    assert refused.status_code == 403
    assert refused.json()["message"] == (
        'configmaps "b" is forbidden: exceeded quota: q, requested: count/configmaps=1, '
        "used: count/configmaps=1, limited: count/configmaps=1"
    )


def test_a_pod_over_the_compute_quota_is_refused_by_its_generate_name(
    http: httpx.Client,
) -> None:
    namespace(http, "shop")
    http.post("/api/v1/namespaces/shop/resourcequotas", json={"metadata": {"name": "q"},
              "spec": {"hard": {"limits.cpu": "1"}}})  # fmt: skip
    pod = {"metadata": {"generateName": "web-"}, "spec": {"containers": [
        {"name": "web", "image": "nginx:1.27", "resources": {"limits": {"cpu": "2"}}}]}}  # fmt: skip
    refused = http.post("/api/v1/namespaces/shop/pods", json=pod)
    assert refused.status_code == 403
    assert refused.json()["message"] == (
        'pods "web-" is forbidden: exceeded quota: q, requested: limits.cpu=2, used: '
        "limits.cpu=0, limited: limits.cpu=1"
    )
