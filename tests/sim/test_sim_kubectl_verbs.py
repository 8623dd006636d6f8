"""kubectl 1.35 (the project's .tools/bin/kubectl) doing what a Kubernetes user types first,
against one simulator with its controllers running. Each test checks the effect in the
simulator over its HTTP API, not only kubectl's exit code.

``create ...`` subcommands send protobuf bodies (kubectl 1.35+), ``create -f`` and
client-side ``apply`` send JSON, ``apply`` of a changed object and ``edit`` send strategic
merge patches, ``diff`` uses ``dryRun=All``, ``scale`` the scale subresource and ``get`` asks
for Table output.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sim_helpers import wait_until

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
        # Its own discovery cache: kubectl keeps one per server address for hours.
        [
            KUBECTL,
            "--kubeconfig",
            str(kubeconfig),
            f"--cache-dir={kubeconfig.parent / 'cache'}",
            "--request-timeout=10s",
            *args,
        ],
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


DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata: {{name: app, namespace: {ns}}}
spec:
  replicas: 1
  selector: {{matchLabels: {{app: app}}}}
  template:
    metadata: {{labels: {{app: app}}}}
    spec:
      containers:
      - name: web
        image: {image}
        ports: [{{containerPort: 80}}]
        env: [{{name: A, value: "1"}}]
      - name: side
        image: busybox:1.36
"""


def images(http: httpx.Client, ns: str, name: str = "app") -> list[str]:
    deploy = http.get(f"/apis/apps/v1/namespaces/{ns}/deployments/{name}").json()
    return [c["image"] for c in deploy["spec"]["template"]["spec"]["containers"]]


@pytest.fixture
def deployed(
    kubeconfig: Path, http: httpx.Client, tmp_path: Path, request: pytest.FixtureRequest
) -> tuple[str, Path]:
    """A namespace with the two-container Deployment applied client-side; the manifest path."""
    ns = "kc-" + request.node.name.removeprefix("test_").replace("_", "-")[:40]
    kubectl(kubeconfig, "create", "namespace", ns)
    manifest = tmp_path / "app.yaml"
    manifest.write_text(DEPLOYMENT.format(ns=ns, image="nginx:1.27"))
    out = kubectl(kubeconfig, "apply", "-f", str(manifest))
    assert out.stdout.strip() == "deployment.apps/app created"
    return ns, manifest


def test_apply_twice_with_a_changed_image(
    kubeconfig: Path, http: httpx.Client, deployed: tuple[str, Path]
) -> None:
    ns, manifest = deployed
    manifest.write_text(DEPLOYMENT.format(ns=ns, image="nginx:1.28"))
    out = kubectl(kubeconfig, "apply", "-f", str(manifest))
    assert out.stdout.strip() == "deployment.apps/app configured"
    assert "Warning" not in out.stderr  # the $setElementOrder directive was understood
    assert images(http, ns) == ["nginx:1.28", "busybox:1.36"]
    deploy = http.get(f"/apis/apps/v1/namespaces/{ns}/deployments/app").json()
    assert deploy["metadata"]["generation"] == 2
    web = deploy["spec"]["template"]["spec"]["containers"][0]
    assert web["env"] == [{"name": "A", "value": "1"}] and web["ports"] == [{"containerPort": 80}]
    # Removing the side container from the manifest removes it from the cluster.
    manifest.write_text(DEPLOYMENT.format(ns=ns, image="nginx:1.28").split("      - name: side")[0])
    kubectl(kubeconfig, "apply", "-f", str(manifest))
    assert images(http, ns) == ["nginx:1.28"]
    unchanged = kubectl(kubeconfig, "apply", "-f", str(manifest))
    assert unchanged.stdout.strip() == "deployment.apps/app unchanged"


def test_edit_through_kube_editor(
    kubeconfig: Path, http: httpx.Client, deployed: tuple[str, Path], tmp_path: Path
) -> None:
    ns, _ = deployed
    editor = tmp_path / "editor.sh"
    editor.write_text('#!/bin/sh\nsed -i "s/busybox:1.36/busybox:1.37/" "$1"\n')
    editor.chmod(0o755)
    env = {**os.environ, "KUBE_EDITOR": str(editor)}
    out = kubectl(kubeconfig, "edit", "deployment/app", "-n", ns, env=env)
    assert out.stdout.strip() == "deployment.apps/app edited"
    assert images(http, ns) == ["nginx:1.27", "busybox:1.37"]
    managers = {
        f["manager"]
        for f in http.get(f"/apis/apps/v1/namespaces/{ns}/deployments/app").json()["metadata"][
            "managedFields"
        ]
    }
    assert "kubectl-edit" in managers


