"""Stores declared as Kubernetes Store objects, end to end: a real ``storeplane dev`` (its
simulator has the Store CRD applied) and the official kubectl 1.35. ``kubectl apply`` makes
a store that reaches Ready, ``kubectl get stores`` prints the printer columns, ``kubectl
wait`` on the phase returns, a plan change applied again changes the quota, ``domains``
are set, changed and refused as a PATCH does them, ``kubectl
delete`` waits for the teardown finalizer; the schema refuses an unknown engine, a taken
name shows in the object's status, a REST change of the store is a 409, and a SIGKILL right
after ``kubectl apply`` still makes exactly one store. One dev process (SQLite) for the
module; each test uses its own object names."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.scenarios.dev_process import REPO, DevProcess, wait_until

KUBECTL = shutil.which("kubectl") or str(REPO / ".tools" / "bin" / "kubectl")
pytestmark = pytest.mark.skipif(
    not Path(KUBECTL).exists(),
    reason="kubectl is not installed; scripts/setup.sh puts it in .tools/bin",
)


@pytest.fixture(scope="module")
def dev(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevProcess]:
    process = DevProcess(tmp_path_factory.mktemp("store-objects") / "data", None).start()
    try:
        yield process
    finally:
        process.stop()


def kubectl(dev: DevProcess, *args: str, stdin: str | None = None, check: bool = True,
            timeout: float = 60) -> subprocess.CompletedProcess[str]:  # fmt: skip
    result = subprocess.run(
        [KUBECTL, "--kubeconfig", str(dev.data_dir / "kubeconfig"),
         f"--cache-dir={dev.data_dir / 'kube-cache'}", *args],
        capture_output=True, text=True, timeout=timeout, input=stdin, check=False,
    )  # fmt: skip
    if check:
        assert result.returncode == 0, f"kubectl {' '.join(args)}: {result.stderr}"
    return result


def manifest(object_name: str, engine: str = "medusa", plan: str = "small", **spec: Any) -> str:
    extra = "".join(f"\n  {key}: {value}" for key, value in spec.items())
    return (
        "apiVersion: storeplane.dev/v1alpha1\nkind: Store\n"
        f"metadata:\n  name: {object_name}\n  namespace: default\n"
        f"spec:\n  engine: {engine}\n  plan: {plan}{extra}\n"
    )


def managed(dev: DevProcess, ref: str) -> list[dict[str, Any]]:
    stores = dev.api("GET", "/stores", params={"limit": 200, "include_deleted": "true"}).json()
    return [s for s in stores["items"] if s.get("managed_by") == ref]


def store_of(dev: DevProcess, name: str) -> dict[str, Any]:
    found = wait_until(lambda: managed(dev, f"Store default/{name}"), bool, 30,
                       f"a store owned by Store default/{name}", dev.log_path)  # fmt: skip
    assert len(found) == 1, found
    return dict(found[0])


def store_object(dev: DevProcess, name: str) -> dict[str, Any]:
    return dict(dev.kube(f"apis/storeplane.dev/v1alpha1/namespaces/default/stores/{name}").json())


def test_apply_get_wait_change_plan_and_delete(dev: DevProcess, tmp_path: Path) -> None:
    path = tmp_path / "store.yaml"
    path.write_text(manifest("gitops-shop"))
    assert kubectl(dev, "apply", "-f", str(path)).stdout.strip() == (
        "store.storeplane.dev/gitops-shop created"
    )
    store = store_of(dev, "gitops-shop")
    assert store["name"] == "gitops-shop" and store["plan"] == "small"
    dev.wait_for(store["id"], {"Ready"})
    kubectl(dev, "wait", "--for=jsonpath={.status.phase}=Ready", "store/gitops-shop",
            "--timeout=60s")  # fmt: skip
    lines = kubectl(dev, "get", "stores").stdout.splitlines()
    assert lines[0].split() == ["NAME", "ENGINE", "PLAN", "PHASE", "URL", "AGE"]
    row = next(line.split() for line in lines if line.startswith("gitops-shop "))
    assert row[:4] == ["gitops-shop", "medusa", "small", "Ready"]
    assert row[4] == store["url"]
    status = store_object(dev, "gitops-shop")["status"]
    assert status["storeId"] == store["id"]
    assert {c["type"] for c in status["conditions"]} >= {"Ready", "WorkloadsReady"}
    created = next(e for e in dev.events(store["id"]) if e["reason"] == "Created")
    assert created["actor"] == "Store default/gitops-shop (kubectl-client-side-apply)"

    refused = dev.api("PATCH", f"/stores/{store['id']}", json={"plan": "large"})
    assert refused.status_code == 409
    assert "managed by the Kubernetes object Store default/gitops-shop" in refused.json()["detail"]

    path.write_text(manifest("gitops-shop", plan="medium"))
    assert "configured" in kubectl(dev, "apply", "-f", str(path)).stdout
    ns = store["namespace"]
    wait_until(
        lambda: dev.kube(f"api/v1/namespaces/{ns}/resourcequotas/store-quota").json(),
        lambda q: q.get("spec", {}).get("hard", {}).get("requests.cpu") == "2",
        30, "the medium plan's quota", dev.log_path,
    )  # fmt: skip
    assert dev.store(store["id"])["plan"] == "medium"

    kubectl(dev, "delete", "store", "gitops-shop", "--timeout=90s", timeout=100)
    deleted = dev.store(store["id"])
    assert deleted["phase"] == "Deleted"
    assert {c["reason"] for c in deleted["conditions"]} == {"TeardownVerified"}
    gone = kubectl(dev, "get", "store", "gitops-shop", check=False)
    assert gone.returncode == 1 and "NotFound" in gone.stderr


def test_an_unknown_engine_is_refused_by_the_schema(dev: DevProcess) -> None:
    result = kubectl(dev, "apply", "-f", "-", stdin=manifest("bad-engine", engine="magento"),
                     check=False)  # fmt: skip
    assert result.returncode == 1
    assert (
        'spec.engine: Unsupported value: "magento": supported values: "medusa", "woocommerce"'
        in result.stderr
    )
    assert managed(dev, "Store default/bad-engine") == []


def test_a_taken_name_shows_in_the_objects_status(dev: DevProcess) -> None:
    made = dev.api("POST", "/stores", json={"name": "taken-shop", "engine": "medusa"})
    assert made.status_code == 202, made.text
    kubectl(dev, "apply", "-f", "-", stdin=manifest("wants-taken", name="taken-shop"))
    status = wait_until(
        lambda: store_object(dev, "wants-taken").get("status") or {},
        lambda s: s.get("phase") == "Failed", 30, "the refusal in the status", dev.log_path,
    )  # fmt: skip
    assert status["message"] == (
        'a store named "taken-shop" already exists; choose another name '
        "(names are unique among stores that are not deleted)"
    )
    assert managed(dev, "Store default/wants-taken") == []
    # Once the name is free again the object gets its store, without another apply.
    assert dev.api("DELETE", f"/stores/{made.json()['id']}").status_code == 202
    store = store_of(dev, "wants-taken")
    assert store["name"] == "taken-shop"
    kubectl(dev, "delete", "store", "wants-taken", "--timeout=60s", timeout=70)
    assert dev.store(store["id"])["phase"] == "Deleted"


def test_domains_are_set_changed_and_refused_as_a_patch_does(dev: DevProcess) -> None:
    kubectl(dev, "apply", "-f", "-",
            stdin=manifest("domain-shop", domains="[shop.example.com, www.example.com]"))  # fmt: skip
    store = store_of(dev, "domain-shop")
    wait_until(lambda: dev.store(store["id"])["domains"], lambda d: len(d) == 2, 30,
               "the object's domains on its store", dev.log_path)  # fmt: skip
    status = wait_until(
        lambda: store_object(dev, "domain-shop").get("status") or {},
        lambda s: [d["name"] for d in s.get("domains", [])]
        == ["shop.example.com", "www.example.com"],
        30, "the domains in the object's status", dev.log_path,
    )  # fmt: skip
    assert {d["status"] for d in status["domains"]} <= {"Pending", "Active"}

    kubectl(dev, "apply", "-f", "-", stdin=manifest("domain-shop", domains="[shop.example.org]"))
    wait_until(lambda: [d["name"] for d in dev.store(store["id"])["domains"]],
               lambda names: names == ["shop.example.org"], 30, "the changed domains",
               dev.log_path)  # fmt: skip

    # The schema refuses what its pattern can say; the rest is the API's words in the status.
    bad = kubectl(dev, "apply", "-f", "-", check=False,
                  stdin=manifest("domain-shop", domains="['*.example.org']"))  # fmt: skip
    assert bad.returncode == 1 and "spec.domains[0]" in bad.stderr, bad.stderr
    kubectl(dev, "apply", "-f", "-", stdin=manifest("domain-shop", domains="[10.0.0.1]"))
    status = wait_until(
        lambda: store_object(dev, "domain-shop").get("status") or {},
        lambda s: "10.0.0.1" in s.get("message", ""), 30, "the refusal", dev.log_path,
    )  # fmt: skip
    assert status["message"] == "domain '10.0.0.1' is an IP address: only host names are allowed"
    assert [d["name"] for d in dev.store(store["id"])["domains"]] == ["shop.example.org"]
    kubectl(dev, "delete", "store", "domain-shop", "--timeout=60s", timeout=70)


def test_sigkill_right_after_apply_makes_exactly_one_store(dev: DevProcess) -> None:
    kubectl(dev, "apply", "-f", "-", stdin=manifest("crash-shop", engine="woocommerce"))
    dev.kill()
    dev.start()
    store = store_of(dev, "crash-shop")
    dev.wait_for(store["id"], {"Ready"})
    assert len(managed(dev, "Store default/crash-shop")) == 1
    wait_until(lambda: store_object(dev, "crash-shop").get("status", {}).get("phase"),
               lambda p: p == "Ready", 30, "Ready in the object's status", dev.log_path)  # fmt: skip
