"""Backups proven with an order that survives: one real Medusa store in a real ``storeplane
dev`` (local runtimes on), taken through backup, restore and clone. The store and the dev are
the session's shared ones (``real_shop`` and ``real_dev``, tests/real_medusa.py): orders other
journeys placed in it are in the backup too, and do not change what is asserted.

Order A is placed (the smoke check) and file A uploaded through the Admin API, a backup is
taken (a Job running Debian's ``pg_dump`` behind the ``postgres`` image into the folder target,
and ``tar`` of the uploads claim beside it), order B is placed, file B uploaded and file A
deleted; restoring the backup brings back order A and not B, found through the Admin API, and
file A with the same bytes at its URL and not file B; a clone of the backup is a new store in
which order A is found and file A is served, with an admin password of its own. Skipped, saying why, where
the real-store runtime (PostgreSQL's client tools, the Medusa build) is missing.
"""

from __future__ import annotations

import tarfile
from pathlib import Path
from typing import Any

import pytest

from tests.real_medusa import (
    READY_TIMEOUT,
    admin_order_ids,
    admin_password,
    delete_upload,
    fetch_upload,
    kubectl,
    place_order,
    reasons_since,
    upload_file,
)
from tests.scenarios.dev_process import DevProcess, wait_until

pytestmark = pytest.mark.timeout(900)


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


def _server_pod(dev: DevProcess, namespace: str) -> str:
    pods = dev.kube(
        f"api/v1/namespaces/{namespace}/pods", labelSelector="app.kubernetes.io/component=server"
    ).json()["items"]
    names = [p["metadata"]["name"] for p in pods if not p["metadata"].get("deletionTimestamp")]
    assert len(names) == 1, names
    return str(names[0])


def test_an_uploaded_file_outlives_its_server_pod(
    real_dev: DevProcess, real_shop: dict[str, Any]
) -> None:
    """The uploads claim (not an emptyDir): a file uploaded through the Admin API is served at
    its URL, through the store's Ingress, by the server pod that replaced the one it went to."""
    dev, shop = real_dev, real_dev.store(real_shop["id"])
    content = b"\x89PNG durable " + shop["id"].encode() + bytes(range(256))
    uploaded = upload_file(dev, shop, "durable.png", content)
    assert uploaded["url"].startswith(f"{shop['url']}/static/"), uploaded
    assert fetch_upload(uploaded["url"]) == (200, content)

    before = _server_pod(dev, shop["namespace"])
    kubectl(dev, "delete", "pod", before, "-n", shop["namespace"], "--wait=false")
    wait_until(
        lambda: dev.kube(
            f"api/v1/namespaces/{shop['namespace']}/pods",
            labelSelector="app.kubernetes.io/component=server",
        ).json()["items"],
        lambda pods: any(
            p["metadata"]["name"] != before
            and any(c["type"] == "Ready" and c["status"] == "True"
                    for c in (p.get("status") or {}).get("conditions") or [])
            for p in pods
        ),
        240,
        "a new server pod to be Ready",
        dev.log_path,
    )  # fmt: skip
    assert fetch_upload(uploaded["url"]) == (200, content)


def test_an_order_survives_backup_restore_and_clone(
    real_dev: DevProcess, real_shop: dict[str, Any]
) -> None:
    dev, shop = real_dev, real_dev.store(real_shop["id"])
    assert shop["phase"] == "Ready", shop
    assert shop["workload_runtime"] == "local", shop
    first_event = len(dev.events(shop["id"]))

    order_a = place_order(dev, shop["id"])
    bytes_a = b"\x89PNG file A " + bytes(range(256)) * 4
    file_a = upload_file(dev, shop, "file-a.png", bytes_a)
    backup = _backup(dev, shop["id"])
    assert backup["status"] == "Succeeded", backup["message"]
    assert backup["size_bytes"] > 10_000, backup  # a real pg_dump of Medusa's schema and data
    assert backup["engine"] == "medusa" and backup["engine_version"]
    dump = Path(dev.data_dir) / "backups" / shop["id"] / f"{backup['id']}.dump"
    archive = dump.with_name(f"{backup['id']}.uploads.tar.gz")
    # size_bytes counts both artifacts: the dump and the uploaded files' archive.
    assert dump.stat().st_size + archive.stat().st_size == backup["size_bytes"]
    assert dump.read_bytes()[:5] == b"PGDMP"  # pg_dump's custom format
    with tarfile.open(archive) as tar:
        assert f"./{file_a['id']}" in tar.getnames()
    assert not list(dump.parent.glob("*.partial"))
    order_b = place_order(dev, shop["id"])
    assert {order_a, order_b} <= admin_order_ids(dev, shop)
    file_b = upload_file(dev, shop, "file-b.png", b"file B, after the backup")
    delete_upload(dev, shop, file_a["id"])
    assert fetch_upload(file_a["url"])[0] == 404

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
    orders = admin_order_ids(dev, restored)
    assert order_a in orders
    assert order_b not in orders
    # The files are the backup's: A is back with its bytes, B (uploaded after it) is gone.
    assert fetch_upload(file_a["url"]) == (200, bytes_a)
    assert fetch_upload(file_b["url"])[0] == 404
    reasons = reasons_since(dev, shop["id"], first_event)
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
    assert order_a in admin_order_ids(dev, clone)
    assert order_b not in admin_order_ids(dev, clone)
    assert admin_password(dev, clone) != admin_password(dev, shop)
    assert clone["url"] != shop["url"] and clone["id"] in clone["url"]
    # The clone's uploaded files start as the backup's: file A at the clone's own URL.
    assert fetch_upload(f"{clone['url']}/static/{file_a['id']}") == (200, bytes_a)
    # The staged copies of the dump and archive in the clone's slice are gone once loaded.
    assert not list((Path(dev.data_dir) / "backups" / clone["id"]).glob("*.dump"))
    assert not list((Path(dev.data_dir) / "backups" / clone["id"]).glob("*.tar.gz"))
