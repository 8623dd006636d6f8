"""Backups proven with an order that survives: one real Medusa store in a real ``storeplane
dev`` (local runtimes on), taken through backup, restore and clone.

Order A is placed (the smoke check), a backup is taken (a Job running Debian's ``pg_dump``
behind the ``postgres`` image into the folder target), order B is placed; restoring the backup
brings back order A and not B, found through the Admin API; a clone of the backup is a new
store in which order A is found, with an admin password of its own. Skipped, saying why, where
the real-store runtime (PostgreSQL's client tools, the Medusa build) is missing.
"""

from __future__ import annotations

import base64
import glob
import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.scenarios.dev_process import REPO, DevProcess, wait_until

pytestmark = pytest.mark.timeout(900)

KUBECTL = REPO / ".tools" / "bin" / "kubectl"
READY_TIMEOUT = 420


def _missing_runtime() -> str | None:
    if not glob.glob("/usr/lib/postgresql/*/bin/pg_dump"):
        return "PostgreSQL's tools are not installed (scripts/setup.sh --test installs them)"
    if shutil.which("redis-server") is None:
        return "redis-server is not installed (scripts/setup.sh --test installs it)"
    if shutil.which("npm") is None:
        return "npm is missing: the Medusa app cannot be built here"
    return None


@pytest.fixture(scope="module")
def dev(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevProcess]:
    why = _missing_runtime()
    if why is not None:
        pytest.skip(f"real-store runtime unavailable: {why}")
    subprocess.run([str(REPO / "scripts" / "medusa-local.sh"), "install"], check=True)
    data_dir = tmp_path_factory.mktemp("backup-dev")
    # The folder target must be reachable by the database image's user: as root, the
    # simulator's node runs PostgreSQL's tools as Debian's postgres user, and pytest's
    # temporary folders are private (0700). A user's .data folder is not.
    for folder in (data_dir, *data_dir.parents):
        if folder == Path("/tmp") or folder == Path("/"):
            break
        folder.chmod(0o755)
    process = DevProcess(data_dir, None, ready_delay=0.5, simulate_workloads=False).start(
        timeout=60
    )
    try:
        yield process
    finally:
        process.stop()


def _port(dev: DevProcess) -> str:
    return dev.url.rsplit(":", 1)[1]


