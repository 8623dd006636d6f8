"""The S3 backup target end to end: one real Medusa store in a real ``storeplane dev`` whose
target is a bucket on a local moto server, taken through a backup (a real ``pg_dump`` streamed
to the bucket by the Job's uploader, and the uploaded files' archive as a second object) and a
restore read back from it (an uploaded file comes back, one uploaded after the backup goes).

moto (PyPI ``moto[server]``) stands in for S3 because it serves the S3 REST API itself over
HTTP (the multipart upload, HEAD, GET and DELETE the Jobs and the control plane send), so the
same requests reach it as would reach AWS or MinIO. It cannot be in the project's lock: every
botocore release pins python-dateutil<3 and the ``kubernetes`` client the tests need requires
>=3, so it runs in its own environment with ``uv tool run`` (a pinned version from PyPI).

The folder target's journey is tests/scenarios/test_backups_real.py. Skipped, saying why,
where the real-store runtime or uv is missing.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from storeplane.backup_s3 import S3Client, S3Error
from tests.real_medusa import (
    admin_order_ids,
    fetch_upload,
    kubectl,
    place_order,
    runtime_missing,
    start_real_dev,
    upload_file,
)
from tests.scenarios.dev_process import REPO, DevProcess, wait_until

pytestmark = pytest.mark.timeout(600)

# The pinned moto, one line shared with scripts/setup.sh --test (which fetches it beforehand).
MOTO = (REPO / "scripts" / "moto-server.txt").read_text().strip()
BUCKET = "storeplane-ci"
PREFIX = "ci/"
# Not 127.0.0.1: that is each pod's own address to the simulator's node (it rewrites it to
# the pod's), as in a pod on a real cluster; the endpoint is another host.
HOST = "127.0.0.3"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Client]:
    uv = shutil.which("uv")
    if uv is None:
        pytest.skip("uv is not on PATH: the local S3 server (moto) runs with uv tool run")
    port = _free_port()
    log = tmp_path_factory.mktemp("moto") / "moto.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [uv, "tool", "run", "--from", MOTO, "moto_server", "-H", HOST, "-p", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    client = S3Client(
        bucket=BUCKET,
        region="us-east-1",
        endpoint_url=f"http://{HOST}:{port}",
        access_key_id="test-key-id",  # moto's own test keys (its server accepts any)
        secret_access_key=secrets.token_hex(16),
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                client.create_bucket()
                break
            except S3Error:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"moto did not start: {log.read_text()[-2000:]}")
                time.sleep(0.3)
        yield client
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)


@pytest.fixture(scope="module")
def secret_values() -> dict[str, str]:
    return {
        "access-key-id": "AKIA" + secrets.token_hex(8).upper(),
        "secret-access-key": secrets.token_urlsafe(30),
    }


@pytest.fixture(scope="module")
def dev(
    tmp_path_factory: pytest.TempPathFactory, s3: S3Client, secret_values: dict[str, str]
) -> Iterator[DevProcess]:
    # Its own dev, not the session's shared real_dev: the backup target is a process setting.
    why = runtime_missing()
    if why is not None:
        pytest.skip(why)
    data_dir = tmp_path_factory.mktemp("s3-dev")
    env = {
        "STOREPLANE_BACKUP_TARGET": "s3",
        "STOREPLANE_BACKUP_S3_BUCKET": BUCKET,
        "STOREPLANE_BACKUP_S3_PREFIX": PREFIX,
        "STOREPLANE_BACKUP_S3_ENDPOINT_URL": f"http://{s3._host}",
        "STOREPLANE_BACKUP_S3_SECRET": "backup-bucket",
        "STOREPLANE_BACKUP_S3_SECRET_NAMESPACE": "storeplane",
    }
    process = start_real_dev(data_dir, env)
    try:
        # What an operator does: the bucket's keys in one Secret, with kubectl.
        kubectl(process, "create", "namespace", "storeplane")
        literals = [f"--from-literal={k}={v}" for k, v in secret_values.items()]
        kubectl(
            process, "create", "secret", "generic", "backup-bucket", "-n", "storeplane", *literals
        )
        yield process
    finally:
        process.stop()


def _kubectl(dev: DevProcess, *args: str) -> Any:
    return json.loads(kubectl(dev, *args, "-o", "json"))


def test_a_backup_goes_to_the_bucket_and_restores_from_it(
    dev: DevProcess, s3: S3Client, secret_values: dict[str, str]
) -> None:
    created = dev.api("POST", "/stores", json={"name": "bucketed", "engine": "medusa"})
    assert created.status_code == 202, created.text
    shop = dev.wait_for(created.json()["id"], {"Ready", "Failed"}, timeout=420)
    assert shop["phase"] == "Ready", shop
    namespace = shop["namespace"]

    # The keys reached the store's namespace as a Secret copy; the egress opening selects only
    # the backup Jobs' pods and names only the endpoint.
    copy = _kubectl(dev, "get", "secret", "storeplane-backup-s3", "-n", namespace)
    assert {k: base64.b64decode(v).decode() for k, v in copy["data"].items()} == secret_values
    policy = _kubectl(dev, "get", "networkpolicy", "allow-backup-s3-egress", "-n", namespace)
    assert policy["spec"]["podSelector"] == {"matchLabels": {"storeplane.dev/backup-egress": "s3"}}
    [rule] = policy["spec"]["egress"]
    assert rule["to"] == [{"ipBlock": {"cidr": f"{HOST}/32"}}]
    assert rule["ports"] == [{"protocol": "TCP", "port": int(s3._host.rsplit(":", 1)[1])}]

    bytes_a = b"file A in the bucket " + bytes(range(256))
    file_a = upload_file(dev, shop, "file-a.png", bytes_a)
    started = dev.api("POST", f"/stores/{shop['id']}/backups")
    assert started.status_code == 202, started.text
    assert started.json()["target"] == "s3"
    backup = wait_until(
        lambda: dev.api("GET", f"/stores/{shop['id']}/backups/{started.json()['id']}").json(),
        lambda b: b["status"] != "Running",
        180,
        "the backup to finish",
        dev.log_path,
    )
    assert backup["status"] == "Succeeded", backup["message"]
    key = f"{PREFIX}{shop['id']}/{backup['id']}.dump"
    uploads_key = f"{PREFIX}{shop['id']}/{backup['id']}.uploads.tar.gz"
    assert backup["size_bytes"] > 10_000, backup  # a real pg_dump of Medusa's schema and data
    # Two objects, the dump and the uploaded files' archive; size_bytes counts both.
    dump_size, uploads_size = s3.size(key), s3.size(uploads_key)
    assert dump_size and uploads_size, (dump_size, uploads_size)
    assert dump_size + uploads_size == backup["size_bytes"]
    listed = dev.api("GET", f"/stores/{shop['id']}/backups").json()["items"]
    assert [b["id"] for b in listed if b["target"] == "s3"] == [backup["id"]]
    # The Job got the keys by reference only.
    job = _kubectl(dev, "get", "job", backup["id"], "-n", namespace)
    env = {e["name"]: e for e in job["spec"]["template"]["spec"]["containers"][0]["env"]}
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        assert "value" not in env[name]
        assert env[name]["valueFrom"]["secretKeyRef"]["name"] == "storeplane-backup-s3"

    order_b = place_order(dev, shop["id"])  # after the backup: the restore takes it away
    file_b = upload_file(dev, shop, "file-b.png", b"file B, after the backup")
    restoring = dev.api("POST", f"/stores/{shop['id']}/restore", json={"backup_id": backup["id"]})
    assert restoring.status_code == 202, restoring.text
    restored = dev.wait_for(shop["id"], {"Ready", "Failed"}, timeout=300)
    assert restored["phase"] == "Ready", restored
    assert order_b not in admin_order_ids(dev, restored)
    assert fetch_upload(file_a["url"]) == (200, bytes_a)  # read back from the archive object
    assert fetch_upload(file_b["url"])[0] == 404
    reasons = [e["reason"] for e in dev.events(shop["id"])]
    assert "RestoreSucceeded" in reasons

    # DELETE removes the object from the bucket too.
    assert dev.api("DELETE", f"/stores/{shop['id']}/backups/{backup['id']}").status_code == 202
    wait_until(
        lambda: (s3.size(key), s3.size(uploads_key)),
        lambda sizes: sizes == (None, None),
        30,
        "both objects to go",
        dev.log_path,
    )

    # The keys never appear in an answer, an event, the Kubernetes events or the log.
    said = [
        json.dumps(dev.api("GET", f"/stores/{shop['id']}/backups").json()),
        json.dumps(dev.events(shop["id"])),
        json.dumps(dev.api("GET", f"/stores/{shop['id']}").json()),
        json.dumps(_kubectl(dev, "get", "events", "-n", namespace)),
        Path(dev.log_path).read_text(),
    ]
    for value in secret_values.values():
        assert not any(value in text for text in said)
