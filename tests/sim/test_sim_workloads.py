"""Workload controllers over HTTP: Deployment -> ReplicaSet -> Pods with LimitRange
defaults, ResourceQuota admission and status, StatefulSet pods and claims, PVC binding,
Service cluster IPs and load-balancer addresses."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sim_helpers import deployment, namespace, wait_until

from storeplane.sim.runner import SimulatorConfig

DEPLOYMENTS = "/apis/apps/v1/namespaces/shop/deployments"
REPLICASETS = "/apis/apps/v1/namespaces/shop/replicasets"
PODS = "/api/v1/namespaces/shop/pods"
QUOTAS = "/api/v1/namespaces/shop/resourcequotas"
LIMITS = "/api/v1/namespaces/shop/limitranges"


@pytest.fixture
def sim_config() -> SimulatorConfig:
    return SimulatorConfig(ready_delay=0.2, terminate_delay=0.05)


def store_deployment(name: str = "web", replicas: int = 1, **resources: Any) -> dict[str, Any]:
    body = deployment(name, replicas)
    template = body["spec"]["template"]
    template["metadata"]["labels"]["storeplane.dev/store-id"] = "s-1"
    template["metadata"]["annotations"] = {"checksum/config": "abc"}
    if resources:
        template["spec"]["containers"][0]["resources"] = resources
    return body


def items(http: httpx.Client, url: str, **params: str) -> list[dict[str, Any]]:
    return list(http.get(url, params=params).json()["items"])


def ready(http: httpx.Client, name: str = "web") -> dict[str, Any] | None:
    d: dict[str, Any] = http.get(f"{DEPLOYMENTS}/{name}").json()
    status = d.get("status") or {}
    wanted = d["spec"]["replicas"]
    done = status.get("observedGeneration") == d["metadata"]["generation"] and (
        status.get("readyReplicas", 0) == status.get("updatedReplicas", 0) == wanted
    )
    return d if done else None


def test_a_deployment_owns_a_replicaset_that_owns_ready_pods(http: httpx.Client) -> None:
    namespace(http, "shop")
    created = http.post(DEPLOYMENTS, json=store_deployment(replicas=2)).json()
    done = wait_until(lambda: ready(http))
    assert {c["type"]: c["status"] for c in done["status"]["conditions"]} == {
        "Available": "True", "Progressing": "True",
    }  # fmt: skip

    [rs] = items(http, REPLICASETS)
    pod_hash = rs["metadata"]["labels"]["pod-template-hash"]
    assert rs["metadata"]["name"] == f"web-{pod_hash}"
    assert rs["metadata"]["ownerReferences"][0]["uid"] == created["metadata"]["uid"]
    assert rs["metadata"]["ownerReferences"][0]["controller"] is True
    assert rs["spec"]["selector"]["matchLabels"] == {"app": "web", "pod-template-hash": pod_hash}

    pods = items(http, PODS, labelSelector="storeplane.dev/store-id=s-1")
    assert len(pods) == 2
    for pod in pods:
        assert pod["metadata"]["name"].startswith(f"web-{pod_hash}-")
        assert pod["metadata"]["labels"]["pod-template-hash"] == pod_hash
        assert pod["metadata"]["annotations"] == {"checksum/config": "abc"}
        assert pod["metadata"]["ownerReferences"][0]["uid"] == rs["metadata"]["uid"]
        assert pod["status"]["phase"] == "Running"
        assert {c["type"]: c["status"] for c in pod["status"]["conditions"]}["Ready"] == "True"


def test_a_template_change_rolls_a_new_replicaset_and_scales_the_old_to_zero(
    http: httpx.Client,
) -> None:
    namespace(http, "shop")
    http.post(DEPLOYMENTS, json=store_deployment())
    first = wait_until(lambda: ready(http))
    changed = store_deployment()
    changed["spec"]["template"]["spec"]["containers"][0]["image"] = "nginx:1.28"
    http.put(f"{DEPLOYMENTS}/web", json=dict(changed, metadata=first["metadata"]))
    wait_until(lambda: ready(http))
    replicas = {rs["metadata"]["name"]: rs["spec"]["replicas"] for rs in items(http, REPLICASETS)}
    assert sorted(replicas.values()) == [0, 1]
    wait_until(lambda: len(items(http, PODS)) == 1)
    [pod] = items(http, PODS)
    assert pod["spec"]["containers"][0]["image"] == "nginx:1.28"


def test_scaling_down_deletes_pods_and_deleting_the_deployment_collects_everything(
    http: httpx.Client,
) -> None:
    namespace(http, "shop")
    http.post(DEPLOYMENTS, json=store_deployment(replicas=3))
    d = wait_until(lambda: ready(http))
    http.put(f"{DEPLOYMENTS}/web", json=dict(d, spec=dict(d["spec"], replicas=1)))
    wait_until(lambda: len(items(http, PODS)) == 1)
    http.delete(f"{DEPLOYMENTS}/web")
    assert items(http, REPLICASETS) == []
    assert items(http, PODS) == []


def test_limitrange_defaults_fill_containers_without_resources(http: httpx.Client) -> None:
    namespace(http, "shop")
    http.post(
        LIMITS,
        json={
            "metadata": {"name": "defaults"},
            "spec": {
                "limits": [
                    {
                        "type": "Container",
                        "default": {"cpu": "500m", "memory": "256Mi"},
                        "defaultRequest": {"cpu": "100m"},
                    }
                ]
            },
        },
    )
    http.post(DEPLOYMENTS, json=store_deployment())
    http.post(
        PODS,
        json={"metadata": {"name": "own"}, "spec": {"containers": [
            {"name": "c", "image": "x", "resources": {"limits": {"cpu": "2"}}}]}},
    )  # fmt: skip
    [pod] = wait_until(lambda: items(http, PODS, labelSelector="app=web"))
    assert pod["spec"]["containers"][0]["resources"] == {
        "limits": {"cpu": "500m", "memory": "256Mi"},
        "requests": {"cpu": "100m", "memory": "256Mi"},
    }
    own = http.get(f"{PODS}/own").json()
    assert own["spec"]["containers"][0]["resources"] == {
        "limits": {"cpu": "2", "memory": "256Mi"},
        "requests": {"cpu": "2", "memory": "256Mi"},
    }


def quota(http: httpx.Client, **hard: str) -> None:
    body = {"metadata": {"name": "store-quota"}, "spec": {"hard": hard}}
    existing = http.get(f"{QUOTAS}/store-quota")
    if existing.status_code == 200:
        http.put(f"{QUOTAS}/store-quota", json=dict(body, metadata=existing.json()["metadata"]))
    else:
        http.post(QUOTAS, json=body)


def test_a_pod_over_quota_is_forbidden_with_the_api_servers_message(http: httpx.Client) -> None:
    namespace(http, "shop")
    quota(http, **{"limits.cpu": "1", "pods": "5"})
    pod = {"spec": {"containers": [{"name": "c", "image": "x",
                                    "resources": {"limits": {"cpu": "600m"}}}]}}  # fmt: skip
    assert http.post(PODS, json={"metadata": {"name": "a"}, **pod}).status_code == 201
    refused = http.post(PODS, json={"metadata": {"name": "b"}, **pod})
    assert refused.status_code == 403
    body = refused.json()
    assert (body["reason"], body["code"]) == ("Forbidden", 403)
    assert body["message"] == (
        'pods "b" is forbidden: exceeded quota: store-quota, requested: limits.cpu=600m, '
        "used: limits.cpu=600m, limited: limits.cpu=1"
    )
    status = wait_until(lambda: http.get(f"{QUOTAS}/store-quota").json().get("status"))
    assert status == {"hard": {"limits.cpu": "1", "pods": "5"},
                      "used": {"limits.cpu": "600m", "pods": "1"}}  # fmt: skip


def test_a_pod_without_the_resources_a_quota_tracks_is_forbidden(http: httpx.Client) -> None:
    namespace(http, "shop")
    quota(http, **{"requests.memory": "1Gi"})
    refused = http.post(
        PODS,
        json={"metadata": {"name": "a"}, "spec": {"containers": [{"name": "c", "image": "x"}]}},
    )
    assert refused.status_code == 403
    assert refused.json()["message"] == (
        'pods "a" is forbidden: failed quota: store-quota: must specify requests.memory for: c'
    )


def test_a_deployment_over_quota_reports_replica_failure_until_the_quota_grows(
    http: httpx.Client,
) -> None:
    namespace(http, "shop")
    quota(http, pods="1")
    http.post(DEPLOYMENTS, json=store_deployment(replicas=2))

    def failing() -> dict[str, Any] | None:
        d: dict[str, Any] = http.get(f"{DEPLOYMENTS}/web").json()
        conditions = {c["type"]: c for c in (d.get("status") or {}).get("conditions") or []}
        return conditions.get("ReplicaFailure")

    failure = wait_until(failing)
    assert (failure["status"], failure["reason"]) == ("True", "FailedCreate")
    assert failure["message"].startswith('pods "web-')
    assert failure["message"].endswith(
        "is forbidden: exceeded quota: store-quota, requested: pods=1, used: pods=1, "
        "limited: pods=1"
    )
    assert len(items(http, PODS)) == 1
    assert wait_until(lambda: http.get(f"{QUOTAS}/store-quota").json().get("status"))["used"] == {
        "pods": "1"
    }

    quota(http, pods="4")
    done = wait_until(lambda: ready(http), timeout=5)
    assert "ReplicaFailure" not in {c["type"] for c in done["status"]["conditions"]}


def test_a_pvc_over_the_storage_quota_is_forbidden(http: httpx.Client) -> None:
    namespace(http, "shop")
    quota(http, **{"requests.storage": "10Gi"})
    claim = {"spec": {"accessModes": ["ReadWriteOnce"],
                      "resources": {"requests": {"storage": "8Gi"}}}}  # fmt: skip
    url = "/api/v1/namespaces/shop/persistentvolumeclaims"
    assert http.post(url, json={"metadata": {"name": "a"}, **claim}).status_code == 201
    refused = http.post(url, json={"metadata": {"name": "b"}, **claim})
    assert refused.status_code == 403
    assert refused.json()["message"] == (
        'persistentvolumeclaims "b" is forbidden: exceeded quota: store-quota, requested: '
        "requests.storage=8Gi, used: requests.storage=8Gi, limited: requests.storage=10Gi"
    )


def test_a_statefulset_gets_ordinal_pods_and_bound_claims(http: httpx.Client) -> None:
    namespace(http, "shop")
    body = store_deployment("db", replicas=2)
    body["kind"] = "StatefulSet"
    body["spec"]["serviceName"] = "db"
    body["spec"]["volumeClaimTemplates"] = [{
        "metadata": {"name": "data"},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}},
    }]  # fmt: skip
    http.post("/apis/apps/v1/namespaces/shop/statefulsets", json=body)

    def sts_ready() -> dict[str, Any] | None:
        s: dict[str, Any] = http.get("/apis/apps/v1/namespaces/shop/statefulsets/db").json()
        return s if (s.get("status") or {}).get("readyReplicas") == 2 else None

    wait_until(sts_ready)
    assert sorted(p["metadata"]["name"] for p in items(http, PODS)) == ["db-0", "db-1"]
    claims = items(http, "/api/v1/namespaces/shop/persistentvolumeclaims")
    assert sorted(c["metadata"]["name"] for c in claims) == ["data-db-0", "data-db-1"]
    bound = wait_until(
        lambda: all(
            c.get("status", {}).get("phase") == "Bound"
            for c in items(http, "/api/v1/namespaces/shop/persistentvolumeclaims")
        )
    )
    assert bound
    pod = http.get(f"{PODS}/db-1").json()
    assert {"name": "data", "persistentVolumeClaim": {"claimName": "data-db-1"}} in pod["spec"][
        "volumes"
    ]


def test_services_get_a_cluster_ip_and_ingresses_an_address(http: httpx.Client) -> None:
    namespace(http, "shop")
    svc = http.post(
        "/api/v1/namespaces/shop/services",
        json={"metadata": {"name": "web"}, "spec": {"ports": [{"port": 80}]}},
    ).json()
    ip = svc["spec"]["clusterIP"]
    assert ip.startswith("10.") and svc["spec"]["clusterIPs"] == [ip]
    other = http.post(
        "/api/v1/namespaces/shop/services",
        json={"metadata": {"name": "db"}, "spec": {"clusterIP": "None", "ports": [{"port": 5432}]}},
    ).json()
    assert other["spec"]["clusterIP"] == "None"
    http.post(
        "/apis/networking.k8s.io/v1/namespaces/shop/ingresses",
        json={"metadata": {"name": "web"}, "spec": {"rules": [{"host": "shop.local"}]}},
    )
    ingress = wait_until(
        lambda: (
            http.get("/apis/networking.k8s.io/v1/namespaces/shop/ingresses/web")
            .json()
            .get("status", {})
            .get("loadBalancer", {})
            .get("ingress")
        )
    )
    assert ingress == [{"ip": "127.0.0.1"}]


@pytest.mark.parametrize(
    "sim_config",
    [SimulatorConfig(ready_delay=30, ready_delays={"Pod": 0.05})],
    ids=["a short Pod delay"],
)
def test_ready_delays_are_set_per_kind(http: httpx.Client) -> None:
    namespace(http, "shop")
    http.post(DEPLOYMENTS, json=store_deployment())
    http.post(
        "/apis/batch/v1/namespaces/shop/jobs",
        json={"metadata": {"name": "j"}, "spec": {"template": {"spec": {
            "containers": [{"name": "c", "image": "x"}], "restartPolicy": "Never"}}}},
    )  # fmt: skip
    wait_until(lambda: ready(http), timeout=2)
    job = http.get("/apis/batch/v1/namespaces/shop/jobs/j").json()
    assert "succeeded" not in (job.get("status") or {})  # still on the 30 s Job delay


def test_what_the_controllers_make_passes_the_schema_check_they_skip(http: httpx.Client) -> None:
    # The controllers create ReplicaSets, Pods and Events without the OpenAPI schema check
    # (Cluster.create(from_checked_parts=True)): prove that check would find nothing in them.
    from storeplane.sim.admission.validation import schema_check
    from storeplane.sim.kinds import lookup

    namespace(http, "shop")
    http.post(DEPLOYMENTS, json=store_deployment(replicas=2, limits={"cpu": "100m"}))
    wait_until(lambda: ready(http))
    made = {
        ("apps", "replicasets"): items(http, REPLICASETS),
        ("", "pods"): items(http, PODS),
        ("", "events"): items(http, "/api/v1/namespaces/shop/events"),
    }
    assert all(made.values()), {k: len(v) for k, v in made.items()}
    for (group, resource), objects in made.items():
        kind = lookup(group, "v1", resource)
        assert kind is not None
        for obj in objects:
            causes, _ = schema_check(kind, obj, "Strict")  # Strict: an unknown field raises
            assert causes == [], (resource, obj["metadata"]["name"], causes)
