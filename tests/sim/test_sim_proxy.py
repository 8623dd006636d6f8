"""The service proxy stand-in: 503 until a backing workload is ready, then health answers."""

from __future__ import annotations

import time

import httpx

from storeplane.sim.runner import SimulatorConfig, start_in_thread


def _setup(client: httpx.Client, ns: str, ready_delay_name: str = "web") -> None:
    client.post(
        "/api/v1/namespaces",
        json={"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}},
    ).raise_for_status()
    client.post(
        f"/api/v1/namespaces/{ns}/services",
        json={
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "web"},
            "spec": {"selector": {"app": "web"}, "ports": [{"port": 9000}]},
        },
    ).raise_for_status()
    client.post(
        f"/apis/apps/v1/namespaces/{ns}/deployments",
        json={
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": ready_delay_name},
            "spec": {
                "replicas": 1,
                "selector": {"matchLabels": {"app": "web"}},
                "template": {
                    "metadata": {"labels": {"app": "web"}},
                    "spec": {"containers": [{"name": "c", "image": "nginx"}]},
                },
            },
        },
    ).raise_for_status()


def test_health_answers_once_the_backing_workload_is_ready() -> None:
    with (
        start_in_thread(SimulatorConfig(ready_delay=0.4)) as sim,
        httpx.Client(base_url=sim.url) as client,
    ):
        _setup(client, "shop")
        early = client.get("/api/v1/namespaces/shop/services/web:9000/proxy/health")
        assert early.status_code == 503
        assert early.json()["message"] == 'no endpoints available for service "web"'
        deadline = time.monotonic() + 5
        while (
            ok := client.get("/api/v1/namespaces/shop/services/web:9000/proxy/health")
        ).status_code != 200:
            assert time.monotonic() < deadline, ok.text
            time.sleep(0.05)
        assert ok.text == "OK"
        # The stand-in says it is one, naming the images nothing runs (CONTRACTS A).
        assert ok.headers["X-Storeplane-Sim-Runtime"] == "simulated"
        assert ok.headers["X-Storeplane-Sim-Simulated-Images"] == "nginx"
        assert "X-Storeplane-Sim-Runtime" not in early.headers
        wp = client.get("/api/v1/namespaces/shop/services/web:9000/proxy/wp-json/")
        assert wp.status_code == 200 and wp.json()["namespaces"]


def test_a_missing_service_is_404_and_a_forced_status_is_returned() -> None:
    with (
        start_in_thread(SimulatorConfig(ready_delay=0)) as sim,
        httpx.Client(base_url=sim.url) as client,
    ):
        assert (
            client.get("/api/v1/namespaces/default/services/nope:80/proxy/health").status_code
            == 404
        )
        _setup(client, "shop")
        client.patch(
            "/api/v1/namespaces/shop/services/web",
            json={"metadata": {"annotations": {"sim.storeplane.dev/proxy-status": "500"}}},
            headers={"content-type": "application/merge-patch+json"},
        ).raise_for_status()
        deadline = time.monotonic() + 5
        while (
            resp := client.get("/api/v1/namespaces/shop/services/web/proxy/health")
        ).status_code == 503:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert resp.status_code == 500
