"""LimitRanger admission over HTTP: container defaults filled into pods that lack them."""

from __future__ import annotations

import httpx
from sim_helpers import namespace


def test_container_defaults_come_from_the_limit_range(http: httpx.Client) -> None:
    namespace(http, "shop")
    http.post("/api/v1/namespaces/shop/limitranges", json={"metadata": {"name": "defaults"},
              "spec": {"limits": [{"type": "Container", "default": {"cpu": "500m"},
                                   "defaultRequest": {"cpu": "100m"}}]}})  # fmt: skip
    pod = {"metadata": {"name": "web"}, "spec": {"containers": [
        {"name": "web", "image": "nginx:1.27"},
        {"name": "side", "image": "x", "resources": {"limits": {"cpu": "2"}}},
    ]}}  # fmt: skip
    created = http.post("/api/v1/namespaces/shop/pods", json=pod).json()
    web, side = created["spec"]["containers"]
    assert web["resources"] == {"limits": {"cpu": "500m"}, "requests": {"cpu": "100m"}}
    # A container's own limit is its request (pod defaulting), before the range's default.
    assert side["resources"] == {"limits": {"cpu": "2"}, "requests": {"cpu": "2"}}
