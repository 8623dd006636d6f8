"""Helpers of the local node's tests (imported as ``node_helpers``)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import httpx

from storeplane.sim.node.images import load_table

REPO = Path(__file__).resolve().parents[3]


def kubectl_bin() -> str:
    """The real kubectl (PATH, else the repo's .tools/bin): missing fails, never skips."""
    found = shutil.which("kubectl") or str(REPO / ".tools" / "bin" / "kubectl")
    assert os.access(found, os.X_OK), "kubectl is missing: scripts/setup.sh installs it"
    return found


def kubectl(kubeconfig: Path, *args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run([kubectl_bin(), "--kubeconfig", str(kubeconfig), *args],
                          capture_output=True, text=True, timeout=timeout, check=False)  # fmt: skip


def pod(http: httpx.Client, ns: str, name: str) -> dict[str, Any]:
    response = http.get(f"/api/v1/namespaces/{ns}/pods/{name}")
    return dict(response.json()) if response.status_code == 200 else {}


def pods(http: httpx.Client, ns: str, selector: str = "") -> list[dict[str, Any]]:
    params = {"labelSelector": selector} if selector else {}
    return list(http.get(f"/api/v1/namespaces/{ns}/pods", params=params).json()["items"])


def ready(obj: dict[str, Any]) -> bool:
    return any(c.get("type") == "Ready" and c.get("status") == "True"
               for c in (obj.get("status") or {}).get("conditions") or [])  # fmt: skip


def finished(obj: dict[str, Any]) -> bool:
    return (obj.get("status") or {}).get("phase") in ("Succeeded", "Failed")


def alive(pid: int) -> bool:
    """A live (not zombie) process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rfind(")") + 2] != "Z"


def require_runtime(image: str) -> None:
    """Fail (never skip) when the built-in table's runtime for ``image`` cannot run here."""
    entry = load_table().lookup(image)
    assert entry is not None, f"no built-in runtime for {image}"
    assert entry.available, f"{image}: {entry.problem} (scripts/setup.sh --test installs it)"
