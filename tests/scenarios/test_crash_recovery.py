"""Kill ``storeplane dev`` with SIGKILL while a store is provisioning, start it again on the
same data dir: the store ends Ready, nothing was created twice, the events tell the story."""

from __future__ import annotations

from tests.scenarios.dev_process import DevProcess, wait_until


def _uids(dev: DevProcess, store_id: str) -> dict[str, str]:
    uids = {}
    for path in (
        "api/v1/namespaces",
        "api/v1/resourcequotas",
        "api/v1/limitranges",
        "api/v1/secrets",
        "apis/networking.k8s.io/v1/networkpolicies",
        "apis/apps/v1/deployments",
    ):
        items = dev.kube(path, labelSelector=f"storeplane.dev/store-id={store_id}").json()["items"]
        for item in items:
            uids[f"{path}/{item['metadata']['name']}"] = item["metadata"]["uid"]
    return uids


def test_sigkill_while_provisioning_then_restart_ends_ready(dev: DevProcess) -> None:
    dev.stop()
    dev.ready_delay = 3.0  # slow workloads: the kill lands while the store waits on them
    dev.start()
    store_id = dev.api(
        "POST", "/stores", json={"name": "crashy", "engine": "medusa", "plan": "small"}
    ).json()["id"]
    wait_until(
        lambda: dev.events(store_id),
        lambda ev: any(e["reason"] == "WorkloadsApplied" for e in ev),
        30,
        "workloads applied",
        dev.log_path,
    )
    assert dev.store(store_id)["phase"] == "Provisioning"
    before = _uids(dev, store_id)
    dev.kill()

    dev.start()
    ready = dev.wait_for(store_id, {"Ready"}, timeout=60)
    assert all(c["status"] == "True" for c in ready["conditions"])
    after = _uids(dev, store_id)
    # Everything that existed before the crash is the very same object (same uid), not a copy.
    assert {k: after.get(k) for k in before} == before
    reasons = [e["reason"] for e in dev.events(store_id)]
    assert reasons.count("NamespaceCreated") == 1 and reasons.count("WorkloadsApplied") == 1, (
        reasons
    )
    assert "Resumed" in reasons, reasons
