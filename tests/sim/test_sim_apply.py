"""Server-side apply, merge patches and the status subresource, over HTTP."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
import yaml
from sim_helpers import deployment, namespace

from storeplane.sim.runner import SimulatorConfig

DEPLOYMENTS = "/apis/apps/v1/namespaces/shop/deployments"
APPLY = {"Content-Type": "application/apply-patch+yaml"}
MERGE = {"Content-Type": "application/merge-patch+json"}


@pytest.fixture
def sim_config() -> SimulatorConfig:
    # No controllers: no status writes in the middle of these tests.
    return SimulatorConfig(ready_delay=60, controllers=False)


def apply(
    http: httpx.Client,
    body: dict[str, Any],
    manager: str = "storeplane",
    force: bool = False,
    as_yaml: bool = False,
) -> httpx.Response:
    name = body["metadata"]["name"]
    content = yaml.safe_dump(body) if as_yaml else json.dumps(body)
    return http.patch(
        f"{DEPLOYMENTS}/{name}",
        params={"fieldManager": manager, "force": str(force).lower()},
        content=content,
        headers=APPLY,
    )


@pytest.fixture
def shop(http: httpx.Client) -> None:
    namespace(http, "shop")


@pytest.mark.usefixtures("shop")
def test_apply_creates_then_updates(http: httpx.Client) -> None:
    first = apply(http, deployment("web"), as_yaml=True)
    assert first.status_code == 201, first.text
    meta = first.json()["metadata"]
    assert meta["generation"] == 1
    [entry] = meta["managedFields"]
    assert entry["manager"] == "storeplane"
    assert entry["operation"] == "Apply"
    assert entry["fieldsType"] == "FieldsV1"
    assert "f:replicas" in entry["fieldsV1"]["f:spec"]

    second = apply(http, deployment("web", replicas=3))
    assert second.status_code == 200
    assert second.json()["spec"]["replicas"] == 3
    assert second.json()["metadata"]["uid"] == meta["uid"]
    assert second.json()["metadata"]["generation"] == 2


@pytest.mark.usefixtures("shop")
def test_reapplying_the_same_configuration_changes_nothing(http: httpx.Client) -> None:
    first = apply(http, deployment("web")).json()
    again = apply(http, deployment("web")).json()
    assert again["metadata"]["resourceVersion"] == first["metadata"]["resourceVersion"]
    assert again["metadata"]["generation"] == 1


@pytest.mark.usefixtures("shop")
def test_fields_dropped_from_the_applied_configuration_are_removed(http: httpx.Client) -> None:
    body = deployment("web")
    body["metadata"]["labels"]["team"] = "payments"
    body["metadata"]["annotations"] = {"note": "temporary"}
    container = body["spec"]["template"]["spec"]["containers"][0]
    container["env"] = [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]
    apply(http, body)

    del body["metadata"]["labels"]["team"]
    del body["metadata"]["annotations"]
    container["env"] = [{"name": "A", "value": "1"}]
    result = apply(http, body).json()

    assert result["metadata"]["labels"] == {"app": "web"}
    assert "annotations" not in result["metadata"]
    env = result["spec"]["template"]["spec"]["containers"][0]["env"]
    assert env == [{"name": "A", "value": "1"}]


@pytest.mark.usefixtures("shop")
def test_fields_set_by_another_manager_survive_a_reapply(http: httpx.Client) -> None:
    apply(http, deployment("web"))
    other = {"metadata": {"annotations": {"owner": "someone-else"}}}
    patched = http.patch(f"{DEPLOYMENTS}/web?fieldManager=kubectl-edit", json=other, headers=MERGE)
    assert patched.status_code == 200
    managers = {e["manager"] for e in patched.json()["metadata"]["managedFields"]}
    assert managers == {"storeplane", "kubectl-edit"}

    result = apply(http, deployment("web", image="nginx:1.28")).json()
    assert result["metadata"]["annotations"] == {"owner": "someone-else"}
    assert result["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.28"


@pytest.mark.usefixtures("shop")
def test_name_keyed_lists_merge_by_name_across_managers(http: httpx.Client) -> None:
    apply(http, deployment("web"))
    sidecar = deployment("web")
    sidecar["metadata"]["labels"] = {}
    sidecar["spec"] = {
        "template": {"spec": {"containers": [{"name": "proxy", "image": "envoy:1"}]}}
    }
    result = apply(http, sidecar, manager="mesh").json()
    names = [c["name"] for c in result["spec"]["template"]["spec"]["containers"]]
    assert names == ["web", "proxy"]


@pytest.mark.usefixtures("shop")
def test_generation_bumps_only_when_the_spec_changes(http: httpx.Client) -> None:
    body = deployment("web")
    assert apply(http, body).json()["metadata"]["generation"] == 1
    body["metadata"]["labels"]["extra"] = "label"
    assert apply(http, body).json()["metadata"]["generation"] == 1
    body["spec"]["replicas"] = 2
    assert apply(http, body).json()["metadata"]["generation"] == 2
    status = {"status": {"observedGeneration": 2}}
    written = http.patch(f"{DEPLOYMENTS}/web/status", json=status, headers=MERGE).json()
    assert written["metadata"]["generation"] == 2
    assert written["status"]["observedGeneration"] == 2


@pytest.mark.usefixtures("shop")
def test_changing_a_field_owned_by_another_applier_conflicts_unless_forced(
    http: httpx.Client,
) -> None:
    apply(http, deployment("web", replicas=2), manager="hpa")
    refused = apply(http, deployment("web", replicas=5), manager="storeplane")
    assert refused.status_code == 409
    status = refused.json()
    assert status["reason"] == "Conflict"
    assert status["message"] == (
        'Apply failed with 1 conflict: conflict with "hpa" using apps/v1: .spec.replicas'
    )
    assert status["details"]["causes"][0]["reason"] == "FieldManagerConflict"

    forced = apply(http, deployment("web", replicas=5), manager="storeplane", force=True)
    assert forced.status_code == 200
    assert forced.json()["spec"]["replicas"] == 5
    hpa = next(e for e in forced.json()["metadata"]["managedFields"] if e["manager"] == "hpa")
    assert "f:replicas" not in hpa["fieldsV1"].get("f:spec", {})


@pytest.mark.usefixtures("shop")
def test_apply_without_a_field_manager_is_a_bad_request(http: httpx.Client) -> None:
    response = http.patch(f"{DEPLOYMENTS}/web", json=deployment("web"), headers=APPLY)
    assert response.status_code == 400
    assert "fieldManager" in response.json()["message"]


@pytest.mark.usefixtures("shop")
def test_merge_patch_sets_and_deletes_fields(http: httpx.Client) -> None:
    apply(http, deployment("web"))
    patch = {"metadata": {"labels": {"app": None, "new": "yes"}}, "spec": {"replicas": 4}}
    result = http.patch(f"{DEPLOYMENTS}/web", json=patch, headers=MERGE).json()
    assert result["metadata"]["labels"] == {"new": "yes"}
    assert result["spec"]["replicas"] == 4


@pytest.mark.usefixtures("shop")
def test_strategic_merge_patch_merges_containers_by_name(http: httpx.Client) -> None:
    apply(http, deployment("web"))
    patch = {"spec": {"template": {"spec": {"containers": [{"name": "web", "image": "nginx:2"}]}}}}
    result = http.patch(
        f"{DEPLOYMENTS}/web",
        json=patch,
        headers={"Content-Type": "application/strategic-merge-patch+json"},
    ).json()
    [container] = result["spec"]["template"]["spec"]["containers"]
    assert container == {"name": "web", "image": "nginx:2"}


@pytest.mark.usefixtures("shop")
def test_status_subresource_put_leaves_the_spec_alone(http: httpx.Client) -> None:
    created = apply(http, deployment("web")).json()
    body = dict(created, status={"readyReplicas": 1}, spec={"replicas": 9})
    result = http.put(f"{DEPLOYMENTS}/web/status", json=body).json()
    assert result["status"] == {"readyReplicas": 1}
    assert result["spec"]["replicas"] == 1
    assert http.get(f"{DEPLOYMENTS}/web/status").json()["status"] == {"readyReplicas": 1}


@pytest.mark.usefixtures("shop")
def test_status_in_a_main_resource_write_is_ignored(http: httpx.Client) -> None:
    body = deployment("web")
    body["status"] = {"readyReplicas": 7}
    created = apply(http, body).json()
    assert "status" not in created or created["status"].get("readyReplicas") != 7


def test_apply_yaml_keeps_timestamp_like_values_as_strings(http: httpx.Client) -> None:
    body = (
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: dated\n"
        "  annotations:\n    since: 2024-01-01T00:00:00Z\n"
    )
    response = http.patch("/api/v1/namespaces/dated?fieldManager=t", content=body, headers=APPLY)
    assert response.status_code == 201, response.text
    assert response.json()["metadata"]["annotations"] == {"since": "2024-01-01T00:00:00Z"}
    assert response.json()["status"] == {"phase": "Active"}


@pytest.mark.usefixtures("shop")
def test_reapplying_two_mounts_of_one_volume_keeps_both(http: httpx.Client) -> None:
    """Two volumeMounts may share a volume name (different mountPath/subPath): applying the
    same configuration again must not fold them into one (helm 4 upgrades re-apply)."""
    body = deployment("web")
    body["spec"]["template"]["spec"]["volumes"] = [{"name": "cfg", "configMap": {"name": "c"}}]
    mounts = [
        {"name": "cfg", "mountPath": "/etc/a.conf", "subPath": "a.conf"},
        {"name": "cfg", "mountPath": "/etc/b.conf", "subPath": "b.conf"},
    ]
    body["spec"]["template"]["spec"]["containers"][0]["volumeMounts"] = mounts
    assert apply(http, body).status_code == 201
    again = apply(http, body)
    assert again.status_code == 200, again.text
    assert again.json()["spec"]["template"]["spec"]["containers"][0]["volumeMounts"] == mounts


@pytest.mark.parametrize(
    "status_write",
    [True, False],
    ids=[
        "a status write keeps the spec managers' entries exactly as a full rebuild makes them",
        "a spec update keeps the status managers' entries exactly as a full rebuild makes them",
    ],
)
def test_unpruned_managed_fields_entries_equal_a_full_rebuild(status_write: bool) -> None:
    import copy

    from storeplane.sim.store import apply as ssa

    applied = deployment("web")
    live = ssa.apply_patch(None, applied, "storeplane", True, "apps/v1", "2026-12-01T10:00:00Z")
    live["status"] = {"replicas": 1}
    live["metadata"]["managedFields"] += ssa.record_update(
        None, live, "deployment-controller", "apps/v1", "2026-12-01T10:00:01Z", "status"
    )
    new = copy.deepcopy(live)
    if status_write:
        new["status"] = {"replicas": 1, "readyReplicas": 1}
    else:
        new["metadata"]["labels"] = {**(new["metadata"].get("labels") or {}), "tier": "web"}
    subresource = "status" if status_write else ""
    got = ssa.record_update(live, new, "kubectl", "apps/v1", "2026-12-01T10:00:02Z", subresource)
    others = [
        e for e in live["metadata"]["managedFields"] if e.get("subresource", "") != subresource
    ]
    view = ssa.managed_view(new, not status_write)
    rebuilt = ssa._rebuild(
        [(e, ssa.from_fields_v1(e["fieldsV1"])) for e in others], view, None, set()
    )
    assert rebuilt, "the case has entries of the other half to keep"
    assert [e for e in got if e.get("subresource", "") != subresource] == rebuilt
