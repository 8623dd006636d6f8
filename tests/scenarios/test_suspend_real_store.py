"""Suspend keeps a real shop's data: a real ``storeplane dev`` (local runtimes on) takes a
Medusa store to Ready, an order check places a real order, the store is suspended (its URL
answers the 503 maintenance page through the dev ingress, no Medusa/PostgreSQL/Redis process
runs), resumed, and the order is found again through the Admin API: same volumes, same data.

Skipped, saying why, where the real-stores runtime (Node, Debian's PostgreSQL and redis-server,
curl) is not installed; scripts/setup.sh --test installs it, so CI runs it.
"""

from __future__ import annotations

import base64
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.scenarios.dev_process import DevProcess, wait_until
from tests.scenarios.test_real_store import READY_TIMEOUT, curl, kubectl, medusa_build

pytestmark = pytest.mark.timeout(900)


def _postgres() -> Path | None:
    return next(Path("/usr/lib/postgresql").glob("*/bin/postgres"), None)


_MISSING = [
    name
    for name, found in (
        ("node", shutil.which("node")),
        ("redis-server", shutil.which("redis-server")),
        ("curl", shutil.which("curl")),
        ("PostgreSQL server", _postgres()),
    )
    if not found
]
if _MISSING:
    pytest.skip(
        f"the real-stores runtime is unavailable ({', '.join(_MISSING)} missing): "
        "scripts/setup.sh --test installs it",
        allow_module_level=True,
    )

__all__ = ["medusa_build"]  # the module fixture, shared with test_real_store


@pytest.fixture(scope="module")
def dev(tmp_path_factory: pytest.TempPathFactory, medusa_build: None) -> Iterator[DevProcess]:
    process = DevProcess(
        tmp_path_factory.mktemp("suspend-dev"), None, ready_delay=0.5, simulate_workloads=False
    ).start(timeout=60)
    try:
        yield process
    finally:
        process.stop()


def _admin_orders(dev: DevProcess, store: dict[str, Any]) -> list[str]:
    """Ids of the store's orders, through Medusa's Admin API at the store's URL."""
    secret = kubectl(
        dev, "get", "secret", "store-credentials", "-n", store["namespace"], "-o",
        "jsonpath={.data}",
    )  # fmt: skip
    password = base64.b64decode(json.loads(secret)["admin-password"]).decode()
    port = dev.url.rsplit(":", 1)[1]
    base, host = f"http://127.0.0.1:{port}", {"Host": f"{store['id']}.localhost:{port}"}
    login = httpx.post(
        f"{base}/auth/user/emailpass",
        json={"email": f"admin@{store['id']}.localhost", "password": password},
        headers=host,
        timeout=30,
    )
    assert login.status_code == 200, login.text
    orders = httpx.get(
        f"{base}/admin/orders",
        headers={**host, "Authorization": f"Bearer {login.json()['token']}"},
        timeout=30,
    )
    assert orders.status_code == 200, orders.text
    return [o["id"] for o in orders.json()["orders"]]


def test_an_order_placed_before_suspend_is_found_after_resume(dev: DevProcess) -> None:
    created = dev.api("POST", "/stores", json={"name": "paused-shop", "engine": "medusa"})
    assert created.status_code == 202, created.text
    store = dev.wait_for(created.json()["id"], {"Ready", "Failed"}, timeout=READY_TIMEOUT)
    assert store["phase"] == "Ready" and store["workload_runtime"] == "local", store
    started = dev.api("POST", f"/stores/{store['id']}/checks")
    assert started.status_code == 202, started.text
    check = wait_until(
        lambda: dev.api("GET", f"/stores/{store['id']}/checks/{started.json()['id']}").json(),
        lambda c: c["status"] != "Running",
        180,
        "the order check to finish",
        dev.log_path,
    )
    assert check["status"] == "Passed" and check["order_id"], check

    assert dev.api("POST", f"/stores/{store['id']}/suspend").status_code == 202
    suspended = dev.wait_for(store["id"], {"Suspended", "Failed"}, timeout=180)
    assert suspended["phase"] == "Suspended", suspended
    code, page = curl(f"{store['url']}/health")
    assert code == 503 and "paused-shop is under maintenance" in page, (code, page[:300])
    # On this machine: only the maintenance page's process runs for the store.
    residue = dev.kube("sim/v1/node/residue", namespace=store["namespace"]).json()
    pods = {p["pod"] for p in residue["processes"]}
    assert pods and all(p.startswith("storeplane-maintenance-") for p in pods), residue

    assert dev.api("POST", f"/stores/{store['id']}/resume").status_code == 202
    resumed = dev.wait_for(store["id"], {"Ready", "Failed"}, timeout=READY_TIMEOUT)
    assert resumed["phase"] == "Ready", resumed
    assert curl(f"{store['url']}/health") == (200, "OK")
    assert check["order_id"] in _admin_orders(dev, store)
    reasons = [e["reason"] for e in dev.events(store["id"])]
    assert reasons.index("SmokeTestPassed") < reasons.index("StoreSuspended")
    assert reasons.index("StoreSuspended") < reasons.index("StoreResumed")
