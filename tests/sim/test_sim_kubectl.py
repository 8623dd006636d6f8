"""The real kubectl binary against the simulator, through a kubeconfig the simulator wrote."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import httpx
import pytest
from sim_helpers import deployment, namespace

from storeplane.sim.kubeconfig import write_kubeconfig
from storeplane.sim.runner import RunningSimulator

KUBECTL = shutil.which("kubectl")

pytestmark = pytest.mark.skipif(
    KUBECTL is None, reason="kubectl is not on PATH; install it to run the kubectl checks"
)


def kubectl(kubeconfig: Path, *args: str) -> subprocess.CompletedProcess[str]:
    assert KUBECTL is not None
    return subprocess.run(
        [KUBECTL, "--kubeconfig", str(kubeconfig), "--request-timeout=5s", *args],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def test_kubectl_lists_namespaces_and_deployments(
    sim: RunningSimulator, http: httpx.Client, tmp_path: Path
) -> None:
    config = write_kubeconfig(tmp_path / "kubeconfig", sim.url)
    namespace(http, "store-1")
    http.post("/apis/apps/v1/namespaces/store-1/deployments", json=deployment("web"))

    namespaces = kubectl(config, "get", "namespaces")
    assert namespaces.returncode == 0, namespaces.stderr
    assert "store-1" in namespaces.stdout
    assert "default" in namespaces.stdout

    deployments = kubectl(config, "get", "deployments", "-A")
    assert deployments.returncode == 0, deployments.stderr
    assert "store-1" in deployments.stdout and "web" in deployments.stdout


def test_kubectl_prints_the_servers_error(sim: RunningSimulator, tmp_path: Path) -> None:
    config = write_kubeconfig(tmp_path / "kubeconfig", sim.url)
    missing = kubectl(config, "get", "namespace", "nope")
    assert missing.returncode != 0
    assert 'Error from server (NotFound): namespaces "nope" not found' in missing.stderr


def test_kubectl_server_side_apply(sim: RunningSimulator, tmp_path: Path) -> None:
    config = write_kubeconfig(tmp_path / "kubeconfig", sim.url)
    manifest = tmp_path / "cm.yaml"
    manifest.write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: default\n"
        "data:\n  currency: EUR\n"
    )
    applied = kubectl(config, "apply", "--server-side", "--validate=false", "-f", str(manifest))
    assert applied.returncode == 0, applied.stderr
    assert "serverside-applied" in applied.stdout
    shown = kubectl(config, "get", "configmap", "settings", "-o", "jsonpath={.data.currency}")
    assert shown.stdout == "EUR"