def _password(dev: DevProcess, store: dict[str, Any]) -> str:
    done = subprocess.run(
        [str(KUBECTL), "--kubeconfig", str(dev.data_dir / "kubeconfig"), "get", "secret",
         "store-credentials", "-n", store["namespace"], "-o", "jsonpath={.data}"],
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    return base64.b64decode(json.loads(done.stdout)["admin-password"]).decode()


def _order_ids(dev: DevProcess, store: dict[str, Any]) -> set[str]:
    """Every order of the store, read through its Admin API as its own admin."""
    base = f"http://127.0.0.1:{_port(dev)}"
    host = {"Host": f"{store['id']}.localhost:{_port(dev)}"}
    login = httpx.post(
        f"{base}/auth/user/emailpass",
        json={"email": f"admin@{store['id']}.localhost", "password": _password(dev, store)},
        headers=host,
        timeout=30,
    )
    assert login.status_code == 200, login.text
    orders = httpx.get(
        f"{base}/admin/orders",
        params={"limit": "100"},
        headers={**host, "Authorization": f"Bearer {login.json()['token']}"},
        timeout=30,
    )
    assert orders.status_code == 200, orders.text
    return {o["id"] for o in orders.json()["orders"]}


def _order(dev: DevProcess, store_id: str) -> str:
    started = dev.api("POST", f"/stores/{store_id}/checks")
    assert started.status_code == 202, started.text
    check = wait_until(
        lambda: dev.api("GET", f"/stores/{store_id}/checks/{started.json()['id']}").json(),
        lambda c: c["status"] != "Running",
        180,
        "the order check to finish",
        dev.log_path,
    )
    assert check["status"] == "Passed", check
    return str(check["order_id"])


def _backup(dev: DevProcess, store_id: str) -> dict[str, Any]:
    started = dev.api("POST", f"/stores/{store_id}/backups")
    assert started.status_code == 202, started.text
    assert started.json()["status"] == "Running"
    return wait_until(
        lambda: dev.api("GET", f"/stores/{store_id}/backups/{started.json()['id']}").json(),
        lambda b: b["status"] != "Running",
        180,
        "the backup to finish",
        dev.log_path,
    )


def test_an_order_survives_backup_restore_and_clone(dev: DevProcess) -> None:
    created = dev.api("POST", "/stores", json={"name": "backed-up", "engine": "medusa"})
    assert created.status_code == 202, created.text
    shop = dev.wait_for(created.json()["id"], {"Ready", "Failed"}, timeout=READY_TIMEOUT)
    assert shop["phase"] == "Ready", shop
    assert shop["workload_runtime"] == "local", shop

    order_a = _order(dev, shop["id"])
    backup = _backup(dev, shop["id"])
    assert backup["status"] == "Succeeded", backup["message"]
    assert backup["size_bytes"] > 10_000, backup  # a real pg_dump of Medusa's schema and data
    assert backup["engine"] == "medusa" and backup["engine_version"]
    dump = Path(dev.data_dir) / "backups" / shop["id"] / f"{backup['id']}.dump"
    assert dump.stat().st_size == backup["size_bytes"]
    assert dump.read_bytes()[:5] == b"PGDMP"  # pg_dump's custom format
    order_b = _order(dev, shop["id"])
    assert {order_a, order_b} <= _order_ids(dev, shop)

    # A backup id of another store's (or none at all) is not found; a bad body is a 422.
    assert dev.api("POST", f"/stores/{shop['id']}/restore", json={}).status_code == 422
    missing = dev.api(
        "POST", f"/stores/{shop['id']}/restore", json={"backup_id": "backup-0000000000"}
    )
    assert missing.status_code == 404, missing.text

    restoring = dev.api("POST", f"/stores/{shop['id']}/restore", json={"backup_id": backup["id"]})
    assert restoring.status_code == 202, restoring.text
    assert restoring.json()["phase"] == "Restoring"
    again = dev.api("POST", f"/stores/{shop['id']}/restore", json={"backup_id": backup["id"]})
    assert again.status_code == 409, again.text
    restored = dev.wait_for(shop["id"], {"Ready", "Failed"}, timeout=300)
    assert restored["phase"] == "Ready", restored
    assert restored["restore"] is None
    orders = _order_ids(dev, restored)
    assert order_a in orders
    assert order_b not in orders
    reasons = [e["reason"] for e in dev.events(shop["id"])]
    assert {"BackupRequested", "BackupStarted", "BackupSucceeded"} <= set(reasons)
    assert {"RestoreRequested", "RestoreProgressing", "RestoreSucceeded"} <= set(reasons)
    # The restore ends with an order check, as a deploy with gate: smoke does.
    assert "SmokeTestRequested" in reasons[reasons.index("RestoreSucceeded") :]

    cloned = dev.api(
        "POST",
        "/stores",
        json={
            "name": "backed-up-clone",
            "engine": "medusa",
            "restore_from": {"store_id": shop["id"], "backup_id": backup["id"]},
        },
    )
    assert cloned.status_code == 202, cloned.text
    clone = dev.wait_for(cloned.json()["id"], {"Ready", "Failed"}, timeout=READY_TIMEOUT)
    assert clone["phase"] == "Ready", clone
    assert order_a in _order_ids(dev, clone)
    assert order_b not in _order_ids(dev, clone)
    assert _password(dev, clone) != _password(dev, shop)
    assert clone["url"] != shop["url"] and clone["id"] in clone["url"]
    # The staged copy of the dump in the clone's slice of the target is gone once loaded.
    assert not list((Path(dev.data_dir) / "backups" / clone["id"]).glob("*.dump"))
