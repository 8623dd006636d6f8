"""ServiceAccount admission and the ServiceAccount controller, over HTTP and with kubectl."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest
from sim_helpers import deployment, namespace, wait_until

from storeplane.sim.kubeconfig import write_kubeconfig
from storeplane.sim.runner import RunningSimulator

KUBECTL = shutil.which("kubectl")


def pod(name: str, account: str | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {"containers": [{"name": "web", "image": "nginx:1.27"}]}
    if account:
        spec["serviceAccountName"] = account
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": spec}


def _accounts(http: httpx.Client, ns: str) -> list[str]:
    items = http.get(f"/api/v1/namespaces/{ns}/serviceaccounts").json()["items"]
    return [a["metadata"]["name"] for a in items]


def test_every_namespace_gets_a_default_service_account(http: httpx.Client) -> None:
    namespace(http, "shop")
    assert wait_until(lambda: _accounts(http, "shop") == ["default"])
    assert wait_until(lambda: "default" in _accounts(http, "default"))


def test_a_deleted_default_service_account_comes_back(http: httpx.Client) -> None:
    namespace(http, "shop")
    wait_until(lambda: _accounts(http, "shop"))
    old = http.get("/api/v1/namespaces/shop/serviceaccounts/default").json()
    http.delete("/api/v1/namespaces/shop/serviceaccounts/default")
    new = wait_until(lambda: (r := http.get("/api/v1/namespaces/shop/serviceaccounts/default"))
                     .status_code == 200 and r.json())  # fmt: skip
    assert new["metadata"]["uid"] != old["metadata"]["uid"]


def test_a_pod_without_an_account_runs_as_default(http: httpx.Client) -> None:
    namespace(http, "shop")
    created = http.post("/api/v1/namespaces/shop/pods", json=pod("web"))
    assert created.status_code == 201, created.text
    assert created.json()["spec"]["serviceAccountName"] == "default"


def test_a_pod_naming_a_missing_account_is_refused(http: httpx.Client) -> None:
    namespace(http, "shop")
    refused = http.post("/api/v1/namespaces/shop/pods", json=pod("web", "builder"))
    assert refused.status_code == 403
    body = refused.json()
    assert (body["reason"], body["message"]) == (
        "Forbidden",
        'pods "web" is forbidden: error looking up service account shop/builder: '
        'serviceaccount "builder" not found',
    )
    http.post("/api/v1/namespaces/shop/serviceaccounts", json={"metadata": {"name": "builder"}})
    assert http.post("/api/v1/namespaces/shop/pods", json=pod("web", "builder")).status_code == 201


def test_a_deployment_waits_for_its_account_with_failed_create(http: httpx.Client) -> None:
    namespace(http, "shop")
    body = deployment("web")
    body["spec"]["template"]["spec"]["serviceAccountName"] = "builder"
    http.post("/apis/apps/v1/namespaces/shop/deployments", json=body)

    def failure() -> Any:
        conditions = (http.get("/apis/apps/v1/namespaces/shop/deployments/web").json()
                      .get("status") or {}).get("conditions") or []  # fmt: skip
        return next((c for c in conditions if c["type"] == "ReplicaFailure"), None)

    condition = wait_until(failure)
    assert "error looking up service account shop/builder" in condition["message"]
    http.post("/api/v1/namespaces/shop/serviceaccounts", json={"metadata": {"name": "builder"}})
    wait_until(lambda: http.get("/api/v1/namespaces/shop/pods").json()["items"], timeout=6)


@pytest.mark.skipif(KUBECTL is None, reason="kubectl is not on PATH")
def test_kubectl_shows_the_refusal(
    sim: RunningSimulator, http: httpx.Client, tmp_path: Path
) -> None:
    config = write_kubeconfig(tmp_path / "kubeconfig", sim.url)
    namespace(http, "shop")
    assert KUBECTL is not None
    result = subprocess.run(
        [KUBECTL, "--kubeconfig", str(config), "-n", "shop", "run", "web", "--image=nginx:1.27",
         "--overrides", '{"spec": {"serviceAccountName": "builder"}}'],
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    assert result.returncode != 0
    assert (
        'Error from server (Forbidden): pods "web" is forbidden: error looking up service '
        'account shop/builder: serviceaccount "builder" not found'
    ) in result.stderr
