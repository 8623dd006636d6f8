"""The walking skeleton's promise, end to end against a real ``storeplane dev`` process:
create -> Ready with every condition True and each step in the events, the policies in the
simulated cluster, change the plan up and back down, delete -> Deleted with nothing left behind."""

from __future__ import annotations

from tests.scenarios.dev_process import DevProcess, wait_until

STEP_REASONS = {
    "Created",
    "NamespaceCreated",
    "PoliciesApplied",
    "WorkloadsApplied",
    "PhaseChanged",
}


def test_a_store_is_provisioned_changed_and_deleted_without_residue(dev: DevProcess) -> None:
    created = dev.api(
        "POST", "/stores", json={"name": "journey-shop", "engine": "medusa", "plan": "small"}
    )
    assert created.status_code == 202, created.text
    store_id = created.json()["id"]

    ready = dev.wait_for(store_id, {"Ready"})
    assert all(c["status"] == "True" for c in ready["conditions"]), ready["conditions"]
    assert ready["observed_generation"] == ready["generation"] == 1
    assert ready["last_error"] is None
    reasons = [e["reason"] for e in dev.events(store_id)]
    assert set(reasons) >= STEP_REASONS, reasons
    assert reasons[0] == "Created"

    ns = store_id
    namespace = dev.kube(f"api/v1/namespaces/{ns}").json()
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    quota = dev.kube(f"api/v1/namespaces/{ns}/resourcequotas/store-quota").json()
    assert quota["spec"]["hard"]["requests.cpu"] == "1"
    assert dev.kube(f"api/v1/namespaces/{ns}/limitranges/store-limits").status_code == 200
    policies = dev.kube(f"apis/networking.k8s.io/v1/namespaces/{ns}/networkpolicies").json()[
        "items"
    ]
    assert {p["metadata"]["name"] for p in policies} == {
        "default-deny",
        "allow-dns",
        "allow-same-namespace",
        "allow-from-ingress-controller",
    }
    sa = dev.kube(f"api/v1/namespaces/{ns}/serviceaccounts/store").json()
    assert sa["automountServiceAccountToken"] is False

    changed = dev.api("PATCH", f"/stores/{store_id}", json={"plan": "medium"})
    assert changed.status_code == 200 and changed.json()["generation"] == 2
    ready = dev.wait_for(store_id, {"Ready"})
    assert ready["observed_generation"] == 2
    quota = dev.kube(f"api/v1/namespaces/{ns}/resourcequotas/store-quota").json()
    assert quota["spec"]["hard"]["requests.cpu"] == "2"
    # And back down: nothing a plan sizes may be something a cluster cannot shrink (a claim).
    smaller = dev.api("PATCH", f"/stores/{store_id}", json={"plan": "small"})
    assert smaller.status_code == 200 and smaller.json()["generation"] == 3
    ready = dev.wait_for(store_id, {"Ready"})
    assert ready["observed_generation"] == 3, ready["last_error"]
    quota = dev.kube(f"api/v1/namespaces/{ns}/resourcequotas/store-quota").json()
    assert quota["spec"]["hard"]["requests.cpu"] == "1"

    deleting = dev.api("DELETE", f"/stores/{store_id}")
    assert deleting.status_code == 202 and deleting.json()["phase"] == "Deleting"
    deleted = dev.wait_for(store_id, {"Deleted"})
    assert deleted["deleted_at"] is not None
    assert dev.labelled_objects(store_id) == []
    events = dev.events(store_id)
    assert events[-1]["reason"] in {"TeardownVerified", "PhaseChanged"}
    assert "TeardownVerified" in {e["reason"] for e in events}
    # the tombstone keeps answering, and the name is free again
    assert dev.api("GET", f"/stores/{store_id}").status_code == 200
    again = dev.api(
        "POST", "/stores", json={"name": "journey-shop", "engine": "woocommerce", "plan": "small"}
    )
    assert again.status_code == 202, again.text
    wait_until(
        lambda: dev.store(again.json()["id"]),
        lambda s: s["phase"] == "Ready",
        60,
        "second store Ready",
    )


def test_an_invalid_request_writes_nothing(dev: DevProcess) -> None:
    for body in (
        {"name": "UPPER", "engine": "medusa", "plan": "small"},
        {"name": "shop", "engine": "magento", "plan": "small"},
        {"name": "shop", "engine": "medusa", "plan": "huge"},
        {"name": 12, "engine": "medusa", "plan": "small"},
        {"name": "shop", "engine": "medusa", "plan": "small", "color": "red"},
    ):
        response = dev.api("POST", "/stores", json=body)
        assert response.status_code == 422, (body, response.text)
        assert response.json()["detail"]
    huge = dev.api(
        "POST",
        "/stores",
        content=b"{" + b" " * 200_000 + b"}",
        headers={"content-type": "application/json"},
    )
    assert huge.status_code == 413
    assert dev.api("GET", "/stores").json()["count"] == 0
    assert [
        n["metadata"]["name"]
        for n in dev.kube("api/v1/namespaces").json()["items"]
        if n["metadata"]["name"].startswith("store-")
    ] == []
