"""The deletion policy in a real ``storeplane dev`` (workloads simulated): a store with
``final_backup`` is backed up before its namespace goes, the teardown waits for that backup,
the zero-residue check still holds, and the tombstone lists the final backup with its expiry.

A simulated store has nothing to dump, so its final backup says so and a clone of it is
refused with that reason; the real dump and restore are tests/scenarios/test_backups_real.py.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from tests.scenarios.dev_process import DevProcess


def test_a_final_backup_is_taken_before_teardown_and_listed_on_the_tombstone(
    dev: DevProcess,
) -> None:
    created = dev.api(
        "POST", "/stores", json={"name": "kept-shop", "engine": "medusa", "final_backup": True}
    )
    assert created.status_code == 202, created.text
    assert created.json()["final_backup"] is True
    store_id = created.json()["id"]
    dev.wait_for(store_id, {"Ready"}, timeout=60)
    assert dev.api("DELETE", f"/stores/{store_id}").status_code == 202
    gone = dev.wait_for(store_id, {"Deleted"}, timeout=90)
    events = dev.events(store_id)
    reasons = [e["reason"] for e in events]
    # The teardown waited for the final backup, saying so, and deleted the namespace after it.
    assert reasons.index("WaitingForBackup") < reasons.index("BackupSucceeded"), reasons
    assert reasons.index("BackupSucceeded") < reasons.index("TeardownStarted"), reasons
    assert "TeardownVerified" in reasons
    assert dev.labelled_objects(store_id) == []  # the PersistentVolume went too

    listed = dev.api("GET", f"/stores/{store_id}/backups").json()["items"]
    [final] = [b for b in listed if b["kind"] == "final"]
    assert final["status"] == "Succeeded"
    assert final["message"].startswith("simulated:")
    expires = datetime.fromisoformat(final["expires_at"])
    deleted = datetime.fromisoformat(gone["deleted_at"])
    assert timedelta(days=6) < expires - deleted < timedelta(days=8)

    clone = dev.api(
        "POST",
        "/stores",
        json={
            "name": "kept-clone",
            "engine": "medusa",
            "restore_from": {"store_id": store_id, "backup_id": final["id"]},
        },
    )
    assert clone.status_code == 409, clone.text
    assert "holds no data" in clone.json()["detail"]
