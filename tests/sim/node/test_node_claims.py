"""The local node's PersistentVolumeClaims: a pod waits for its claim to be bound, a claim's
files outlive the pod that wrote them (the next pod of the claim reads them), and the claim's
folder goes with the claim.

Real processes (the PostgreSQL image's ``sh``) on the module's simulator with local runtimes on;
each test has its own namespace. The official kubectl reads the claim, as a user would.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

import httpx
import pytest
from node_helpers import finished, kubectl, pod, require_runtime
from sim_helpers import wait_until

from storeplane.sim.kubeconfig import write_kubeconfig
from storeplane.sim.runner import RunningSimulator

TOOLS = "postgres:16-alpine"  # has a local runtime: sh and coreutils


@pytest.fixture
def ns(lhttp: httpx.Client) -> str:
    require_runtime(TOOLS)
    created = lhttp.post("/api/v1/namespaces", json={"metadata": {"generateName": "claims-"}})
    assert created.status_code == 201, created.text
    return str(created.json()["metadata"]["name"])


def _post(http: httpx.Client, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = http.post(path, json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


def _claim(name: str, **spec: Any) -> dict[str, Any]:
    return {"metadata": {"name": name}, "spec": {
        "accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}},
        **spec}}  # fmt: skip


def _pod(name: str, claim: str, command: str) -> dict[str, Any]:
    return {"metadata": {"name": name}, "spec": {
        "restartPolicy": "Never",
        "containers": [{"name": "main", "image": TOOLS, "command": ["sh", "-c", command],
                        "volumeMounts": [{"name": "files", "mountPath": "/files"}]}],
        "volumes": [{"name": "files", "persistentVolumeClaim": {"claimName": claim}}]}}  # fmt: skip


def _log(http: httpx.Client, ns: str, name: str) -> str:
    return http.get(f"/api/v1/namespaces/{ns}/pods/{name}/log").text


def _events(http: httpx.Client, ns: str) -> list[str]:
    items = http.get(f"/api/v1/namespaces/{ns}/events").json()["items"]
    return [f"{e['reason']}: {e['message']}" for e in items]


def test_a_claims_files_outlive_the_pod_and_go_with_the_claim(lhttp: httpx.Client, ns: str) -> None:
    _post(lhttp, f"/api/v1/namespaces/{ns}/persistentvolumeclaims", _claim("uploads"))
    _post(lhttp, f"/api/v1/namespaces/{ns}/pods",
          _pod("writer", "uploads", "echo kept > /files/a.txt; echo wrote"))  # fmt: skip
    wait_until(lambda: finished(pod(lhttp, ns, "writer")), timeout=30)
    assert pod(lhttp, ns, "writer")["status"]["phase"] == "Succeeded", _log(lhttp, ns, "writer")
    assert lhttp.delete(f"/api/v1/namespaces/{ns}/pods/writer").status_code == 200

    _post(lhttp, f"/api/v1/namespaces/{ns}/pods",
          _pod("reader", "uploads", "cat /files/a.txt"))  # fmt: skip
    wait_until(lambda: finished(pod(lhttp, ns, "reader")), timeout=30)
    assert pod(lhttp, ns, "reader")["status"]["phase"] == "Succeeded"
    assert _log(lhttp, ns, "reader").strip() == "kept"
    folders = lhttp.get("/sim/v1/node/residue", params={"namespace": ns}).json()["folders"]
    claim_folder = next(Path(f) for f in folders if f.endswith(f"claims/{ns}/uploads"))
    assert (claim_folder / "a.txt").read_text() == "kept\n"

    assert lhttp.delete(f"/api/v1/namespaces/{ns}/pods/reader").status_code == 200
    assert lhttp.delete(f"/api/v1/namespaces/{ns}/persistentvolumeclaims/uploads").status_code in (
        200,
        202,
    )
    wait_until(lambda: not claim_folder.exists(), timeout=20)


def test_a_pod_waits_for_its_claim_to_be_bound_to_the_volume_it_names(
    sim: RunningSimulator, lhttp: httpx.Client, ns: str, tmp_path: Path
) -> None:
    """A claim naming a PersistentVolume that does not exist yet stays Pending (kubectl says
    so), its pod waits with FailedMount; once the hostPath volume exists the claim is Bound and
    the pod writes into the volume's host folder."""
    volume = f"{ns}-files"
    _post(lhttp, f"/api/v1/namespaces/{ns}/persistentvolumeclaims",
          _claim("files", storageClassName="", volumeName=volume))  # fmt: skip
    _post(lhttp, f"/api/v1/namespaces/{ns}/pods",
          _pod("waits", "files", "echo landed > /files/b.txt"))  # fmt: skip
    wait_until(lambda: any("PVC is not bound" in e for e in _events(lhttp, ns)), timeout=20)
    kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", sim.url)

    def phase() -> str:
        shown = kubectl(kubeconfig, "get", "pvc", "files", "-n", ns, "-o", "json")
        assert shown.returncode == 0, shown.stderr
        return str((json.loads(shown.stdout).get("status") or {}).get("phase"))

    # The binder looked (after its delay) and left it Pending: the volume does not exist.
    wait_until(lambda: phase() == "Pending", timeout=20, interval=0.2)
    assert not finished(pod(lhttp, ns, "waits"))

    # As root the image's tools run as Debian's postgres user: the volume's folder must be
    # reachable by it (pytest's own folders are private).
    host = Path(tempfile.mkdtemp(prefix="sim-claims-")) / "volume"
    host.parent.chmod(0o755)
    _post(lhttp, "/api/v1/persistentvolumes", {"metadata": {"name": volume}, "spec": {
        "capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"],
        "persistentVolumeReclaimPolicy": "Retain", "storageClassName": "",
        "hostPath": {"path": str(host), "type": "DirectoryOrCreate"},
        "claimRef": {"namespace": ns, "name": "files"}}})  # fmt: skip
    wait_until(lambda: finished(pod(lhttp, ns, "waits")), timeout=30)
    assert pod(lhttp, ns, "waits")["status"]["phase"] == "Succeeded", _log(lhttp, ns, "waits")
    assert (host / "b.txt").read_text() == "landed\n"
    claim = lhttp.get(f"/api/v1/namespaces/{ns}/persistentvolumeclaims/files").json()
    assert claim["status"]["phase"] == "Bound"
    assert lhttp.delete(f"/api/v1/persistentvolumes/{volume}").status_code in (200, 202)
    shutil.rmtree(host.parent)
