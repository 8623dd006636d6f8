"""kubectl 1.35 (the project's .tools/bin/kubectl) doing what a Kubernetes user types first,
against one simulator with its controllers running. Each test checks the effect in the
simulator over its HTTP API, not only kubectl's exit code.

``create ...`` subcommands send protobuf bodies (kubectl 1.35+), ``create -f`` and
client-side ``apply`` send JSON, ``apply`` of a changed object and ``edit`` send strategic
merge patches, ``diff`` uses ``dryRun=All``, ``scale`` the scale subresource and ``get`` asks
for Table output.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from storeplane.sim.kubeconfig import write_kubeconfig
from storeplane.sim.runner import RunningSimulator, SimulatorConfig, start_in_thread

KUBECTL = shutil.which("kubectl")

pytestmark = pytest.mark.skipif(
    KUBECTL is None, reason="kubectl is not on PATH; scripts/setup.sh installs it in .tools/bin"
)


@pytest.fixture(scope="module")
def sim() -> Iterator[RunningSimulator]:
    with start_in_thread(SimulatorConfig(ready_delay=0.2, terminate_delay=0.1)) as running:
        yield running


@pytest.fixture(scope="module")
def kubeconfig(sim: RunningSimulator, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_kubeconfig(tmp_path_factory.mktemp("kubectl") / "kubeconfig", sim.url)


def kubectl(
    kubeconfig: Path, *args: str, env: dict[str, str] | None = None, check: bool = True
) -> subprocess.CompletedProcess[str]:
    assert KUBECTL is not None
    result = subprocess.run(
        [KUBECTL, "--kubeconfig", str(kubeconfig), "--request-timeout=10s", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=env,
    )
    if check:
        assert result.returncode == 0, f"kubectl {' '.join(args)}: {result.stderr}"
    return result


def test_create_namespace(kubeconfig: Path, http: httpx.Client) -> None:
    out = kubectl(kubeconfig, "create", "namespace", "kc-create")
    assert out.stdout.strip() == "namespace/kc-create created"
    ns = http.get("/api/v1/namespaces/kc-create").json()
    assert ns["status"]["phase"] == "Active"
    assert ns["metadata"]["labels"]["kubernetes.io/metadata.name"] == "kc-create"


def test_create_configmap_and_secret_generic(kubeconfig: Path, http: httpx.Client) -> None:
    kubectl(kubeconfig, "create", "namespace", "kc-data")
    kubectl(
        kubeconfig, "create", "configmap", "settings", "-n", "kc-data",
        "--from-literal=currency=EUR", "--from-literal=region=eu",
    )  # fmt: skip
    kubectl(
        kubeconfig, "create", "secret", "generic", "creds", "-n", "kc-data",
        "--from-literal=password=s3cret",
    )  # fmt: skip
    cm = http.get("/api/v1/namespaces/kc-data/configmaps/settings").json()
    assert cm["data"] == {"currency": "EUR", "region": "eu"}
    secret = http.get("/api/v1/namespaces/kc-data/secrets/creds").json()
    assert secret["type"] == "Opaque"
    assert secret["data"] == {"password": "czNjcmV0"}  # base64 of s3cret
    managers = [f["manager"] for f in cm["metadata"]["managedFields"]]
    assert managers == ["kubectl-create"]


def test_create_deployment_runs_its_pods(kubeconfig: Path, http: httpx.Client) -> None:
    kubectl(kubeconfig, "create", "namespace", "kc-deploy")
    kubectl(
        kubeconfig, "create", "deployment", "web", "-n", "kc-deploy",
        "--image=nginx:1.27", "--port=80", "--replicas=2",
    )  # fmt: skip
    deploy = http.get("/apis/apps/v1/namespaces/kc-deploy/deployments/web").json()
    container = deploy["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == "nginx:1.27"
    assert container["ports"] == [{"containerPort": 80}]
    assert deploy["spec"]["selector"] == {"matchLabels": {"app": "web"}}
    kubectl(
        kubeconfig, "wait", "-n", "kc-deploy", "deployment/web", "--for=condition=Available",
        "--timeout=10s",
    )  # fmt: skip
    pods = http.get("/api/v1/namespaces/kc-deploy/pods", params={"labelSelector": "app=web"})
    assert len(pods.json()["items"]) == 2


def test_create_from_a_manifest_file(kubeconfig: Path, http: httpx.Client, tmp_path: Path) -> None:
    manifest = tmp_path / "shop.yaml"
    manifest.write_text(
        """\
apiVersion: v1
kind: Namespace
metadata: {name: kc-file}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: kc-file}
spec:
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: http}]
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: shop, namespace: kc-file}
"""
    )
    out = kubectl(kubeconfig, "create", "-f", str(manifest))
    assert out.stdout.split() == [
        "namespace/kc-file", "created", "service/web", "created",
        "serviceaccount/shop", "created",
    ]  # fmt: skip
    service = http.get("/api/v1/namespaces/kc-file/services/web").json()
    assert service["spec"]["ports"][0]["targetPort"] == "http"
    assert service["spec"]["clusterIP"].startswith("10.")
    again = kubectl(kubeconfig, "create", "-f", str(manifest), check=False)
    assert again.returncode == 1
    assert "Error from server (AlreadyExists): error when creating" in again.stderr
