"""A real Medusa store upgraded from 2.20.1 to 2.21.2 (issue 14, items 1-2): a real
``storeplane dev`` (local runtimes on) runs the store's server, worker, PostgreSQL, Redis and
migration Jobs as processes on this machine, each Medusa version from its own build
(scripts/medusa-local.sh install builds both; the runtime table maps each image tag to one).

One store, in order: created at 2.20.1, Ready, an order check passes; a rollout to 2.21.2 with
the smoke gate (the same version change as a PATCH, made by the rollout) runs
2.21.2's ``medusa db:migrate`` first (its own Job, which applies the migrations 2.20.1 does not
have), then rolls out server and worker at 2.21.2; Ready at 2.21.2, the rollout's own order
check passes (so it ends Succeeded) and the first order is still in the store's database. Skipped, with the reason, where the
Medusa runtime cannot run (no node/npm, or no PostgreSQL/redis binaries).
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.engine_catalogues import A, B
from tests.scenarios.dev_process import REPO, DevProcess, wait_until

pytestmark = pytest.mark.timeout(900)

KUBECTL = REPO / ".tools" / "bin" / "kubectl"
READY_TIMEOUT = 420


def _runtime_missing() -> str | None:
    if shutil.which("node") is None or shutil.which("npm") is None:
        return "node and npm are not installed (apt-get install nodejs npm): no real Medusa here"
    if not list(Path("/usr/lib/postgresql").glob("*/bin/postgres")):
        return "Debian's PostgreSQL server is not installed (apt-get install postgresql)"
    if shutil.which("redis-server") is None:
        return "redis-server is not installed (apt-get install redis-server)"
    return None


@pytest.fixture(scope="module")
def dev(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevProcess]:
    missing = _runtime_missing()
    if missing:
        pytest.skip(missing)
    # Both versions' builds (cached: a no-op when they are up to date).
    subprocess.run([str(REPO / "scripts" / "medusa-local.sh"), "install"], check=True)
    process = DevProcess(
        tmp_path_factory.mktemp("upgrade-dev"), None, ready_delay=0.5, simulate_workloads=False
    ).start(timeout=60)
    try:
        yield process
    finally:
        process.stop()


def _kubectl(dev: DevProcess, *args: str) -> str:
    done = subprocess.run(
        [str(KUBECTL), "--kubeconfig", str(dev.data_dir / "kubeconfig"), *args],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, f"kubectl {' '.join(args)}: {done.stderr}"
    return done.stdout


def _order_check(dev: DevProcess, store_id: str) -> str:
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


def _admin_orders(dev: DevProcess, shop: dict[str, Any]) -> list[str]:
    """The store's orders, through its Admin API with the admin password from its Secret."""
    secret = _kubectl(
        dev, "get", "secret", "store-credentials", "-n", shop["namespace"], "-o", "jsonpath={.data}"
    )
    password = base64.b64decode(json.loads(secret)["admin-password"]).decode()
    port = dev.url.rsplit(":", 1)[1]
    base, host = f"http://127.0.0.1:{port}", {"Host": f"{shop['id']}.localhost:{port}"}
    login = httpx.post(
        f"{base}/auth/user/emailpass",
        json={"email": f"admin@{shop['id']}.localhost", "password": password},
        headers=host,
        timeout=30,
    )
    assert login.status_code == 200, login.text
    orders = httpx.get(
        f"{base}/admin/orders",
        headers={**host, "Authorization": f"Bearer {login.json()['token']}"},
        timeout=30,
    )
    return [o["id"] for o in orders.json()["orders"]]


def _migration_jobs(dev: DevProcess, namespace: str) -> dict[str, str]:
    jobs = dev.kube(f"apis/batch/v1/namespaces/{namespace}/jobs").json()["items"]
    return {
        j["metadata"]["name"]: j["spec"]["template"]["spec"]["initContainers"][1]["image"]
        for j in jobs
        if j["metadata"]["name"].startswith("medusa-migrate-")
    }


def test_a_real_medusa_store_upgrades_with_its_migrations_and_keeps_its_orders(
    dev: DevProcess,
) -> None:
    created = dev.api(
        "POST", "/stores", json={"name": "old-shop", "engine": "medusa", "engine_version": A}
    )
    assert created.status_code == 202, created.text
    shop = dev.wait_for(created.json()["id"], {"Ready", "Failed"}, timeout=READY_TIMEOUT)
    assert shop["phase"] == "Ready", shop
    assert (shop["running_engine_version"], shop["workload_runtime"]) == (A, "local")
    first_order = _order_check(dev, shop["id"])
    (old_job,) = _migration_jobs(dev, shop["namespace"])

    # The upgrade goes through a rollout with the smoke gate (issue 14, item 3): the store is
    # done only once an order check placed after the upgrade has passed.
    started = dev.api(
        "POST",
        "/rollouts",
        json={
            "engine": "medusa",
            "to_version": B,
            "selector": {"names": [shop["id"]]},
            "waves": ["100%"],
            "gate": "smoke",
        },
    )
    assert started.status_code == 201, started.text
    rollout_id = started.json()["id"]
    rollout = wait_until(
        lambda: dev.api("GET", f"/rollouts/{rollout_id}").json(),
        lambda r: r["phase"] != "Running",
        READY_TIMEOUT,
        "the rollout to end",
        dev.log_path,
    )
    assert rollout["phase"] == "Succeeded", rollout
    (member,) = rollout["stores"]
    assert member["status"] == "Done" and member["check_id"], member
    shop = dev.store(shop["id"])
    assert (shop["phase"], shop["engine_version"], shop["running_engine_version"]) == (
        "Ready", B, B,
    ), shop  # fmt: skip
    check = dev.api("GET", f"/stores/{shop['id']}/checks/{member['check_id']}").json()
    assert (check["status"], check["requested_by"]) == ("Passed", f"rollout:{rollout_id}"), check

    # 2.21.2's own migration Job ran (the old one is pruned) and migrated for real.
    ((new_job, image),) = _migration_jobs(dev, shop["namespace"]).items()
    assert new_job != old_job and image.endswith(f":{B}")
    # The Job's pod by its job-name label (the simulator's `kubectl logs job/NAME` picks
    # another pod of the namespace).
    job_pod = _kubectl(
        dev, "get", "pods", "-n", shop["namespace"], "-l", f"batch.kubernetes.io/job-name={new_job}",
        "-o", "jsonpath={.items[0].metadata.name}",
    )  # fmt: skip
    log = _kubectl(dev, "logs", job_pod, "-c", "migrate", "-n", shop["namespace"])
    # A migration 2.21 brings and 2.20.1 does not have (the search module's), applied now.
    assert "Migrated Migration20260903085616" in log, log[-3000:]
    server = _kubectl(
        dev, "get", "deployment", "medusa-server", "-n", shop["namespace"],
        "-o", "jsonpath={.spec.template.spec.containers[0].image}",
    )  # fmt: skip
    assert server.endswith(f":{B}")
    reasons = [e["reason"] for e in dev.events(shop["id"])]
    for reason in ("UpgradeStarted", "MigrationSucceeded", "UpgradeCompleted"):
        assert reason in reasons, reasons
    assert reasons.index("UpgradeStarted") < reasons.index("MigrationSucceeded")
    assert reasons.index("MigrationSucceeded") < reasons.index("UpgradeCompleted")

    # The rollout's order check and the one placed at 2.20.1 are both in the store.
    orders = _admin_orders(dev, shop)
    assert first_order in orders and check["order_id"] in orders
