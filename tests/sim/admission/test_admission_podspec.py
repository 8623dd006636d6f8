"""Pod spec and Service field rules (storeplane/sim/admission/podspec.py, service_spec.py):
what the API server refuses, and warns about, that the schemas do not say."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest
from sim_helpers import deployment

from storeplane.sim.kubeconfig import write_kubeconfig
from storeplane.sim.runner import RunningSimulator

KUBECTL = shutil.which("kubectl")
Obj = dict[str, Any]
WEB = {"name": "web", "image": "nginx:1.27"}
LABEL_MSG = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
    "and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', "
    "regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
)


@pytest.fixture
def sim(shared_sim: RunningSimulator) -> RunningSimulator:
    return shared_sim


def _pod(**spec: Any) -> Obj:
    return {"metadata": {"name": "web"}, "spec": {"containers": [dict(WEB)], **spec}}


def _probe(**handlers: Any) -> Obj:
    return _pod(containers=[{**WEB, "livenessProbe": handlers}])


POD_CASES: list[tuple[Obj, str, str]] = [
    (_pod(containers=[]), "spec.containers", "Required value"),
    (_pod(containers=[WEB, WEB]), "spec.containers[1].name", 'Duplicate value: "web"'),
    (_pod(initContainers=[WEB]), "spec.containers[0].name", 'Duplicate value: "web"'),
    (_pod(containers=[{"name": "Web", "image": "x"}]), "spec.containers[0].name",
     f'Invalid value: "Web": {LABEL_MSG}'),
    (_pod(containers=[{"name": "web"}]), "spec.containers[0].image", "Required value"),
    (_pod(containers=[{**WEB, "ports": [{"name": "http-web-service", "containerPort": 80}]}]),
     "spec.containers[0].ports[0].name",
     'Invalid value: "http-web-service": must be no more than 15 characters'),
    (_pod(containers=[{**WEB, "ports": [{"name": "HTTP", "containerPort": 80}]}]),
     "spec.containers[0].ports[0].name", 'Invalid value: "HTTP": must contain only '
     "alpha-numeric characters (a-z, 0-9), and hyphens (-)"),
    (_pod(containers=[{**WEB, "ports": [{"name": "http", "containerPort": 80},
                                        {"name": "http", "containerPort": 81}]}]),
     "spec.containers[0].ports[1].name", 'Duplicate value: "http"'),
    (_pod(containers=[{**WEB, "ports": [{"containerPort": 70000}]}]),
     "spec.containers[0].ports[0].containerPort",
     "Invalid value: 70000: must be between 1 and 65535, inclusive"),
    (_pod(containers=[{**WEB, "env": [{"name": "1DB", "value": "x"}]}]),
     "spec.containers[0].env[0].name", 'Invalid value: "1DB": a valid environment variable name '
     "must consist of alphabetic characters, digits, '_', '-', or '.', and must not start with a "
     "digit (e.g. 'my.env-name',  or 'MY_ENV.NAME',  or 'MyEnvName1', regex used for validation "
     "is '[-._a-zA-Z][-._a-zA-Z0-9]*')"),
    (_pod(containers=[{**WEB, "env": [{"name": "DB", "value": "x", "valueFrom": {
        "secretKeyRef": {"name": "s", "key": "k"}}}]}]),
     "spec.containers[0].env[0].valueFrom",
     'Invalid value: "": may not be specified when `value` is not empty'),
    (_probe(), "spec.containers[0].livenessProbe", "Required value: must specify a handler type"),
    (_probe(httpGet={"port": 80}, tcpSocket={"port": 80}), "spec.containers[0].livenessProbe",
     "Forbidden: may not specify more than 1 handler type"),
    (_probe(httpGet={"port": 80}, successThreshold=2),
     "spec.containers[0].livenessProbe.successThreshold", "Invalid value: 2: must be 1"),
    (_probe(httpGet={"port": "http-web-service"}),
     "spec.containers[0].livenessProbe.httpGet.port",
     'Invalid value: "http-web-service": must be no more than 15 characters'),
    (_pod(containers=[{**WEB, "volumeMounts": [{"name": "data", "mountPath": "/data"}]}]),
     "spec.containers[0].volumeMounts[0].name", 'Not found: "data"'),
    (_pod(volumes=[{"name": "a", "emptyDir": {}}, {"name": "a", "emptyDir": {}}]),
     "spec.volumes[1].name", 'Duplicate value: "a"'),
    (_pod(volumes=[{"name": "a"}]), "spec.volumes[0]", "Required value: must specify a volume type"),
]  # fmt: skip
POD_IDS = [
    "a pod needs a container",
    "container names are unique",
    "also across init containers",
    "container names are DNS labels",
    "a container needs an image",
    "port names are at most 15 characters",
    "port names are lowercase",
    "port names are unique in a container",
    "port numbers are in range",
    "env names are C-like identifiers",
    "env value and valueFrom are exclusive",
    "a probe needs a handler",
    "a probe has one handler",
    "a liveness probe succeeds once",
    "a probe port name is a port name",
    "a volume mount names a volume",
    "volume names are unique",
    "a volume has a type",
]


@pytest.mark.parametrize(("body", "field", "message"), POD_CASES, ids=POD_IDS)
def test_a_pod_is_refused_as_the_api_server_refuses_it(
    http: httpx.Client, ns: str, body: Obj, field: str, message: str
) -> None:
    response = http.post(f"/api/v1/namespaces/{ns}/pods", json=body)
    assert response.status_code == 422, response.text
    causes = [(c["field"], c["message"]) for c in response.json()["details"]["causes"]]
    assert (field, message) in causes


def _with_template(kind: str, **spec: Any) -> Obj:
    body = deployment("web")
    body["kind"] = kind
    body["spec"]["template"]["spec"].update(spec)
    if kind == "Job":
        body["apiVersion"] = "batch/v1"
        del body["spec"]["selector"], body["spec"]["replicas"]
    return body


@pytest.mark.parametrize(
    ("url", "body", "field", "message"),
    [
        ("/apis/apps/v1/namespaces/{ns}/deployments", _with_template("Deployment", containers=[]),
         "spec.template.spec.containers", "Required value"),
        ("/apis/apps/v1/namespaces/{ns}/deployments",
         _with_template("Deployment", restartPolicy="Never"), "spec.template.spec.restartPolicy",
         'Unsupported value: "Never": supported values: "Always"'),
        ("/apis/batch/v1/namespaces/{ns}/jobs", _with_template("Job"),
         "spec.template.spec.restartPolicy",
         'Unsupported value: "Always": supported values: "OnFailure", "Never"'),
        ("/api/v1/namespaces/{ns}/services", {"metadata": {"name": "web"}, "spec": {
            "ports": [{"port": 80}, {"port": 443}]}}, "spec.ports[0].name", "Required value"),
        ("/api/v1/namespaces/{ns}/services", {"metadata": {"name": "web"}, "spec": {
            "ports": [{"name": "a", "port": 80}, {"name": "a", "port": 81}]}},
         "spec.ports[1].name", 'Duplicate value: "a"'),
        ("/api/v1/namespaces/{ns}/services", {"metadata": {"name": "web"}, "spec": {
            "ports": [{"name": "a", "port": 80}, {"name": "b", "port": 80}]}}, "spec.ports[1]",
         'Duplicate value: core.ServicePort{Name:"b", Protocol:"TCP", AppProtocol:(*string)(nil), '
         'Port:80, TargetPort:intstr.IntOrString{Type:0, IntVal:80, StrVal:""}, NodePort:0}'),
        ("/api/v1/namespaces/{ns}/services", {"metadata": {"name": "web"}, "spec": {}},
         "spec.ports", "Required value"),
    ],
    ids=[
        "a Deployment's template needs a container",
        "a Deployment's pods restart Always",
        "a Job's pods may not restart Always (the default)",
        "a Service with two ports names them",
        "Service port names are unique",
        "the same Service port and protocol twice",
        "a Service needs ports unless headless",
    ],
)  # fmt: skip
def test_workloads_and_services_are_refused_as_on_a_cluster(
    http: httpx.Client, ns: str, url: str, body: Obj, field: str, message: str
) -> None:
    response = http.post(url.format(ns=ns), json=body)
    assert response.status_code == 422, response.text
    causes = [(c["field"], c["message"]) for c in response.json()["details"]["causes"]]
    assert (field, message) in causes, causes


def test_a_headless_service_needs_no_ports(http: httpx.Client, ns: str) -> None:
    body = {"metadata": {"name": "db"}, "spec": {"clusterIP": "None", "selector": {"app": "db"}}}
    assert http.post(f"/api/v1/namespaces/{ns}/services", json=body).status_code == 201


def test_a_statefulsets_claim_templates_are_volumes_its_pods_mount(
    http: httpx.Client, ns: str
) -> None:
    body = _with_template("StatefulSet")
    body["spec"]["serviceName"] = "web"
    body["spec"]["template"]["spec"]["containers"][0]["volumeMounts"] = [
        {"name": "data", "mountPath": "/data"}
    ]
    body["spec"]["volumeClaimTemplates"] = [{"metadata": {"name": "data"}, "spec": {
        "accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}]  # fmt: skip
    created = http.post(f"/apis/apps/v1/namespaces/{ns}/statefulsets", json=body)
    assert created.status_code == 201, created.text


def test_the_same_container_port_twice_is_a_warning(http: httpx.Client, ns: str) -> None:
    body = _pod(containers=[{**WEB, "ports": [{"containerPort": 80}]},
                            {"name": "side", "image": "x", "ports": [{"containerPort": 80}]}])  # fmt: skip
    response = http.post(f"/api/v1/namespaces/{ns}/pods", json=body)
    assert response.status_code == 201, response.text
    assert response.headers["warning"] == (
        '299 - "spec.containers[1].ports[0]: duplicate port definition with '
        'spec.containers[0].ports[0]"'
    )


@pytest.mark.skipif(KUBECTL is None, reason="kubectl is not on PATH")
def test_kubectl_shows_an_empty_containers_refusal(
    sim: RunningSimulator, ns: str, tmp_path: Path
) -> None:
    config = write_kubeconfig(tmp_path / "kubeconfig", sim.url)
    manifest = tmp_path / "web.yaml"
    manifest.write_text(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  selector:\n"
        "    matchLabels:\n      app: web\n  template:\n    metadata:\n      labels:\n"
        "        app: web\n    spec:\n      containers: []\n"
    )
    assert KUBECTL is not None
    result = subprocess.run(
        [KUBECTL, "--kubeconfig", str(config), "-n", ns, "apply", "-f", str(manifest)],
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    assert result.returncode != 0
    assert (
        'The Deployment "web" is invalid: spec.template.spec.containers: Required value'
        in result.stderr
    ), result.stderr


def test_a_plain_deployment_is_still_valid(http: httpx.Client, ns: str) -> None:
    created = http.post(f"/apis/apps/v1/namespaces/{ns}/deployments", json=deployment("web"))
    assert created.status_code == 201, created.text
