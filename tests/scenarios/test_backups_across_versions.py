"""A backup of Medusa 2.20.1 cloned into a new store at 2.21.2 (the shipped catalogue's
``restorable_from``), on the session's shared real dev (tests/real_medusa.py): the dump
replaces the new store's schema, its 2.21.2 migration Job runs on the loaded data, and the
order placed in the 2.20.1 store is found in the 2.21.2 clone through its Admin API.

It only reads ``old_real_shop`` (a backup and an order): the upgrade journey, which runs after
it, still finds that store at 2.20.1.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.engine_catalogues import A, B
from tests.real_medusa import READY_TIMEOUT, admin_order_ids, place_order
from tests.scenarios.dev_process import DevProcess, wait_until

pytestmark = pytest.mark.timeout(900)


def test_a_backup_of_the_older_version_clones_into_the_newer_one_and_is_migrated(
    real_dev: DevProcess, old_real_shop: dict[str, Any]
) -> None:
    dev, shop = real_dev, real_dev.store(old_real_shop["id"])
    assert shop["running_engine_version"] == A, shop
    order = place_order(dev, shop["id"])
    started = dev.api("POST", f"/stores/{shop['id']}/backups")
    assert started.status_code == 202, started.text
    backup = wait_until(
        lambda: dev.api("GET", f"/stores/{shop['id']}/backups/{started.json()['id']}").json(),
        lambda b: b["status"] != "Running",
        180,
        "the backup to finish",
        dev.log_path,
    )
    assert backup["status"] == "Succeeded" and backup["engine_version"] == A, backup

    created = dev.api(
        "POST",
        "/stores",
        json={"name": "migrated-clone", "engine": "medusa", "engine_version": B,
              "restore_from": {"store_id": shop["id"], "backup_id": backup["id"]}},
    )  # fmt: skip
    assert created.status_code == 202, created.text
    clone = dev.wait_for(created.json()["id"], {"Ready", "Failed"}, timeout=READY_TIMEOUT)
    assert clone["phase"] == "Ready", (clone["last_error"], clone["conditions"])
    assert clone["running_engine_version"] == B
    assert order in admin_order_ids(dev, clone)
    reasons = [e["reason"] for e in dev.events(clone["id"])]
    assert "RestoreSucceeded" in reasons
