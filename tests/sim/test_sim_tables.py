"""Table output (``Accept: application/json;as=Table;v=v1;g=meta.k8s.io``): the columns the
API server's printers show, ``includeObject``, content negotiation and Table watches."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sim_helpers import deployment

from storeplane.sim.api import tables
from storeplane.sim.errors import ApiError
from storeplane.sim.kinds import KINDS, Kind
from storeplane.sim.runner import RunningSimulator

TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json"
BY_KIND = {k.kind: k for k in KINDS if not k.storage}  # the stored version of each kind
NOW = 1_764_547_200.0  # 2025-12-01T00:00:00Z
T0 = "2025-11-30T23:59:00Z"  # one minute before NOW


@pytest.fixture(scope="module")
def sim(shared_sim: RunningSimulator) -> Iterator[RunningSimulator]:
    yield shared_sim


def cells(kind: str, obj: dict[str, Any]) -> dict[str, Any]:
    obj = {"metadata": {"name": "x", "creationTimestamp": T0, **obj.pop("metadata", {})}, **obj}
    table = tables.render(BY_KIND[kind], obj, "Table", None, now=NOW)
    names = [c["name"] for c in table["columnDefinitions"]]
    return dict(zip(names, table["rows"][0]["cells"], strict=True))


def pod(phase: str, statuses: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    containers = [{"name": s["name"], "image": "i"} for s in statuses]
    return {
        "spec": {"containers": containers, **extra.pop("spec", {})},
        "status": {"phase": phase, "containerStatuses": statuses},
        **extra,
    }


RUNNING = {"name": "web", "ready": True, "restartCount": 0, "state": {"running": {}}}
PULLING = {
    "name": "side",
    "ready": False,
    "restartCount": 0,
    "state": {"waiting": {"reason": "ErrImagePull"}},
}
CRASHED = {
    "name": "web", "ready": False, "restartCount": 3, "state": {"waiting": {"reason": "CrashLoopBackOff"}},
    "lastState": {"terminated": {"exitCode": 1, "finishedAt": "2025-11-30T23:58:00Z"}},
}  # fmt: skip

CELLS = [
    ("Pod", pod("Running", [RUNNING]), {"Ready": "1/1", "Status": "Running", "Restarts": "0", "Age": "60s"}),
    ("Pod", pod("Pending", [RUNNING, PULLING]), {"Ready": "1/2", "Status": "ErrImagePull"}),
    ("Pod", pod("Running", [CRASHED]), {"Ready": "0/1", "Status": "CrashLoopBackOff", "Restarts": "3 (2m ago)"}),
    ("Pod", pod("Running", [RUNNING], metadata={"deletionTimestamp": T0}), {"Status": "Terminating"}),
    ("Pod", {"spec": {"containers": [{"name": "a"}]}, "status": {"phase": "Pending"}}, {"Ready": "0/1", "Status": "Pending", "IP": "<none>"}),
    (
        "Deployment",
        {**deployment("web", replicas=3), "status": {"readyReplicas": 2, "updatedReplicas": 3, "availableReplicas": 2}},
        {"Ready": "2/3", "Up-to-date": 3, "Available": 2, "Containers": "web", "Images": "nginx:1.27", "Selector": "app=web"},
    ),
    ("ReplicaSet", {"spec": {"replicas": 2}, "status": {"replicas": 2, "readyReplicas": 1}}, {"Desired": 2, "Current": 2, "Ready": 1}),
    ("StatefulSet", {"spec": {"replicas": 1}, "status": {"readyReplicas": 1}}, {"Ready": "1/1"}),
    (
        "Job",
        {"spec": {"completions": 1}, "status": {"succeeded": 1, "startTime": T0, "completionTime": "2025-11-30T23:59:05Z",
                                                  "conditions": [{"type": "Complete", "status": "True"}]}},
        {"Status": "Complete", "Completions": "1/1", "Duration": "5s"},
    ),
    ("Job", {"spec": {}, "status": {"startTime": T0}}, {"Status": "Running", "Completions": "0/1", "Duration": "60s"}),
    (
        "Service",
        {"spec": {"type": "ClusterIP", "clusterIP": "10.96.0.7", "ports": [{"port": 80}, {"port": 443, "protocol": "TCP"}]}},
        {"Type": "ClusterIP", "Cluster-IP": "10.96.0.7", "External-IP": "<none>", "Port(s)": "80/TCP,443/TCP"},
    ),
    (
        "Service",
        {"spec": {"type": "LoadBalancer", "clusterIP": "10.96.0.8", "ports": [{"port": 80, "nodePort": 30080}]}},
        {"External-IP": "<pending>", "Port(s)": "80:30080/TCP"},
    ),
    (
        "PersistentVolumeClaim",
        {"spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": "standard", "volumeName": "pv-1"},
         "status": {"phase": "Bound", "capacity": {"storage": "1Gi"}}},
        {"Status": "Bound", "Volume": "pv-1", "Capacity": "1Gi", "Access Modes": "RWO", "StorageClass": "standard",
         "VolumeAttributesClass": "<unset>"},
    ),
    ("Namespace", {"status": {"phase": "Terminating"}}, {"Status": "Terminating", "Age": "60s"}),
    (
        "Event",
        {"type": "Normal", "reason": "ScalingReplicaSet", "message": "Scaled up replica set web-1 to 1 ",
         "involvedObject": {"kind": "Deployment", "name": "web"}, "lastTimestamp": T0, "count": 2,
         "source": {"component": "deployment-controller"}},
        {"Last Seen": "60s", "Type": "Normal", "Reason": "ScalingReplicaSet", "Object": "deployment/web",
         "Message": "Scaled up replica set web-1 to 1", "Count": "2", "Source": "deployment-controller"},
    ),
    ("ConfigMap", {"data": {"a": "1", "b": "2"}}, {"Data": 2}),
    ("Secret", {"type": "Opaque", "data": {"a": "MQ=="}}, {"Type": "Opaque", "Data": 1}),
    ("Lease", {"spec": {"holderIdentity": "me"}}, {"Holder": "me"}),
    ("NetworkPolicy", {"spec": {"podSelector": {}}}, {"Pod-Selector": "<none>"}),
    (
        "Node",
        {"metadata": {"labels": {"node-role.kubernetes.io/control-plane": ""}},
         "status": {"conditions": [{"type": "Ready", "status": "True"}], "nodeInfo": {"kubeletVersion": "v1.31.0"}}},
        {"Status": "Ready", "Roles": "control-plane", "Version": "v1.31.0"},
    ),
    (
        "Endpoints",
        {"subsets": [{"addresses": [{"ip": "10.244.0.5"}, {"ip": "10.244.0.6"}], "ports": [{"port": 80}]}]},
        {"Endpoints": "10.244.0.5:80,10.244.0.6:80"},
    ),
    (
        "EndpointSlice",
        {"addressType": "IPv4", "ports": [{"port": 80}], "endpoints": [{"addresses": ["10.244.0.5"]}]},
        {"AddressType": "IPv4", "Ports": "80", "Endpoints": "10.244.0.5"},
    ),
]  # fmt: skip
CELL_IDS = [
    "a running pod is 1/1 Running with no restarts",
    "a pod with a container that cannot pull shows ErrImagePull and 1/2",
    "a crash-looping pod shows its restarts and when the last one was",
    "a deleted pod is Terminating",
    "a pod no kubelet has seen is Pending with no IP",
    "a deployment shows ready of desired, up-to-date, available and the wide columns",
    "a replicaset shows desired, current and ready",
    "a statefulset shows ready of desired",
    "a complete job shows its status, completions and duration",
    "a running job without completions counts to one",
    "a cluster IP service lists its ports with protocols",
    "a load balancer without an address is pending and shows its node port",
    "a bound claim shows its volume, capacity and access modes",
    "a namespace shows its phase",
    "an event shows last seen, object and the trimmed message",
    "a configmap counts its data",
    "a secret shows its type and data count",
    "a lease shows its holder",
    "an empty pod selector prints as none",
    "a ready node shows its role and kubelet version",
    "endpoints list address:port pairs",
    "an endpoint slice shows its address type, ports and addresses",
]


@pytest.mark.parametrize(("kind", "obj", "expected"), CELLS, ids=CELL_IDS)
def test_printer_columns(kind: str, obj: dict[str, Any], expected: dict[str, Any]) -> None:
    shown = cells(kind, obj)
    assert {k: shown[k] for k in expected} == expected


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(5, "5s"), (119, "119s"), (185, "3m5s"), (600, "10m"), (7500, "125m"), (14700, "4h5m"), (90000, "25h"),
     (3 * 86400 + 7200, "3d2h"), (40 * 86400, "40d"), (3 * 365 * 86400, "3y")],
    ids=["seconds", "under two minutes in seconds", "minutes and seconds", "ten minutes",
         "minutes up to three hours", "hours and minutes", "a day in hours", "days and hours", "days", "years"],
)  # fmt: skip
def test_ages_read_as_kubectl_prints_them(seconds: int, text: str) -> None:
    assert tables.human_duration(seconds) == text


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (TABLE, "Table"),
        ("application/json", None),
        ("application/vnd.kubernetes.protobuf,application/json", None),
        ("*/*", None),
        ("application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1", "PartialObjectMetadataList"),
        ("application/json;as=Widget;g=example.com;v=v1,application/json", None),
    ],
    ids=["kubectl get asks for a Table", "plain JSON", "helm's protobuf-first accept gets JSON",
         "anything", "metadata only", "an unknown conversion falls back to the next range"],
)  # fmt: skip
def test_accept_negotiation(accept: str, expected: str | None) -> None:
    assert tables.negotiate(accept) == expected


def test_an_accept_the_simulator_cannot_answer_is_406() -> None:
    with pytest.raises(ApiError) as error:
        tables.negotiate("application/vnd.kubernetes.protobuf")
    assert error.value.code == 406


def test_a_listed_table_over_http_keeps_paging_and_carries_metadata(
    http: httpx.Client, ns: str
) -> None:
    for name in ("a", "b", "c"):
        http.post(
            f"/api/v1/namespaces/{ns}/configmaps",
            json={"metadata": {"name": name}, "data": {"k": name}},
        )
    page = http.get(
        f"/api/v1/namespaces/{ns}/configmaps", params={"limit": "2"}, headers={"accept": TABLE}
    ).json()
    assert page["kind"] == "Table" and page["apiVersion"] == "meta.k8s.io/v1"
    assert [c["name"] for c in page["columnDefinitions"]] == ["Name", "Data", "Age"]
    assert [r["cells"][:2] for r in page["rows"]] == [["a", 1], ["b", 1]]
    assert page["rows"][0]["object"]["kind"] == "PartialObjectMetadata"
    assert page["rows"][0]["object"]["metadata"]["namespace"] == ns
    rest = http.get(
        f"/api/v1/namespaces/{ns}/configmaps", params={"limit": "2", "continue": page["metadata"]["continue"]},
        headers={"accept": TABLE},
    ).json()  # fmt: skip
    assert [r["cells"][0] for r in rest["rows"]] == ["c"]


@pytest.mark.parametrize(
    ("include", "expected"),
    [("None", None), ("Object", "ConfigMap"), ("Metadata", "PartialObjectMetadata")],
    ids=["includeObject None leaves rows bare", "includeObject Object carries the object", "Metadata carries metadata"],
)  # fmt: skip
def test_include_object(http: httpx.Client, ns: str, include: str, expected: str | None) -> None:
    http.post(f"/api/v1/namespaces/{ns}/configmaps", json={"metadata": {"name": "one"}})
    table = http.get(
        f"/api/v1/namespaces/{ns}/configmaps/one", params={"includeObject": include}, headers={"accept": TABLE}
    ).json()  # fmt: skip
    assert len(table["rows"]) == 1
    assert (table["rows"][0].get("object") or {}).get("kind") == expected


def test_a_table_watch_sends_one_row_tables(http: httpx.Client, ns: str) -> None:
    rv = http.get(f"/api/v1/namespaces/{ns}/configmaps").json()["metadata"]["resourceVersion"]
    http.post(
        f"/api/v1/namespaces/{ns}/configmaps", json={"metadata": {"name": "w"}, "data": {"a": "1"}}
    )
    with http.stream(
        "GET", f"/api/v1/namespaces/{ns}/configmaps",
        params={"watch": "1", "resourceVersion": rv, "timeoutSeconds": "1"}, headers={"accept": TABLE},
    ) as stream:  # fmt: skip
        events = [json.loads(line) for line in stream.iter_lines() if line]
    assert [e["type"] for e in events] == ["ADDED"]
    table = events[0]["object"]
    assert table["kind"] == "Table" and table["rows"][0]["cells"][:2] == ["w", 1]


def test_partial_object_metadata_lists(http: httpx.Client, ns: str) -> None:
    http.post(
        f"/api/v1/namespaces/{ns}/configmaps",
        json={"metadata": {"name": "m", "labels": {"a": "b"}}, "data": {"x": "y"}},
    )
    listed = http.get(
        f"/api/v1/namespaces/{ns}/configmaps",
        headers={"accept": "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1"},
    ).json()  # fmt: skip
    assert listed["kind"] == "PartialObjectMetadataList"
    assert (
        listed["items"][0]["metadata"]["labels"] == {"a": "b"} and "data" not in listed["items"][0]
    )


def test_events_k8s_io_events_print_from_their_own_fields() -> None:
    kind = Kind("events.k8s.io", "v1", "events", "Event")
    event = {
        "metadata": {"name": "e", "creationTimestamp": T0}, "type": "Warning", "reason": "BackOff",
        "regarding": {"kind": "Pod", "name": "web-1"}, "note": "Back-off restarting",
        "deprecatedLastTimestamp": T0,
    }  # fmt: skip
    table = tables.render(kind, event, "Table", None, now=NOW)
    assert table["rows"][0]["cells"] == [
        "60s",
        "Warning",
        "BackOff",
        "pod/web-1",
        "Back-off restarting",
    ]
