"""Immutable fields (storeplane/sim/admission/immutable.py): updates a real API server
refuses, with its status and message, over HTTP and with kubectl."""

from __future__ import annotations

import copy
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from sim_helpers import deployment, namespace, wait_until

from storeplane.sim.kubeconfig import write_kubeconfig
from storeplane.sim.runner import RunningSimulator

KUBECTL = shutil.which("kubectl")
Obj = dict[str, Any]


def _statefulset() -> Obj:
    body = deployment("db")
    body.update(kind="StatefulSet")
    body["spec"]["serviceName"] = "db"
    body["spec"]["volumeClaimTemplates"] = [{"metadata": {"name": "data"}, "spec": {
        "accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}]  # fmt: skip
    return body


def _job() -> Obj:
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "migrate"}, "spec": {
        "template": {"spec": {"restartPolicy": "Never",
                              "containers": [{"name": "m", "image": "busybox:1"}]}}}}  # fmt: skip


def _pvc() -> Obj:
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "data"},
            "spec": {"accessModes": ["ReadWriteOnce"],
                     "resources": {"requests": {"storage": "1Gi"}}}}  # fmt: skip


def _service() -> Obj:
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
            "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]}}  # fmt: skip


def _set(path: str, value: Any) -> Callable[[Obj], None]:
    def change(obj: Obj) -> None:
        *parents, last = path.split(".")
        for part in parents:
            obj = obj[part]
        obj[last] = value

    return change


def _relabel(obj: Obj) -> None:
    """A new selector with matching template labels: valid but for the immutability."""
    obj["spec"]["selector"] = {"matchLabels": {"app": "web2"}}
    obj["spec"]["template"]["metadata"]["labels"] = {"app": "web2"}


SELECTOR_MESSAGE = (
    'Deployment.apps "web" is invalid: spec.selector: Invalid value: v1.LabelSelector'
    '{MatchLabels:map[string]string{"app":"web2"}, '
    "MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable"
)
STS_MESSAGE = (
    'StatefulSet.apps "db" is invalid: spec: Forbidden: updates to statefulset spec for fields '
    "other than 'replicas', 'ordinals', 'template', 'updateStrategy', "
    "'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden"
)
PVC_MESSAGE = (
    'PersistentVolumeClaim "data" is invalid: spec: Forbidden: spec is immutable after creation '
    "except resources.requests and volumeAttributesClassName for bound claims"
)

CASES: list[tuple[str, str, Callable[[], Obj], Callable[[Obj], None], int, str]] = [
    ("apps", "deployments", lambda: deployment("web"), _relabel, 422, SELECTOR_MESSAGE),
    ("apps", "deployments", lambda: deployment("web"), _set("spec.replicas", 3), 200, ""),
    ("apps", "statefulsets", _statefulset, _set("spec.serviceName", "other"), 422, STS_MESSAGE),
    ("apps", "statefulsets", _statefulset,
     _set("spec.volumeClaimTemplates", []), 422, STS_MESSAGE),
    ("apps", "statefulsets", _statefulset, _set("spec.replicas", 2), 200, ""),
    ("apps", "statefulsets", _statefulset,
     _set("spec.template.spec.containers", [{"name": "web", "image": "nginx:1.28"}]), 200, ""),
    ("batch", "jobs", _job, _set("spec.template.spec.containers",
     [{"name": "m", "image": "busybox:2"}]), 422, 'Job.batch "migrate" is invalid: spec.template:'),
    ("", "persistentvolumeclaims", _pvc, _set("spec.accessModes", ["ReadWriteMany"]), 422,
     PVC_MESSAGE),
    ("", "persistentvolumeclaims", _pvc, _set("spec.resources.requests.storage", "2Gi"), 200, ""),
    ("", "persistentvolumeclaims", _pvc, _set("spec.resources.requests.storage", "500Mi"), 422,
     'PersistentVolumeClaim "data" is invalid: spec.resources.requests.storage: Forbidden: '
     "field can not be less than previous value"),
    ("", "services", _service, _set("spec.clusterIP", "10.96.200.200"), 422,
     'Service "web" is invalid: spec.clusterIPs[0]: Invalid value: []string{"10.96.200.200"}: '
     "may not change once set"),
]  # fmt: skip
IDS = [
    "a Deployment's selector is immutable",
    "a Deployment's replicas are not",
    "a StatefulSet's serviceName is forbidden to change",
    "so are its volumeClaimTemplates",
    "its replicas may change",
    "its template may change",
    "a Job's template is immutable",
    "a bound claim's access modes are immutable",
    "a bound claim may grow",
    "but not shrink",
    "a Service's cluster IP may not change once set",
]