def test_diff_exits_1_with_a_diff_when_changed_and_0_when_not(
    kubeconfig: Path, http: httpx.Client, deployed: tuple[str, Path]
) -> None:
    ns, manifest = deployed
    same = kubectl(kubeconfig, "diff", "-f", str(manifest), check=False)
    assert (same.returncode, same.stdout) == (0, ""), same.stderr
    before = http.get(f"/apis/apps/v1/namespaces/{ns}/deployments/app").json()
    manifest.write_text(DEPLOYMENT.format(ns=ns, image="nginx:1.28"))
    changed = kubectl(kubeconfig, "diff", "-f", str(manifest), check=False)
    assert changed.returncode == 1, changed.stderr
    assert "-        image: nginx:1.27" in changed.stdout
    assert "+        image: nginx:1.28" in changed.stdout
    # diff's dry run changed nothing (status may move on: the controllers run meanwhile).
    after = http.get(f"/apis/apps/v1/namespaces/{ns}/deployments/app").json()
    assert after["metadata"]["generation"] == before["metadata"]["generation"] == 1
    assert after["spec"] == before["spec"]
    assert images(http, ns) == ["nginx:1.27", "busybox:1.36"]


def test_server_side_dry_run_stores_nothing(kubeconfig: Path, http: httpx.Client) -> None:
    kubectl(kubeconfig, "create", "namespace", "kc-dry")
    out = kubectl(
        kubeconfig, "create", "configmap", "c", "-n", "kc-dry", "--from-literal=a=b",
        "--dry-run=server", "-o", "jsonpath={.data.a} {.metadata.uid}",
    )  # fmt: skip
    value, uid = out.stdout.split()
    assert value == "b" and uid  # answered as if created, with server-set fields
    assert http.get("/api/v1/namespaces/kc-dry/configmaps/c").status_code == 404
    kubectl(kubeconfig, "create", "configmap", "c", "-n", "kc-dry", "--from-literal=a=b")
    kubectl(kubeconfig, "delete", "configmap", "c", "-n", "kc-dry", "--dry-run=server")
    assert http.get("/api/v1/namespaces/kc-dry/configmaps/c").status_code == 200


def test_scale_deployment(kubeconfig: Path, http: httpx.Client, deployed: tuple[str, Path]) -> None:
    ns, _ = deployed
    out = kubectl(kubeconfig, "scale", "deployment/app", "-n", ns, "--replicas=3")
    assert out.stdout.strip() == "deployment.apps/app scaled"
    assert (
        http.get(f"/apis/apps/v1/namespaces/{ns}/deployments/app").json()["spec"]["replicas"] == 3
    )
    kubectl(
        kubeconfig, "wait", "-n", ns, "deployment/app", "--for=jsonpath={.status.readyReplicas}=3",
        "--timeout=10s",
    )  # fmt: skip
    pods = http.get(f"/api/v1/namespaces/{ns}/pods", params={"labelSelector": "app=app"})
    assert len(pods.json()["items"]) == 3
    rows = table(
        kubectl(kubeconfig, "get", "deployment/app", "-n", ns, "--subresource=scale").stdout
    )
    assert rows == [["NAME", "DESIRED", "AVAILABLE"], ["app", "3", "3"]]
    scale = http.get(f"/apis/apps/v1/namespaces/{ns}/deployments/app/scale").json()
    assert scale["spec"] == {"replicas": 3}
    assert scale["status"] == {"replicas": 3, "selector": "app=app"}


def table(out: str) -> list[list[str]]:
    """kubectl's printed table as rows of cells (split on runs of two or more spaces)."""
    return [re.split(r"\s{2,}", line.strip()) for line in out.strip().splitlines()]


