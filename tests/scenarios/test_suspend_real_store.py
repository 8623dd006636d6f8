"""Suspend keeps a real shop's data: a real ``storeplane dev`` (local runtimes on) takes a
Medusa store to Ready, an order check places a real order, the store is suspended (its URL
answers the 503 maintenance page through the dev ingress, no Medusa/PostgreSQL/Redis process
runs), resumed, and the order is found again through the Admin API: same volumes, same data.
The store is the session's shared real Medusa store (``real_shop``, tests/real_medusa.py).

Skipped, saying why, where the real-stores runtime (Node, Debian's PostgreSQL and redis-server,
curl) is not installed; scripts/setup.sh --test installs it, so CI runs it.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.real_medusa import READY_TIMEOUT, admin_order_ids, curl, place_order, reasons_since
from tests.scenarios.dev_process import DevProcess

pytestmark = pytest.mark.timeout(900)


def test_an_order_placed_before_suspend_is_found_after_resume(
    real_dev: DevProcess, real_shop: dict[str, Any]
) -> None:
    dev, store = real_dev, real_dev.store(real_shop["id"])
    assert store["phase"] == "Ready" and store["workload_runtime"] == "local", store
    first_event = len(dev.events(store["id"]))
    order = place_order(dev, store["id"])

    assert dev.api("POST", f"/stores/{store['id']}/suspend").status_code == 202
    suspended = dev.wait_for(store["id"], {"Suspended", "Failed"}, timeout=180)
    assert suspended["phase"] == "Suspended", suspended
    code, page = curl(f"{store['url']}/health")
    assert code == 503 and f"{store['name']} is under maintenance" in page, (code, page[:300])
    # On this machine: only the maintenance page's process runs for the store.
    residue = dev.kube("sim/v1/node/residue", namespace=store["namespace"]).json()
    pods = {p["pod"] for p in residue["processes"]}
    assert pods and all(p.startswith("storeplane-maintenance-") for p in pods), residue

    assert dev.api("POST", f"/stores/{store['id']}/resume").status_code == 202
    resumed = dev.wait_for(store["id"], {"Ready", "Failed"}, timeout=READY_TIMEOUT)
    assert resumed["phase"] == "Ready", resumed
    assert curl(f"{store['url']}/health") == (200, "OK")
    assert order in admin_order_ids(dev, store)
    reasons = reasons_since(dev, store["id"], first_event)
    assert reasons.index("SmokeTestPassed") < reasons.index("StoreSuspended")
    assert reasons.index("StoreSuspended") < reasons.index("StoreResumed")
