"""Built-in controllers: workloads become ready, Jobs complete, after the ready delay."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
from sim_helpers import deployment, namespace, wait_until

from storeplane.sim.runner import SimulatorConfig

READY_DELAY = 0.3
DEPLOYMENTS = "/apis/apps/v1/namespaces/shop/deployments"


@pytest.fixture
def sim_config() -> SimulatorConfig:
    return SimulatorConfig(ready_delay=READY_DELAY, terminate_delay=0.05)


def is_ready(obj: dict[str, Any]) -> bool:
    status = obj.get("status") or {}
    replicas = obj["spec"]["replicas"]
    return bool(
        status.get("observedGeneration") == obj["metadata"]["generation"]
        and status.get("readyReplicas") == replicas
        and status.get("availableReplicas") == replicas
        and status.get("updatedReplicas") == replicas
    )


def test_deployment_becomes_ready_after_the_delay_and_again_after_a_spec_change(
    http: httpx.Client,
) -> None:
    namespace(http, "shop")
    started = time.monotonic()
    http.post(DEPLOYMENTS, json=deployment("web", replicas=2))
    assert not is_ready(http.get(f"{DEPLOYMENTS}/web").json())

    ready = wait_until(lambda: (d := http.get(f"{DEPLOYMENTS}/web").json()) and is_ready(d) and d)
    assert time.monotonic() - started >= READY_DELAY * 0.9
    conditions = {c["type"]: c for c in ready["status"]["conditions"]}
    assert conditions["Available"]["status"] == "True"
    assert conditions["Progressing"]["reason"] == "NewReplicaSetAvailable"
    assert ready["metadata"]["generation"] == 1

    changed = dict(ready, spec=dict(ready["spec"], replicas=3))
    after = http.put(f"{DEPLOYMENTS}/web", json=changed).json()
    assert after["metadata"]["generation"] == 2
    assert not is_ready(after)
    assert after["status"]["observedGeneration"] == 1

    ready_again = wait_until(
        lambda: (d := http.get(f"{DEPLOYMENTS}/web").json()) and is_ready(d) and d
    )
    assert ready_again["status"]["readyReplicas"] == 3


def test_metadata_change_keeps_a_ready_deployment_ready(http: httpx.Client) -> None:
    namespace(http, "shop")
    http.post(DEPLOYMENTS, json=deployment("web"))
    ready = wait_until(lambda: (d := http.get(f"{DEPLOYMENTS}/web").json()) and is_ready(d) and d)
    labelled = dict(ready, metadata=dict(ready["metadata"], annotations={"a": "b"}))
    assert is_ready(http.put(f"{DEPLOYMENTS}/web", json=labelled).json())


def test_statefulset_becomes_ready(http: httpx.Client) -> None:
    namespace(http, "shop")
    body = deployment("db")
    body["kind"] = "StatefulSet"
    body["spec"]["serviceName"] = "db"
    http.post("/apis/apps/v1/namespaces/shop/statefulsets", json=body)
    ready = wait_until(
        lambda: (
            (s := http.get("/apis/apps/v1/namespaces/shop/statefulsets/db").json())
            and is_ready(s)
            and s
        )
    )
    assert ready["status"]["currentRevision"] == ready["status"]["updateRevision"]


def test_job_completes(http: httpx.Client) -> None:
    namespace(http, "shop")
    body = {
        "metadata": {"name": "migrate"},
        "spec": {
            "template": {
                "spec": {"containers": [{"name": "m", "image": "x"}], "restartPolicy": "Never"}
            }
        },
    }
    http.post("/apis/batch/v1/namespaces/shop/jobs", json=body)

    def complete() -> dict[str, Any] | None:
        job = http.get("/apis/batch/v1/namespaces/shop/jobs/migrate").json()
        conditions = (job.get("status") or {}).get("conditions") or []
        return job if any(c["type"] == "Complete" for c in conditions) else None

    job = wait_until(complete)
    assert job["status"]["succeeded"] == 1


@pytest.mark.parametrize(
    "sim_config",
    [SimulatorConfig(ready_delay=0)],
    ids=["a zero ready delay"],
)
def test_zero_delay_makes_deployments_ready_on_the_next_tick(http: httpx.Client) -> None:
    namespace(http, "shop")
    http.post(DEPLOYMENTS, json=deployment("web"))
    wait_until(lambda: is_ready(http.get(f"{DEPLOYMENTS}/web").json()), timeout=1.0)
