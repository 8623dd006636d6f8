"""PodSecurity admission: the checks' words, enforce/warn per namespace label, workloads'
pods refused by their controller, and kubectl's view of a refusal."""

from __future__ import annotations

import copy
import shutil
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest
from sim_helpers import deployment, wait_until

from storeplane.sim.admission.pod_security import level_version
from storeplane.sim.admission.pod_security_checks import detail, evaluate
from storeplane.sim.kubeconfig import write_kubeconfig
from storeplane.sim.runner import RunningSimulator

KUBECTL = shutil.which("kubectl")
LABEL = "pod-security.kubernetes.io/"
# A container that meets "restricted".
HARDENED: dict[str, Any] = {
    "name": "web",
    "image": "nginx:1.27",
    "securityContext": {
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
        "runAsNonRoot": True,
        "seccompProfile": {"type": "RuntimeDefault"},
    },
}
RESTRICTED_PLAIN = (
    'allowPrivilegeEscalation != false (container "web" must set '
    "securityContext.allowPrivilegeEscalation=false), unrestricted capabilities (container "
    '"web" must set securityContext.capabilities.drop=["ALL"]), runAsNonRoot != true (pod or '
    'container "web" must set securityContext.runAsNonRoot=true), seccompProfile (pod or '
    'container "web" must set securityContext.seccompProfile.type to "RuntimeDefault" or '
    '"Localhost")'
)


def _spec(**changes: Any) -> dict[str, Any]:
    container = copy.deepcopy(HARDENED)
    container.update(changes.pop("container", {}))
    return {"containers": [container], **changes}


@pytest.mark.parametrize(
    ("level", "spec", "expected"),
    [
        ("restricted", _spec(), ""),
        ("restricted", {"containers": [{"name": "web", "image": "x"}]}, RESTRICTED_PLAIN),
        (
            "baseline",
            _spec(container={"securityContext": {"privileged": True}}),
            'privileged (container "web" must not set securityContext.privileged=true)',
        ),
        ("baseline", {"containers": [{"name": "web", "image": "x"}]}, ""),
        (
            "baseline",
            _spec(hostNetwork=True, hostPID=True),
            "host namespaces (hostNetwork, hostPID)",
        ),
        (
            "baseline",
            _spec(volumes=[{"name": "root", "hostPath": {"path": "/"}}]),
            'hostPath volumes (volume "root")',
        ),
        (
            "restricted",
            _spec(volumes=[{"name": "root", "hostPath": {"path": "/"}}]),
            'restricted volume types (volumes ["root"] have restricted types)',
        ),
        (
            "baseline",
            _spec(container={"ports": [{"containerPort": 80, "hostPort": 8080}]}),
            'hostPort (container "web" uses hostPort 8080)',
        ),
        (
            "baseline",
            _spec(container={"securityContext": {"capabilities": {"add": ["NET_ADMIN"]}}}),
            'non-default capabilities (container "web" must not include "NET_ADMIN" in '
            "securityContext.capabilities.add)",
        ),
        (
            "restricted",
            _spec(securityContext={"runAsUser": 0}),
            "runAsUser=0 (pod must not set runAsUser=0)",
        ),
        (
            "restricted",
            {
                "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "Localhost"}},
                "containers": [
                    {
                        **HARDENED,
                        "name": "a",
                        "securityContext": {
                            "allowPrivilegeEscalation": False,
                            "capabilities": {"drop": ["ALL"]},
                        },
                    },
                    {**HARDENED, "name": "b", "securityContext": {"privileged": True}},
                ],
            },
            'privileged (container "b" must not set securityContext.privileged=true), '
            'allowPrivilegeEscalation != false (container "b" must set '
            "securityContext.allowPrivilegeEscalation=false), unrestricted capabilities "
            '(container "b" must set securityContext.capabilities.drop=["ALL"])',
        ),
    ],
    ids=[
        "a hardened pod meets restricted",
        "a plain pod breaks restricted four ways, in the admission's order",
        "privileged breaks baseline",
        "a plain pod meets baseline",
        "host namespaces are listed sorted",
        "hostPath volumes break baseline",
        "under restricted the volume-type check replaces the hostPath one",
        "host ports break baseline",
        "capabilities outside the default set break baseline",
        "runAsUser 0 at pod level breaks restricted",
        "pod-level settings cover containers; baseline checks come first",
    ],
)
def test_the_checks_say_what_the_admission_says(
    level: str, spec: dict[str, Any], expected: str
) -> None:
    assert detail(evaluate(level, (1, 31), {}, spec)) == expected


