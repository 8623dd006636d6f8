"""A real Medusa store upgraded from 2.20.1 to 2.21.2 (issue 14, items 1-2): a real
``storeplane dev`` (local runtimes on) runs the store's server, worker, PostgreSQL, Redis and
migration Jobs as processes on this machine, each Medusa version from its own build
(scripts/medusa-local.sh install builds both; the runtime table maps each image tag to one).

One store (``old_real_shop`` on the session's shared real dev, tests/real_medusa.py), in
order: created at 2.20.1, Ready, an order check passes; a rollout to 2.21.2 with
the smoke gate (the same version change as a PATCH, made by the rollout) runs
2.21.2's ``medusa db:migrate`` first (its own Job, which applies the migrations 2.20.1 does not
have), then rolls out server and worker at 2.21.2; Ready at 2.21.2, the rollout's own order
check passes (so it ends Succeeded) and the first order is still in the store's database.
Skipped, with the reason, where the Medusa runtime cannot run (no node/npm, or no
PostgreSQL/redis binaries).
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.engine_catalogues import A, B
from tests.real_medusa import READY_TIMEOUT, admin_order_ids, kubectl, place_order
from tests.scenarios.dev_process import DevProcess, wait_until

pytestmark = pytest.mark.timeout(900)


def _migration_jobs(dev: DevProcess, namespace: str) -> dict[str, str]:
    jobs = dev.kube(f"apis/batch/v1/namespaces/{namespace}/jobs").json()["items"]
    return {
        j["metadata"]["name"]: j["spec"]["template"]["spec"]["initContainers"][1]["image"]
        for j in jobs
        if j["metadata"]["name"].startswith("medusa-migrate-")
    }


def test_a_real_medusa_store_upgrades_with_its_migrations_and_keeps_its_orders(
    real_dev: DevProcess, old_real_shop: dict[str, Any]
) -> None:
    dev, shop = real_dev, real_dev.store(old_real_shop["id"])
    assert shop["phase"] == "Ready", shop
    assert (shop["running_engine_version"], shop["workload_runtime"]) == (A, "local")
    first_order = place_order(dev, shop["id"])
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
    job_pod = kubectl(
        dev, "get", "pods", "-n", shop["namespace"], "-l", f"batch.kubernetes.io/job-name={new_job}",
        "-o", "jsonpath={.items[0].metadata.name}",
    )  # fmt: skip
    log = kubectl(dev, "logs", job_pod, "-c", "migrate", "-n", shop["namespace"])
    # A migration 2.21 brings and 2.20.1 does not have (the search module's), applied now.
    assert "Migrated Migration20260903085616" in log, log[-3000:]
    server = kubectl(
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
    orders = admin_order_ids(dev, shop)
    assert first_order in orders and check["order_id"] in orders