def _url(group: str, resource: str, name: str = "") -> str:
    base = f"/apis/{group}/v1" if group else "/api/v1"
    return f"{base}/namespaces/shop/{resource}" + (f"/{name}" if name else "")


@pytest.mark.parametrize(("group", "resource", "make", "change", "status", "message"), CASES,
                         ids=IDS)  # fmt: skip
def test_an_update_is_refused_or_admitted_as_on_a_cluster(
    http: httpx.Client,
    group: str,
    resource: str,
    make: Callable[[], Obj],
    change: Callable[[Obj], None],
    status: int,
    message: str,
) -> None:
    namespace(http, "shop")
    body = make()
    created = http.post(_url(group, resource), json=body)
    assert created.status_code == 201, created.text
    name = body["metadata"]["name"]
    if resource == "persistentvolumeclaims":  # resizing needs a bound claim
        wait_until(lambda: (http.get(_url(group, resource, name)).json().get("status") or {})
                   .get("phase") == "Bound")  # fmt: skip
    live = http.get(_url(group, resource, name)).json()
    updated = copy.deepcopy(live)
    del updated["metadata"]["resourceVersion"]  # unconditional: controllers write status meanwhile
    change(updated)
    response = http.put(_url(group, resource, name), json=updated)
    assert response.status_code == status, response.text
    if status == 422:
        assert response.json()["reason"] == "Invalid"
        assert response.json()["message"].startswith(message), response.json()["message"]
        assert "field is immutable" in message or "Forbidden" in message or "may not" in message \
            or resource == "jobs"  # fmt: skip


def test_a_job_template_change_says_field_is_immutable(http: httpx.Client) -> None:
    namespace(http, "shop")
    http.post(_url("batch", "jobs"), json=_job())
    live = http.get(_url("batch", "jobs", "migrate")).json()
    live["spec"]["template"]["spec"]["containers"][0]["image"] = "busybox:2"
    message = http.put(_url("batch", "jobs", "migrate"), json=live).json()["message"]
    assert message.endswith(": field is immutable")


def test_a_service_update_without_its_cluster_ip_keeps_it(http: httpx.Client) -> None:
    namespace(http, "shop")
    ip = http.post(_url("", "services"), json=_service()).json()["spec"]["clusterIP"]
    live = http.get(_url("", "services", "web")).json()
    del live["spec"]["clusterIP"], live["spec"]["clusterIPs"]
    replaced = http.put(_url("", "services", "web"), json=live)
    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["spec"]["clusterIP"] == ip


@pytest.mark.skipif(KUBECTL is None, reason="kubectl is not on PATH")
def test_kubectl_apply_of_a_changed_selector_is_refused(
    sim: RunningSimulator, http: httpx.Client, tmp_path: Path
) -> None:
    config = write_kubeconfig(tmp_path / "kubeconfig", sim.url)
    namespace(http, "shop")
    manifest = tmp_path / "web.yaml"

    def apply(app: str) -> subprocess.CompletedProcess[str]:
        manifest.write_text(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: shop\n"
            f"spec:\n  selector:\n    matchLabels:\n      app: {app}\n  template:\n"
            f"    metadata:\n      labels:\n        app: {app}\n    spec:\n      containers:\n"
            "      - name: web\n        image: nginx:1.27\n"
        )
        assert KUBECTL is not None
        return subprocess.run(
            [KUBECTL, "--kubeconfig", str(config), "apply", "-f", str(manifest)],
            capture_output=True, text=True, timeout=30, check=False,
        )  # fmt: skip

    first = apply("web")
    assert first.returncode == 0, first.stderr
    changed = apply("web2")
    assert changed.returncode != 0
    assert (
        'The Deployment "web" is invalid: spec.selector: Invalid value: v1.LabelSelector'
        '{MatchLabels:map[string]string{"app":"web2"}, '
        "MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable"
    ) in changed.stderr, changed.stderr
