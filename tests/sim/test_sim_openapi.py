"""``/openapi/v3`` documents built from the Kubernetes schemas, and plain ``kubectl apply``
(with its default validation), ``explain`` and ``describe`` against them."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest
from sim_helpers import wait_until

from storeplane.sim.kinds import KINDS, Kind
from storeplane.sim.kubeconfig import write_kubeconfig
from storeplane.sim.runner import RunningSimulator, SimulatorConfig


@pytest.fixture(scope="module")
def shared_sim_config() -> SimulatorConfig:
    return SimulatorConfig(ready_delay=0.1, terminate_delay=0.1)


@pytest.fixture
def sim(shared_sim: RunningSimulator) -> RunningSimulator:
    return shared_sim


def document(http: httpx.Client, kind: Kind) -> dict[str, Any]:
    root = http.get("/openapi/v3").json()
    key = f"apis/{kind.group}/{kind.version}" if kind.group else f"api/{kind.version}"
    url = root["paths"][key]["serverRelativeURL"]
    assert url.startswith(f"/openapi/v3/{key}?hash=")
    response = http.get(url)
    assert response.status_code == 200
    return dict(response.json())


@pytest.mark.parametrize("kind", KINDS, ids=[f"{k.kind} is described" for k in KINDS])
def test_every_kind_has_operations_and_a_schema(http: httpx.Client, kind: Kind) -> None:
    doc = document(http, kind)
    assert doc["openapi"] == "3.0.0"
    verb = "patch" if kind.stored else "post"  # an access review is only ever posted
    operations = [
        op[verb]
        for op in doc["paths"].values()
        if verb in op
        and op[verb]["x-kubernetes-group-version-kind"]
        == {"group": kind.group, "version": kind.version, "kind": kind.kind}
    ]
    assert operations, "kubectl finds a kind's PATCH operation by its group-version-kind"
    assert "fieldValidation" in [p["name"] for p in operations[0]["parameters"]]
    schemas = doc["components"]["schemas"]
    [name] = [
        n
        for n, s in schemas.items()
        if {"group": kind.group, "version": kind.version, "kind": kind.kind}
        in s.get("x-kubernetes-group-version-kind", [])
    ]
    assert schemas[name]["type"] == "object"


def test_schemas_are_openapi_not_json_schema(http: httpx.Client) -> None:
    deployments = next(k for k in KINDS if k.kind == "Deployment")
    schemas = document(http, deployments)["components"]["schemas"]
    spec = schemas["io.k8s.api.apps.v1.DeploymentSpec"]
    assert spec["properties"]["replicas"]["type"] == "integer"
    assert spec["properties"]["selector"] == {
        "$ref": "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector",
        "description": spec["properties"]["selector"]["description"],
    }
    assert schemas["io.k8s.apimachinery.pkg.util.intstr.IntOrString"]["format"] == "int-or-string"
    refs = str(schemas)
    assert "$defs" not in refs and "'null'" not in refs


def test_an_unknown_group_version_document_is_not_found(http: httpx.Client) -> None:
    assert http.get("/openapi/v3/apis/example.com/v1").status_code == 404
    assert http.get("/openapi/v2").status_code == 404


KUBECTL = shutil.which("kubectl")
MANIFEST = """apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: default, labels: {app: web}}
spec:
  replicas: REPLICAS
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: "nginx:1.27", ports: [{containerPort: 80}]}]
"""


def kubectl(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    assert KUBECTL is not None
    return subprocess.run(
        [KUBECTL, "--kubeconfig", str(config), "--request-timeout=10s", *args],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


@pytest.mark.skipif(KUBECTL is None, reason="kubectl is not on PATH")
def test_plain_kubectl_apply_validates_creates_and_configures(
    sim: RunningSimulator, http: httpx.Client, tmp_path: Path
) -> None:
    config = write_kubeconfig(tmp_path / "kubeconfig", sim.url)
    manifest = tmp_path / "web.yaml"
    manifest.write_text(MANIFEST.replace("REPLICAS", "2"))
    first = kubectl(config, "apply", "-f", str(manifest))
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == "deployment.apps/web created"
    manifest.write_text(MANIFEST.replace("REPLICAS", "3"))
    second = kubectl(config, "apply", "-f", str(manifest))
    assert second.returncode == 0, second.stderr
    assert second.stdout.strip() == "deployment.apps/web configured"
    server_side = kubectl(
        config, "apply", "--server-side", "--force-conflicts", "-f", str(manifest)
    )
    assert server_side.returncode == 0, server_side.stderr
    wait_until(
        lambda: (
            http.get("/apis/apps/v1/namespaces/default/deployments/web")
            .json()
            .get("status", {})
            .get("readyReplicas")
            == 3
        )
    )
    described = kubectl(config, "describe", "deployment", "web")
    assert "3 desired | 3 updated | 3 total | 3 available | 0 unavailable" in described.stdout
    assert kubectl(config, "delete", "-f", str(manifest)).returncode == 0


@pytest.mark.skipif(KUBECTL is None, reason="kubectl is not on PATH")
@pytest.mark.parametrize(
    ("manifest", "words"),
    [
        (
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: odd, namespace: default}\n"
            "surprise: 1\n",
            'ConfigMap in version "v1" cannot be handled as a ConfigMap: strict decoding '
            'error: unknown field "surprise"',
        ),
        (
            MANIFEST.replace("REPLICAS", "two"),
            'The Deployment "web" is invalid: spec.replicas: Invalid value: "two": '
            'spec.replicas in body must be of type integer: "string"',
        ),
    ],
    ids=["an unknown field is refused", "a wrongly typed field is refused naming it"],
)
def test_kubectl_apply_reports_invalid_objects(
    sim: RunningSimulator, tmp_path: Path, manifest: str, words: str
) -> None:
    config = write_kubeconfig(tmp_path / "kubeconfig", sim.url)
    path = tmp_path / "bad.yaml"
    path.write_text(manifest)
    result = kubectl(config, "apply", "-f", str(path))
    assert result.returncode != 0
    assert words in result.stderr


@pytest.mark.skipif(KUBECTL is None, reason="kubectl is not on PATH")
def test_kubectl_explain_reads_the_documents(sim: RunningSimulator, tmp_path: Path) -> None:
    config = write_kubeconfig(tmp_path / "kubeconfig", sim.url)
    result = kubectl(config, "explain", "deployment.spec.replicas")
    assert result.returncode == 0, result.stderr
    assert "FIELD: replicas <integer>" in result.stdout