@pytest.mark.parametrize(
    ("labels", "shown"),
    [
        ({}, "privileged:latest"),
        ({LABEL + "enforce": "restricted"}, "restricted:latest"),
        ({LABEL + "enforce": "baseline", LABEL + "enforce-version": "v1.24"}, "baseline:v1.24"),
        ({LABEL + "enforce": "strict"}, "restricted:latest"),
        ({LABEL + "enforce": "baseline", LABEL + "enforce-version": "v9.9"}, "baseline:latest"),
    ],
    ids=["no label is privileged", "a level", "a level at a version",
         "an unknown level fails closed", "an unreadable version is latest"],
)  # fmt: skip
def test_the_policy_comes_from_the_namespace_labels(labels: dict[str, str], shown: str) -> None:
    assert level_version(labels, "enforce")[2] == shown


def test_an_older_policy_version_skips_newer_checks() -> None:
    spec = _spec(container={"securityContext": {**HARDENED["securityContext"], "runAsUser": 0}})
    assert evaluate("restricted", (1, 22), {}, spec) == []
    assert evaluate("restricted", (1, 23), {}, spec)


# --- over HTTP -------------------------------------------------------------------------


def _namespace(http: httpx.Client, name: str, **modes: str) -> None:
    labels = {LABEL + mode: level for mode, level in modes.items()}
    created = http.post("/api/v1/namespaces", json={"metadata": {"name": name, "labels": labels}})
    assert created.status_code == 201, created.text


def _warning_text(header: str) -> str:
    """The text of a ``299 - "..."`` Warning header (RFC 7234 quoting undone)."""
    assert header.startswith('299 - "') and header.endswith('"'), header
    return header[7:-1].replace('\\"', '"').replace("\\\\", "\\")


