"""helm 4 (the project's .tools/bin/helm) managing a ``helm create`` chart in the simulator:
install (with ``--wait``: the simulated pods become ready), upgrade with a changed value,
history, rollback and uninstall. helm keeps each revision in a Secret
``sh.helm.release.v1.<release>.v<n>`` written with protobuf bodies; the workloads go in by
server-side apply. The test follows both in the simulator, not only helm's exit codes.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from storeplane.sim.kubeconfig import write_kubeconfig
from storeplane.sim.runner import RunningSimulator, SimulatorConfig, start_in_thread

HELM = shutil.which("helm")

pytestmark = pytest.mark.skipif(
    HELM is None, reason="helm is not on PATH; scripts/setup.sh installs it in .tools/bin"
)

NS = "helm-shop"


@pytest.fixture(scope="module")
def sim() -> Iterator[RunningSimulator]:
    with start_in_thread(SimulatorConfig(ready_delay=0.2, terminate_delay=0.1)) as running:
        yield running


@pytest.fixture(scope="module")
def helm_env(sim: RunningSimulator, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    home = tmp_path_factory.mktemp("helm")
    env = dict(os.environ)
    env.update(
        KUBECONFIG=str(write_kubeconfig(home / "kubeconfig", sim.url)),
        HELM_CACHE_HOME=str(home / "cache"),
        HELM_CONFIG_HOME=str(home / "config"),
        HELM_DATA_HOME=str(home / "data"),
    )
    return env


def helm(env: dict[str, str], *args: str) -> str:
    assert HELM is not None
    result = subprocess.run(
        [HELM, *args], capture_output=True, text=True, timeout=90, check=False, env=env
    )
    assert result.returncode == 0, f"helm {' '.join(args)}: {result.stderr}"
    return result.stdout


def release_secrets(http: httpx.Client) -> dict[str, str]:
    """helm's release Secrets in the namespace: name -> status label."""
    items = http.get(
        f"/api/v1/namespaces/{NS}/secrets", params={"labelSelector": "owner=helm"}
    ).json()["items"]
    return {s["metadata"]["name"]: s["metadata"]["labels"]["status"] for s in items}


def replicas(http: httpx.Client) -> int:
    deploy = http.get(f"/apis/apps/v1/namespaces/{NS}/deployments/shop-web")
    assert deploy.status_code == 200, deploy.text
    return int(deploy.json()["spec"]["replicas"])


@pytest.mark.parametrize(
    "apply_mode",
    ["--server-side=true", "--server-side=false"],
    ids=[
        "with server-side apply (helm 4's default)",
        "with client-side apply (creates, then strategic merge patches)",
    ],
)
def test_a_helm_create_chart_goes_through_its_whole_life(
    helm_env: dict[str, str], http: httpx.Client, tmp_path: Path, apply_mode: str
) -> None:
    chart = tmp_path / "web"
    helm(helm_env, "create", str(chart))
    http.post("/api/v1/namespaces", json={"metadata": {"name": NS}})
    common = ["-n", NS, "--timeout", "30s", apply_mode]

    helm(helm_env, "install", "shop", str(chart), "--wait", *common)
    assert release_secrets(http) == {"sh.helm.release.v1.shop.v1": "deployed"}
    assert replicas(http) == 1
    for path in ("services/shop-web", "serviceaccounts/shop-web"):
        assert http.get(f"/api/v1/namespaces/{NS}/{path}").status_code == 200
    deploy = http.get(f"/apis/apps/v1/namespaces/{NS}/deployments/shop-web").json()
    assert deploy["status"]["readyReplicas"] == 1  # --wait returned once it was ready

    helm(helm_env, "upgrade", "shop", str(chart), "--set", "replicaCount=3", "--wait", *common)
    assert replicas(http) == 3
    assert release_secrets(http) == {
        "sh.helm.release.v1.shop.v1": "superseded",
        "sh.helm.release.v1.shop.v2": "deployed",
    }

    history = helm(helm_env, "history", "shop", "-n", NS).splitlines()
    assert [line.split()[0] for line in history[1:]] == ["1", "2"]
    assert "Upgrade complete" in history[2]

    helm(helm_env, "rollback", "shop", "1", "--wait", *common[:-1])
    assert replicas(http) == 1
    assert release_secrets(http)["sh.helm.release.v1.shop.v3"] == "deployed"
    listed = helm(helm_env, "list", "-n", NS).splitlines()
    assert listed[1].split()[:3] == ["shop", NS, "3"]

    helm(helm_env, "uninstall", "shop", *common[:-1])
    assert release_secrets(http) == {}
    assert http.get(f"/apis/apps/v1/namespaces/{NS}/deployments/shop-web").status_code == 404
    assert helm(helm_env, "list", "-n", NS).splitlines()[1:] == []


def test_the_charts_optional_ingress_and_autoscaler_install_and_go(
    helm_env: dict[str, str], http: httpx.Client, tmp_path: Path
) -> None:
    chart = tmp_path / "web"
    helm(helm_env, "create", str(chart))
    http.post("/api/v1/namespaces", json={"metadata": {"name": "helm-extras"}})
    helm(
        helm_env, "install", "extras", str(chart), "-n", "helm-extras", "--wait", "--timeout", "30s",
        "--set", "ingress.enabled=true", "--set", "autoscaling.enabled=true",
    )  # fmt: skip
    base = "/apis/{}/namespaces/helm-extras/{}/extras-web"
    hpa = http.get(base.format("autoscaling/v2", "horizontalpodautoscalers")).json()
    assert hpa["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1", "kind": "Deployment", "name": "extras-web",
    }  # fmt: skip
    ingress = http.get(base.format("networking.k8s.io/v1", "ingresses")).json()
    assert ingress["spec"]["rules"][0]["host"] == "chart-example.local"
    helm(helm_env, "uninstall", "extras", "-n", "helm-extras", "--wait", "--timeout", "30s")
    for path in (
        ("autoscaling/v2", "horizontalpodautoscalers"),
        ("networking.k8s.io/v1", "ingresses"),
    ):
        assert http.get(base.format(*path)).status_code == 404