def test_get_pods_shows_ready_and_status(
    kubeconfig: Path, http: httpx.Client, deployed: tuple[str, Path]
) -> None:
    ns, _ = deployed
    kubectl(
        kubeconfig, "create", "deployment", "broken", "-n", ns, "--image=nginx:fail",
    )  # fmt: skip
    kubectl(
        kubeconfig, "wait", "-n", ns, "deployment/app", "--for=condition=Available", "--timeout=10s"
    )
    wait_until(lambda: all(
        p.get("status", {}).get("containerStatuses")
        for p in http.get(f"/api/v1/namespaces/{ns}/pods").json()["items"]
    ))  # fmt: skip
    rows = table(kubectl(kubeconfig, "get", "pods", "-n", ns).stdout)
    assert rows[0] == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    by_app = {row[0].rsplit("-", 2)[0]: row[1:4] for row in rows[1:]}
    assert by_app == {"app": ["2/2", "Running", "0"], "broken": ["0/1", "ErrImagePull", "0"]}
    wide = table(kubectl(kubeconfig, "get", "pods", "-A", "-o", "wide").stdout)
    assert wide[0][:2] == ["NAMESPACE", "NAME"] and "NODE" in wide[0]
    assert {row[0] for row in wide[1:]} >= {ns}


def test_get_all_lists_the_workloads(
    kubeconfig: Path, http: httpx.Client, deployed: tuple[str, Path]
) -> None:
    ns, _ = deployed
    kubectl(kubeconfig, "create", "service", "clusterip", "app", "-n", ns, "--tcp=80:80")
    kubectl(kubeconfig, "create", "job", "migrate", "-n", ns, "--image=busybox:1.36")
    kubectl(
        kubeconfig, "wait", "-n", ns, "deployment/app", "--for=condition=Available", "--timeout=10s"
    )
    kubectl(
        kubeconfig, "wait", "-n", ns, "job/migrate", "--for=condition=Complete", "--timeout=10s"
    )
    out = kubectl(kubeconfig, "get", "all", "-n", ns).stdout
    sections = {
        block.splitlines()[1].split()[0].split("/")[0]: table(block) for block in out.split("\n\n")
    }
    # In a cluster's order: core (pods, services), then apps, then batch.
    assert list(sections) == ["pod", "service", "deployment.apps", "replicaset.apps", "job.batch"]
    assert sections["deployment.apps"][0] == ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]
    assert sections["deployment.apps"][1][:4] == ["deployment.apps/app", "1/1", "1", "1"]
    assert sections["service"][0] == ["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE"]
    service = http.get(f"/api/v1/namespaces/{ns}/services/app").json()
    assert sections["service"][1][:5] == [
        "service/app", "ClusterIP", service["spec"]["clusterIP"], "<none>", "80/TCP",
    ]  # fmt: skip
    assert sections["job.batch"][0] == ["NAME", "STATUS", "COMPLETIONS", "DURATION", "AGE"]
    assert sections["job.batch"][1][:3] == ["job.batch/migrate", "Complete", "1/1"]
    assert len(sections["pod"]) == 2 and sections["pod"][1][1:3] == ["2/2", "Running"]


def test_get_namespaces_shows_status(kubeconfig: Path) -> None:
    kubectl(kubeconfig, "create", "namespace", "kc-status")
    rows = table(kubectl(kubeconfig, "get", "namespaces").stdout)
    assert rows[0] == ["NAME", "STATUS", "AGE"]
    assert next(r for r in rows if r[0] == "kc-status")[:2] == ["kc-status", "Active"]


def test_autoscale_creates_an_autoscaling_v2_hpa(
    kubeconfig: Path, http: httpx.Client, deployed: tuple[str, Path]
) -> None:
    ns, _ = deployed
    kubectl(kubeconfig, "autoscale", "deployment/app", "-n", ns, "--min=2", "--max=5", "--cpu=60%")
    hpa = http.get(f"/apis/autoscaling/v2/namespaces/{ns}/horizontalpodautoscalers/app").json()
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (2, 5)
    assert hpa["spec"]["metrics"][0]["resource"] == {
        "name": "cpu", "target": {"type": "Utilization", "averageUtilization": 60},
    }  # fmt: skip
    rows = table(kubectl(kubeconfig, "get", "hpa", "-n", ns).stdout)
    assert rows[0] == ["NAME", "REFERENCE", "TARGETS", "MINPODS", "MAXPODS", "REPLICAS", "AGE"]
    assert rows[1][:5] == ["app", "Deployment/app", "cpu: <unknown>/60%", "2", "5"]