def _pod(name: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {"metadata": {"name": name}, "spec": spec}


PRIVILEGED = {"containers": [{"name": "web", "image": "nginx:1.27",
                              "securityContext": {"privileged": True}}]}  # fmt: skip


def test_enforce_refuses_the_pod_with_the_api_servers_message(http: httpx.Client) -> None:
    _namespace(http, "shop", enforce="restricted")
    refused = http.post("/api/v1/namespaces/shop/pods", json=_pod("web", PRIVILEGED))
    assert refused.status_code == 403
    assert refused.json()["reason"] == "Forbidden"
    assert refused.json()["message"] == (
        'pods "web" is forbidden: violates PodSecurity "restricted:latest": privileged '
        '(container "web" must not set securityContext.privileged=true), ' + RESTRICTED_PLAIN
    )
    hardened = http.post("/api/v1/namespaces/shop/pods", json=_pod("ok", _spec()))
    assert hardened.status_code == 201, hardened.text
    assert "warning" not in hardened.headers


def test_warn_admits_the_pod_with_a_warning_header(http: httpx.Client) -> None:
    _namespace(http, "shop", enforce="baseline", warn="restricted")
    plain = {"containers": [{"name": "web", "image": "nginx:1.27"}]}
    created = http.post("/api/v1/namespaces/shop/pods", json=_pod("web", plain))
    assert created.status_code == 201, created.text
    assert [_warning_text(w) for w in created.headers.get_list("warning")] == [
        f'would violate PodSecurity "restricted:latest": {RESTRICTED_PLAIN}'
    ]


def test_a_workload_is_warned_about_and_its_pods_refused(http: httpx.Client) -> None:
    _namespace(http, "shop", enforce="restricted", warn="restricted")
    created = http.post("/apis/apps/v1/namespaces/shop/deployments", json=deployment("web"))
    assert created.status_code == 201, created.text
    assert "would violate PodSecurity" in created.headers["warning"]

    def failure() -> Any:
        status = http.get("/apis/apps/v1/namespaces/shop/deployments/web").json().get("status")
        conditions = (status or {}).get("conditions") or []
        return next((c for c in conditions if c["type"] == "ReplicaFailure"), None)

    condition = wait_until(failure)
    assert condition["reason"] == "FailedCreate"
    assert condition["message"].startswith('pods "web-')
    assert '-" is forbidden: violates PodSecurity "restricted:latest": ' in condition["message"]
    events = http.get("/api/v1/namespaces/shop/events",
                      params={"fieldSelector": "reason=FailedCreate"}).json()["items"]  # fmt: skip
    assert events and events[0]["message"] == f"Error creating: {condition['message']}"
    assert http.get("/api/v1/namespaces/shop/pods").json()["items"] == []


def test_an_unchanged_template_is_not_warned_about_again(http: httpx.Client) -> None:
    _namespace(http, "shop", warn="restricted")
    http.post("/apis/apps/v1/namespaces/shop/deployments", json=deployment("web"))
    scaled = http.patch(
        "/apis/apps/v1/namespaces/shop/deployments/web",
        json={"spec": {"replicas": 2}},
        headers={"content-type": "application/merge-patch+json"},
    )
    assert scaled.status_code == 200 and "warning" not in scaled.headers


def test_raising_the_enforce_level_warns_about_pods_already_there(http: httpx.Client) -> None:
    _namespace(http, "shop")
    for name in ("a", "b"):
        http.post("/api/v1/namespaces/shop/pods", json=_pod(name, PRIVILEGED))
    labelled = http.patch(
        "/api/v1/namespaces/shop",
        json={"metadata": {"labels": {LABEL + "enforce": "baseline"}}},
        headers={"content-type": "application/merge-patch+json"},
    )
    assert labelled.status_code == 200
    assert [_warning_text(w) for w in labelled.headers.get_list("warning")] == [
        'existing pods in namespace "shop" violate the new PodSecurity enforce level '
        '"baseline:latest"',
        "a (and 1 other pod): privileged",
    ]


@pytest.mark.skipif(KUBECTL is None, reason="kubectl is not on PATH")
def test_kubectl_prints_the_refusal(
    sim: RunningSimulator, http: httpx.Client, tmp_path: Path
) -> None:
    config = write_kubeconfig(tmp_path / "kubeconfig", sim.url)
    _namespace(http, "shop", enforce="restricted")
    manifest = tmp_path / "pod.yaml"
    manifest.write_text(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n  namespace: shop\nspec:\n"
        "  containers:\n  - name: web\n    image: nginx:1.27\n    securityContext:\n"
        "      privileged: true\n"
    )
    assert KUBECTL is not None
    result = subprocess.run(
        [KUBECTL, "--kubeconfig", str(config), "apply", "-f", str(manifest)],
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    assert result.returncode != 0
    assert (
        'pods "web" is forbidden: violates PodSecurity "restricted:latest": privileged '
        '(container "web" must not set securityContext.privileged=true), '
        "allowPrivilegeEscalation != false"
    ) in result.stderr, result.stderr


@pytest.mark.skipif(KUBECTL is None, reason="kubectl is not on PATH")
def test_kubectl_prints_the_warning_for_a_workload(
    sim: RunningSimulator, http: httpx.Client, tmp_path: Path
) -> None:
    config = write_kubeconfig(tmp_path / "kubeconfig", sim.url)
    _namespace(http, "shop", warn="restricted")
    assert KUBECTL is not None
    result = subprocess.run(
        [KUBECTL, "--kubeconfig", str(config), "-n", "shop", "create", "deployment", "web",
         "--image=nginx:1.27"],
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert (
        'Warning: would violate PodSecurity "restricted:latest": allowPrivilegeEscalation != '
        'false (container "nginx" must set securityContext.allowPrivilegeEscalation=false)'
    ) in result.stderr, result.stderr
    assert "deployment.apps/web created" in result.stdout
