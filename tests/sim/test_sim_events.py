"""Events: the recorder (storeplane/sim/controllers/events.py) and the Events the built-in
controllers write, read back over HTTP, with kubectl and with the official Python client."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest
from kubernetes import client as k8s_client
from kubernetes import config as k8s_config
from kubernetes import watch as k8s_watch
from sim_helpers import deployment, namespace, wait_until

from storeplane.sim.controllers.events import record
from storeplane.sim.kinds import lookup
from storeplane.sim.kubeconfig import write_kubeconfig
from storeplane.sim.runner import RunningSimulator
from storeplane.sim.store.cluster import Cluster
from storeplane.sim.store.objects import ObjectStore

KUBECTL = shutil.which("kubectl")
CONFIGMAPS = lookup("", "v1", "configmaps")
NAMESPACES = lookup("", "v1", "namespaces")


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def cluster() -> Cluster:
    c = Cluster(ObjectStore(), clock=Clock())
    c.ensure_namespaces()
    c.create(NAMESPACES, None, {"metadata": {"name": "shop"}}, "test")
    return c


def _configmap(cluster: Cluster) -> dict[str, Any]:
    assert CONFIGMAPS is not None
    return cluster.create(CONFIGMAPS, "shop", {"metadata": {"name": "settings"}}, "test")


def test_an_event_names_its_object_and_source(cluster: Cluster) -> None:
    cm = _configmap(cluster)
    event = record(cluster, cm, "Normal", "Synced", "all good", "some-controller")
    assert event is not None
    assert re.fullmatch(r"settings\.[0-9a-f]+", event["metadata"]["name"])
    assert event["metadata"]["namespace"] == "shop"
    assert event["involvedObject"] == {
        "kind": "ConfigMap",
        "namespace": "shop",
        "name": "settings",
        "uid": cm["metadata"]["uid"],
        "apiVersion": "v1",
        "resourceVersion": cm["metadata"]["resourceVersion"],
    }
    assert event["source"] == {"component": "some-controller"}
    assert event["reportingComponent"] == "some-controller"
    assert (event["type"], event["reason"], event["message"], event["count"]) == (
        "Normal", "Synced", "all good", 1,
    )  # fmt: skip
    assert event["firstTimestamp"] == event["lastTimestamp"] == "2027-01-15T08:00:00Z"


def test_a_repeat_raises_the_count_of_the_first_event(cluster: Cluster) -> None:
    cm = _configmap(cluster)
    first = record(cluster, cm, "Warning", "Failed", "no", "c")
    assert isinstance(cluster.clock, Clock)
    cluster.clock.now += 30
    again = record(cluster, cm, "Warning", "Failed", "no", "c")
    assert first is not None and again is not None
    assert again["metadata"]["name"] == first["metadata"]["name"]
    assert again["count"] == 2
    assert again["firstTimestamp"] == "2027-01-15T08:00:00Z"
    assert again["lastTimestamp"] == "2027-01-15T08:00:30Z"


def test_a_different_message_is_a_new_event(cluster: Cluster) -> None:
    cm = _configmap(cluster)
    first = record(cluster, cm, "Warning", "Failed", "no", "c")
    other = record(cluster, cm, "Warning", "Failed", "still no", "c")
    assert first is not None and other is not None
    assert other["metadata"]["name"] != first["metadata"]["name"]
    assert other["count"] == 1


def test_events_about_cluster_scoped_objects_go_to_default(cluster: Cluster) -> None:
    assert NAMESPACES is not None
    shop = cluster.get(NAMESPACES, None, "shop")
    event = record(cluster, shop, "Normal", "Hello", "hi", "c")
    assert event is not None and event["metadata"]["namespace"] == "default"
    assert "namespace" not in event["involvedObject"]


def test_an_event_in_a_terminating_namespace_is_dropped(cluster: Cluster) -> None:
    assert NAMESPACES is not None
    cm = _configmap(cluster)
    cluster.delete(NAMESPACES, None, "shop")
    assert record(cluster, cm, "Normal", "Late", "too late", "c") is None


# --- controllers, over HTTP ------------------------------------------------------------


def _events(http: httpx.Client, ns: str, **fields: str) -> list[dict[str, Any]]:
    selector = ",".join(f"{k}={v}" for k, v in fields.items())
    response = http.get(f"/api/v1/namespaces/{ns}/events", params={"fieldSelector": selector})
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


def _reasons(events: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(e["reason"], e["message"]) for e in events]


def test_a_rollout_records_scaling_and_pod_creation(http: httpx.Client) -> None:
    namespace(http, "shop")
    http.post("/apis/apps/v1/namespaces/shop/deployments", json=deployment("web", replicas=2))
    on_deployment = wait_until(
        lambda: _events(http, "shop", **{"involvedObject.kind": "Deployment"})
    )
    (scaled,) = on_deployment
    matched = re.fullmatch(r"Scaled up replica set (web-\w+) from 0 to 2", scaled["message"])
    assert matched is not None, scaled["message"]
    rs_name = matched.group(1)
    assert scaled["reason"] == "ScalingReplicaSet"
    assert scaled["source"] == {"component": "deployment-controller"}
    on_rs = wait_until(
        lambda: [
            e
            for e in _events(http, "shop", **{"involvedObject.name": rs_name})
            if e["reason"] == "SuccessfulCreate"
        ]
    )
    pods = http.get("/api/v1/namespaces/shop/pods").json()["items"]
    assert sorted(e["message"] for e in on_rs) == sorted(
        f"Created pod: {p['metadata']['name']}" for p in pods
    )

    http.patch(
        "/apis/apps/v1/namespaces/shop/deployments/web",
        json={"spec": {"replicas": 1}},
        headers={"content-type": "application/merge-patch+json"},
    )
    wait_until(lambda: ("ScalingReplicaSet", f"Scaled down replica set {rs_name} to 1 from 2")
               in _reasons(_events(http, "shop", reason="ScalingReplicaSet")))  # fmt: skip
    deleted = wait_until(lambda: _events(http, "shop", reason="SuccessfulDelete"))
    assert deleted[0]["message"].startswith(f"Deleted pod: {rs_name}-")
    assert deleted[0]["source"]["component"] == "replicaset-controller"


def test_a_refused_pod_is_a_failed_create_warning_with_the_servers_message(
    http: httpx.Client,
) -> None:
    namespace(http, "shop")
    http.post(
        "/api/v1/namespaces/shop/resourcequotas",
        json={"metadata": {"name": "store-quota"}, "spec": {"hard": {"pods": "0"}}},
    )
    http.post("/apis/apps/v1/namespaces/shop/deployments", json=deployment("web"))
    (failed,) = wait_until(lambda: _events(http, "shop", type="Warning"))
    assert failed["reason"] == "FailedCreate"
    assert failed["involvedObject"]["kind"] == "ReplicaSet"
    assert re.fullmatch(
        r'Error creating: pods "web-\w+-" is forbidden: exceeded quota: store-quota, '
        r"requested: pods=1, used: pods=0, limited: pods=0",
        failed["message"],
    ), failed["message"]
    # The controller retries; the repeats fold into the same Event.
    wait_until(lambda: _events(http, "shop", type="Warning")[0]["count"] >= 2, timeout=6)
    assert len(_events(http, "shop", type="Warning")) == 1


def test_statefulset_and_job_events_read_as_their_controllers_write_them(
    http: httpx.Client,
) -> None:
    namespace(http, "shop")
    sts = deployment("db")
    sts.update(kind="StatefulSet")
    sts["spec"]["serviceName"] = "db"
    sts["spec"]["volumeClaimTemplates"] = [{
        "metadata": {"name": "data"},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}},
    }]  # fmt: skip
    assert http.post("/apis/apps/v1/namespaces/shop/statefulsets", json=sts).status_code == 201
    job = {
        "metadata": {"name": "migrate"},
        "spec": {"template": {"spec": {"restartPolicy": "Never",
                 "containers": [{"name": "m", "image": "busybox"}]}}},
    }  # fmt: skip
    assert http.post("/apis/batch/v1/namespaces/shop/jobs", json=job).status_code == 201
    wanted = {
        ("SuccessfulCreate", "create Claim data-db-0 Pod db-0 in StatefulSet db success"),
        ("SuccessfulCreate", "create Pod db-0 in StatefulSet db successful"),
        ("Completed", "Job completed"),
    }
    wait_until(lambda: wanted <= set(_reasons(_events(http, "shop"))))
    (completed,) = _events(http, "shop", reason="Completed")
    assert completed["source"] == {"component": "job-controller"}


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ("type=Warning", set()),
        ("type!=Warning", {"ScalingReplicaSet", "SuccessfulCreate"}),
        ("source=deployment-controller", {"ScalingReplicaSet"}),
        ("reportingComponent=replicaset-controller", {"SuccessfulCreate"}),
        ("involvedObject.kind=ReplicaSet,reason=SuccessfulCreate", {"SuccessfulCreate"}),
        ("involvedObject.name=web,involvedObject.namespace=shop", {"ScalingReplicaSet"}),
    ],
    ids=[
        "type selects warnings (none here)",
        "type with != selects the rest",
        "source is the source component",
        "reportingComponent",
        "involvedObject.kind and reason together",
        "involvedObject.name and namespace as kubectl describe sends them",
    ],
)
def test_event_field_selectors(http: httpx.Client, selector: str, expected: set[str]) -> None:
    namespace(http, "shop")
    http.post("/apis/apps/v1/namespaces/shop/deployments", json=deployment("web"))
    wait_until(lambda: len(_events(http, "shop")) >= 2)
    response = http.get("/api/v1/namespaces/shop/events", params={"fieldSelector": selector})
    assert response.status_code == 200, response.text
    assert {e["reason"] for e in response.json()["items"]} == expected


def test_an_unknown_event_field_is_a_bad_request(http: httpx.Client) -> None:
    response = http.get("/api/v1/events", params={"fieldSelector": "spec.nodeName=x"})
    assert response.status_code == 400
    assert '"spec.nodeName" is not a known field selector' in response.json()["message"]


def test_pod_field_selectors(http: httpx.Client) -> None:
    namespace(http, "shop")
    http.post("/apis/apps/v1/namespaces/shop/deployments", json=deployment("web"))
    wait_until(lambda: http.get("/api/v1/namespaces/shop/pods",
               params={"fieldSelector": "status.phase=Running"}).json()["items"])  # fmt: skip
    pending = http.get("/api/v1/pods", params={"fieldSelector": "status.phase=Pending"})
    assert pending.status_code == 200 and pending.json()["items"] == []


# --- real clients ----------------------------------------------------------------------


def _kubectl(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    assert KUBECTL is not None
    return subprocess.run(
        [KUBECTL, "--kubeconfig", str(config), "--request-timeout=5s", *args],
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip


@pytest.mark.skipif(KUBECTL is None, reason="kubectl is not on PATH")
def test_kubectl_get_events_and_describe_show_the_rollout(
    sim: RunningSimulator, http: httpx.Client, tmp_path: Path
) -> None:
    config = write_kubeconfig(tmp_path / "kubeconfig", sim.url)
    namespace(http, "shop")
    http.post("/apis/apps/v1/namespaces/shop/deployments", json=deployment("web"))
    wait_until(lambda: len(_events(http, "shop")) >= 2)

    listed = _kubectl(config, "get", "events", "-n", "shop")
    assert listed.returncode == 0, listed.stderr
    header, *rows = listed.stdout.splitlines()
    assert header.split() == ["LAST", "SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"]
    assert any(
        re.search(
            r"Normal\s+ScalingReplicaSet\s+deployment/web\s+Scaled up replica "
            r"set web-\w+ from 0 to 1",
            row,
        )
        for row in rows
    ), rows
    assert any(
        re.search(
            r"Normal\s+SuccessfulCreate\s+replicaset/web-\w+\s+Created pod: "
            r"web-\w+-\w+",
            row,
        )
        for row in rows
    ), rows

    described = _kubectl(config, "describe", "deployment", "web", "-n", "shop")
    assert described.returncode == 0, described.stderr
    events_part = described.stdout.split("Events:", 1)[1]
    assert re.search(
        r"Normal\s+ScalingReplicaSet\s+.*deployment-controller\s+"
        r"Scaled up replica set web-\w+ from 0 to 1",
        events_part,
    ), events_part


def test_the_python_client_watches_events(sim: RunningSimulator, tmp_path: Path) -> None:
    config = write_kubeconfig(tmp_path / "kubeconfig", sim.url)
    api_client = k8s_config.new_client_from_config(str(config))
    core = k8s_client.CoreV1Api(api_client)
    apps = k8s_client.AppsV1Api(api_client)
    core.create_namespace({"metadata": {"name": "shop"}})
    seen: list[Any] = []
    watcher = k8s_watch.Watch()

    def follow() -> None:
        for item in watcher.stream(core.list_namespaced_event, "shop", timeout_seconds=10):
            seen.append(item["object"])
            # Both, not the first: a watch that starts late gets both as initial ADDED
            # events in name order, and the ReplicaSet's sorts before the Deployment's.
            if {"ScalingReplicaSet", "SuccessfulCreate"} <= {e.reason for e in seen}:
                watcher.stop()

    thread = threading.Thread(target=follow)
    thread.start()
    apps.create_namespaced_deployment("shop", deployment("web"))
    thread.join(timeout=15)
    assert {e.reason for e in seen} >= {"ScalingReplicaSet", "SuccessfulCreate"}
    scaled = next(e for e in seen if e.reason == "ScalingReplicaSet")
    assert scaled.involved_object.kind == "Deployment"
    assert scaled.source.component == "deployment-controller"
    assert scaled.count == 1 and scaled.first_timestamp is not None
    api_client.close()


# --- events.k8s.io/v1: the same Events, converted -----------------------------------------

NEW_EVENTS = "/apis/events.k8s.io/v1/namespaces/shop/events"


def test_events_k8s_io_serves_the_same_events_converted(http: httpx.Client) -> None:
    namespace(http, "shop")
    http.post("/apis/apps/v1/namespaces/shop/deployments", json=deployment("web"))
    core = wait_until(lambda: _events(http, "shop", reason="ScalingReplicaSet"))[0]
    listed = http.get(NEW_EVENTS, params={"fieldSelector": "regarding.kind=Deployment"}).json()
    assert listed["kind"] == "EventList" and listed["apiVersion"] == "events.k8s.io/v1"
    (new,) = listed["items"]
    assert new["apiVersion"] == "events.k8s.io/v1"
    assert new["metadata"]["uid"] == core["metadata"]["uid"]
    assert new["regarding"] == core["involvedObject"]
    assert new["note"] == core["message"]
    assert new["reportingController"] == "deployment-controller"
    assert new["deprecatedSource"] == {"component": "deployment-controller"}
    assert new["deprecatedCount"] == 1 and new["deprecatedFirstTimestamp"]
    assert "involvedObject" not in new and "message" not in new


def test_an_event_written_as_events_k8s_io_is_read_as_core(http: httpx.Client) -> None:
    namespace(http, "shop")
    body = {
        "apiVersion": "events.k8s.io/v1", "kind": "Event", "metadata": {"name": "hello.1"},
        "eventTime": "2026-12-01T08:00:00.000000Z", "reportingController": "example.com/ctl",
        "reportingInstance": "ctl-1", "action": "Testing", "reason": "Tested", "type": "Normal",
        "note": "written in the new version",
        "regarding": {"kind": "Namespace", "name": "shop", "apiVersion": "v1"},
    }  # fmt: skip
    created = http.post(NEW_EVENTS, json=body)
    assert created.status_code == 201, created.text
    assert created.json()["note"] == "written in the new version"
    core = http.get("/api/v1/namespaces/shop/events/hello.1").json()
    assert core["message"] == "written in the new version"
    assert core["reportingComponent"] == "example.com/ctl"
    assert core["involvedObject"]["kind"] == "Namespace"
    assert http.delete(f"{NEW_EVENTS}/hello.1").json()["status"] == "Success"
    assert http.get("/api/v1/namespaces/shop/events/hello.1").status_code == 404


def test_the_python_client_watches_events_k8s_io(sim: RunningSimulator, tmp_path: Path) -> None:
    # Read raw: the client's EventsV1Event model refuses the ``eventTime: null`` an API server
    # sends for Events written by the core recorder (kubernetes-client/python knows this).
    config = write_kubeconfig(tmp_path / "kubeconfig", sim.url)
    api_client = k8s_config.new_client_from_config(str(config))
    k8s_client.CoreV1Api(api_client).create_namespace({"metadata": {"name": "shop"}})
    k8s_client.AppsV1Api(api_client).create_namespaced_deployment("shop", deployment("web"))
    stream = k8s_client.EventsV1Api(api_client).list_namespaced_event(
        "shop", watch=True, timeout_seconds=5, _preload_content=False
    )
    seen: list[dict[str, Any]] = []
    buffered = b""
    for chunk in stream.stream(1024):
        buffered += chunk
        *lines, buffered = buffered.split(b"\n")  # a line may span chunks
        seen += [json.loads(line)["object"] for line in lines if line.strip()]
        if {"ScalingReplicaSet", "SuccessfulCreate"} <= {e["reason"] for e in seen}:
            break
    stream.release_conn()
    scaled = next(e for e in seen if e["reason"] == "ScalingReplicaSet")
    assert scaled["apiVersion"] == "events.k8s.io/v1"
    assert scaled["regarding"]["kind"] == "Deployment"
    assert scaled["reportingController"] == "deployment-controller"
    assert scaled["note"].startswith("Scaled up replica set web-")
    api_client.close()


@pytest.mark.skipif(KUBECTL is None, reason="kubectl is not on PATH")
def test_kubectl_lists_events_k8s_io(
    sim: RunningSimulator, http: httpx.Client, tmp_path: Path
) -> None:
    config = write_kubeconfig(tmp_path / "kubeconfig", sim.url)
    namespace(http, "shop")
    http.post("/apis/apps/v1/namespaces/shop/deployments", json=deployment("web"))
    wait_until(lambda: len(_events(http, "shop")) >= 2)
    listed = _kubectl(config, "get", "events.events.k8s.io", "-n", "shop", "-o",
                      "jsonpath={.items[*].reason}")  # fmt: skip
    assert listed.returncode == 0, listed.stderr
    assert {"ScalingReplicaSet", "SuccessfulCreate"} <= set(listed.stdout.split())
