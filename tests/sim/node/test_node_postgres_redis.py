"""PostgreSQL and redis as local processes: the official images' contracts, Services by name."""

from __future__ import annotations

import base64
from typing import Any

import httpx
import pytest
from node_helpers import require_runtime
from sim_helpers import wait_until

PASSWORD = "s3cret-pw"


def _secret(ns: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "creds", "namespace": ns},
            "data": {"db-password": base64.b64encode(PASSWORD.encode()).decode()}}  # fmt: skip


def postgres_objects(ns: str) -> list[tuple[str, dict[str, Any]]]:
    labels = {"app": "db"}
    sts = {
        "apiVersion": "apps/v1", "kind": "StatefulSet",
        "metadata": {"name": "db"},
        "spec": {
            "serviceName": "db", "replicas": 1, "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels}, "spec": {"containers": [{
                "name": "postgres", "image": "postgres:16-alpine",
                "ports": [{"name": "postgres", "containerPort": 5432}],
                "env": [
                    {"name": "POSTGRES_USER", "value": "shop"},
                    {"name": "POSTGRES_DB", "value": "shop"},
                    {"name": "POSTGRES_PASSWORD", "valueFrom": {"secretKeyRef": {
                        "name": "creds", "key": "db-password"}}},
                    {"name": "PGDATA", "value": "/var/lib/postgresql/data/pgdata"},
                ],
                "readinessProbe": {"exec": {"command": [
                    "pg_isready", "-h", "127.0.0.1", "-U", "shop", "-d", "shop"]},
                    "periodSeconds": 1},
                "volumeMounts": [{"name": "data", "mountPath": "/var/lib/postgresql/data"},
                                 {"name": "run", "mountPath": "/var/run/postgresql"}],
            }], "volumes": [{"name": "run", "emptyDir": {}}]}},
            "volumeClaimTemplates": [{"metadata": {"name": "data"}, "spec": {
                "accessModes": ["ReadWriteOnce"],
                "resources": {"requests": {"storage": "1Gi"}}}}],
        },
    }  # fmt: skip
    service = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "db"},
               "spec": {"clusterIP": "None", "selector": labels, "ports": [
                   {"name": "postgres", "port": 5432, "targetPort": "postgres"}]}}  # fmt: skip
    return [("/apis/apps/v1", sts), ("/api/v1", service)]


def _create(http: httpx.Client, ns: str, base: str, body: dict[str, Any]) -> None:
    plural = {"StatefulSet": "statefulsets", "Service": "services", "Deployment": "deployments",
              "Pod": "pods", "Secret": "secrets"}[body["kind"]]  # fmt: skip
    response = http.post(f"{base}/namespaces/{ns}/{plural}", json=body)
    assert response.status_code == 201, response.text


def _pod(http: httpx.Client, ns: str, name: str) -> dict[str, Any]:
    response = http.get(f"/api/v1/namespaces/{ns}/pods/{name}")
    return dict(response.json()) if response.status_code == 200 else {}


def _ready(pod: dict[str, Any]) -> bool:
    return any(c.get("type") == "Ready" and c.get("status") == "True"
               for c in (pod.get("status") or {}).get("conditions") or [])  # fmt: skip


@pytest.fixture(scope="module")
def database(local_sim: Any) -> str:
    """A namespace with a PostgreSQL StatefulSet and its headless Service, Ready."""
    require_runtime("postgres")
    with httpx.Client(base_url=local_sim.url, timeout=10) as http:
        ns = http.post("/api/v1/namespaces", json={"metadata": {"generateName": "pg-"}}).json()
        name = ns["metadata"]["name"]
        _create(http, name, "/api/v1", _secret(name))
        for base, body in postgres_objects(name):
            _create(http, name, base, body)
        wait_until(lambda: _ready(_pod(http, name, "db-0")), timeout=60, interval=0.2)
    return str(name)


