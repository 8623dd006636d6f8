"""The order check against a real ``storeplane dev`` process: a store the simulator stands in
for reaches Ready as ``workload_runtime: "simulated"``, says so in ``StoreReachable``, and
asking to check it is a 409 that says there is no real store to check (issue 11, item 8/9).

WooCommerce's images have no local runtime, so its store is simulated in every dev mode.
"""

from __future__ import annotations

from tests.scenarios.dev_process import DevProcess


def test_a_simulated_store_is_ready_as_simulated_and_cannot_be_checked(dev: DevProcess) -> None:
    created = dev.api("POST", "/stores", json={"name": "woo-shop", "engine": "woocommerce"})
    assert created.status_code == 202, created.text
    store_id = created.json()["id"]
    ready = dev.wait_for(store_id, {"Ready"})
    assert ready["workload_runtime"] == "simulated"
    reachable = next(c for c in ready["conditions"] if c["type"] == "StoreReachable")
    assert reachable["status"] == "True"
    assert "the answer was simulated" in reachable["message"]
    assert "wordpress" in reachable["message"]

    refused = dev.api("POST", f"/stores/{store_id}/checks")
    assert refused.status_code == 409, refused.text
    detail = refused.json()["detail"]
    assert "workloads are simulated" in detail and "no real store to check" in detail
    assert dev.api("GET", f"/stores/{store_id}/checks").json() == {"items": [], "count": 0}
    assert "SmokeTestRequested" not in {e["reason"] for e in dev.events(store_id)}