def test_postgres_container_with_the_images_env_becomes_ready(
    lhttp: httpx.Client, database: str
) -> None:
    pod = _pod(lhttp, database, "db-0")
    assert pod["spec"]["nodeName"] == "storeplane-local"
    assert pod["status"]["podIP"].startswith("127.1.")
    status = pod["status"]["containerStatuses"][0]
    assert status["ready"] and status["restartCount"] == 0


def test_psql_from_a_second_pod_reaches_the_database_through_the_service_name(
    lhttp: httpx.Client, database: str
) -> None:
    client = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "client"}, "spec": {
        "restartPolicy": "Never", "containers": [{
            "name": "psql", "image": "postgres:16-alpine",
            "command": ["sh", "-c", "psql -tA -c 'select 40 + 2' && psql -tA -h db."
                        f"{database}.svc.cluster.local -c 'select current_user'"],
            "env": [{"name": "PGHOST", "value": "db"}, {"name": "PGUSER", "value": "shop"},
                    {"name": "PGDATABASE", "value": "shop"},
                    {"name": "PGPASSWORD", "valueFrom": {"secretKeyRef": {
                        "name": "creds", "key": "db-password"}}}]}]}}  # fmt: skip
    _create(lhttp, database, "/api/v1", client)
    pod = wait_until(
        lambda: (
            (p := _pod(lhttp, database, "client"))["status"].get("phase") in ("Succeeded", "Failed")
            and p
        ),
        timeout=30,
        interval=0.2,
    )
    log = lhttp.get(f"/api/v1/namespaces/{database}/pods/client/log")
    assert pod["status"]["phase"] == "Succeeded", log.text
    assert log.text.split() == ["42", "shop"]


def test_redis_answers_its_own_probe_and_a_client_in_another_pod(
    lhttp: httpx.Client, database: str
) -> None:
    require_runtime("redis")
    labels = {"app": "cache"}
    deployment = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "cache"},
                  "spec": {"selector": {"matchLabels": labels}, "template": {
                      "metadata": {"labels": labels}, "spec": {"containers": [{
                          "name": "redis", "image": "redis:7-alpine",
                          "command": ["redis-server", "--save", "", "--dir", "/data"],
                          "ports": [{"name": "redis", "containerPort": 6379}],
                          "readinessProbe": {"exec": {"command": ["redis-cli", "ping"]},
                                             "periodSeconds": 1},
                          "livenessProbe": {"tcpSocket": {"port": "redis"}},
                          "volumeMounts": [{"name": "data", "mountPath": "/data"}]}],
                          "volumes": [{"name": "data", "emptyDir": {}}]}}}}  # fmt: skip
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "cache"},
        "spec": {"selector": labels, "ports": [{"port": 6379, "targetPort": "redis"}]},
    }
    _create(lhttp, database, "/apis/apps/v1", deployment)
    _create(lhttp, database, "/api/v1", service)

    def ready_pod() -> dict[str, Any] | None:
        pods = lhttp.get(
            f"/api/v1/namespaces/{database}/pods", params={"labelSelector": "app=cache"}
        )
        items = pods.json()["items"]
        return items[0] if items and _ready(items[0]) else None

    wait_until(ready_pod, timeout=30, interval=0.2)
    client = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "redis-client"}, "spec": {
        "restartPolicy": "Never", "containers": [{
            "name": "cli", "image": "redis:7-alpine",
            "command": ["sh", "-c", "redis-cli -h cache set k v && redis-cli -u redis://cache."
                        f"{database}:6379 get k"]}]}}  # fmt: skip
    _create(lhttp, database, "/api/v1", client)
    pod = wait_until(
        lambda: (
            (p := _pod(lhttp, database, "redis-client"))["status"].get("phase")
            in ("Succeeded", "Failed")
            and p
        ),
        timeout=30,
        interval=0.2,
    )
    log = lhttp.get(f"/api/v1/namespaces/{database}/pods/redis-client/log")
    assert pod["status"]["phase"] == "Succeeded", log.text
    assert log.text.split() == ["OK", "v"]
