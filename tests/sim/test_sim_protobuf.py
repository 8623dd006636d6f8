"""Protobuf request bodies: bytes from Google's protoc and from kubectl 1.35, decoded into the
JSON shape, and the HTTP answers for bodies the simulator cannot take.

The ``.bin`` fixtures in ``data/protobuf`` were encoded by protoc from the ``.txtpb`` beside
them against the published Kubernetes ``generated.proto`` files (``regenerate.sh``); the
``kubectl-*.bin`` ones are request bodies kubectl 1.35.2 sent.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from storeplane.sim.api import protobuf
from storeplane.sim.runner import RunningSimulator

DATA = Path(__file__).parent / "data" / "protobuf"
PROTOBUF = {
    "content-type": protobuf.MEDIA_TYPE,
    "accept": f"{protobuf.MEDIA_TYPE},application/json",
}


@pytest.fixture(scope="module")
def sim(shared_sim: RunningSimulator) -> Iterator[RunningSimulator]:
    yield shared_sim


def _len(value: int) -> bytes:
    out = b""
    while True:
        byte = value & 0x7F
        value >>= 7
        out += bytes([byte | (0x80 if value else 0)])
        if not value:
            return out


def _field(number: int, payload: bytes) -> bytes:
    return _len(number << 3 | 2) + _len(len(payload)) + payload


def wrap(api_version: str, kind: str, raw: bytes, encoding: str = "") -> bytes:
    """The ``k8s\\0`` + runtime.Unknown envelope client-go puts around an object."""
    type_meta = _field(1, api_version.encode()) + _field(2, kind.encode())
    body = _field(1, type_meta) + _field(2, raw)
    if encoding:
        body += _field(3, encoding.encode())
    return protobuf.MAGIC + body


def nested(depth: int) -> bytes:
    """A ControllerRevision whose ``data`` (a RawExtension) holds a ControllerRevision
    whose data holds...: every level is well formed, only the depth is hostile."""
    body = b""
    for _ in range(depth):
        body = wrap("apps/v1", "ControllerRevision", _field(2, _field(1, body)))
    return body


def fixture(name: str) -> bytes:
    return (DATA / f"{name}.bin").read_bytes()


POD_TEMPLATE_CONTAINER: dict[str, Any] = {
    "name": "web",
    "image": "nginx:1.27",
    "imagePullPolicy": "IfNotPresent",
    "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}],
    "env": [
        {"name": "A", "value": "1"},
        {"name": "S", "valueFrom": {"secretKeyRef": {"name": "s", "key": "p", "optional": True}}},
    ],
    "resources": {"limits": {"cpu": "1"}, "requests": {"memory": "64Mi"}},
    "livenessProbe": {"httpGet": {"path": "/healthz", "port": "http"}, "initialDelaySeconds": 5},
    "readinessProbe": {"tcpSocket": {"port": 8080}},
    "securityContext": {
        "runAsUser": 0,
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
    },
    "volumeMounts": [{"name": "data", "mountPath": "/data"}],
}

DECODED: list[tuple[str, dict[str, Any]]] = [
    (
        "apps.v1.Deployment",
        {
            "metadata": {"name": "web", "labels": {"app": "web"}},
            "spec": {
                "replicas": 0,
                "selector": {"matchLabels": {"app": "web"}},
                "template": {
                    "metadata": {"labels": {"app": "web"}, "annotations": {"a": ""}},
                    "spec": {
                        "volumes": [
                            {"name": "data", "persistentVolumeClaim": {"claimName": "pvc"}}
                        ],
                        "containers": [POD_TEMPLATE_CONTAINER],
                        "terminationGracePeriodSeconds": 30,
                        "securityContext": {"runAsNonRoot": True, "fsGroup": -1},
                    },
                },
                "strategy": {
                    "type": "RollingUpdate",
                    "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": 1},
                },
                "revisionHistoryLimit": 10,
            },
        },
    ),
    (
        "apps.v1.StatefulSet",
        {
            "metadata": {"name": "db", "namespace": "shop"},
            "spec": {
                "replicas": 1,
                "selector": {"matchLabels": {"app": "db"}},
                "serviceName": "db",
                "template": {
                    "metadata": {"labels": {"app": "db"}},
                    "spec": {
                        "containers": [
                            {
                                "name": "postgres",
                                "image": "postgres:16",
                                "args": ["-c", "max_connections=50"],
                            }
                        ]
                    },
                },
                "volumeClaimTemplates": [
                    {
                        "metadata": {"name": "data"},
                        "spec": {
                            "accessModes": ["ReadWriteOnce"],
                            "resources": {"requests": {"storage": "1Gi"}},
                        },
                    }
                ],
                "podManagementPolicy": "OrderedReady",
                "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}},
                "persistentVolumeClaimRetentionPolicy": {
                    "whenDeleted": "Retain",
                    "whenScaled": "Delete",
                },
            },
        },
    ),
    (
        "core.v1.Service",
        {
            "metadata": {"name": "web", "annotations": {"note": "x"}},
            "spec": {
                "ports": [
                    {"name": "http", "protocol": "TCP", "port": 80, "targetPort": "http"},
                    {"name": "metrics", "port": 9090},
                ],
                "selector": {"app": "web"},
                "type": "ClusterIP",
                "ipFamilies": ["IPv4"],
            },
        },
    ),
    (
        "core.v1.Secret",
        {
            "metadata": {"name": "creds"},
            "data": {"password": "czNjcv90", "empty": ""},
            "type": "Opaque",
            "immutable": False,
        },
    ),
    (
        "core.v1.PersistentVolumeClaim",
        {
            "metadata": {"name": "data", "finalizers": ["kubernetes.io/pvc-protection"]},
            "spec": {
                "accessModes": ["ReadWriteOnce"],
                "resources": {"requests": {"storage": "500Mi"}},
                "storageClassName": "standard",
                "volumeMode": "Filesystem",
            },
        },
    ),
    (
        "coordination.v1.Lease",
        {
            "metadata": {"name": "leader"},
            "spec": {
                "holderIdentity": "storeplane-0",
                "leaseDurationSeconds": 15,
                "acquireTime": "2025-12-01T00:00:00.123456Z",
                "renewTime": "2025-12-01T00:00:15.000000Z",
                "leaseTransitions": 0,
            },
        },
    ),
    (
        "core.v1.ConfigMap",
        {
            "metadata": {
                "name": "settings",
                "ownerReferences": [
                    {
                        "apiVersion": "apps/v1",
                        "kind": "Deployment",
                        "name": "web",
                        "uid": "u-1",
                        "controller": True,
                        "blockOwnerDeletion": False,
                    }
                ],
                "managedFields": [
                    {
                        "manager": "kubectl",
                        "operation": "Update",
                        "apiVersion": "v1",
                        "time": "2025-12-01T00:00:00Z",
                        "fieldsType": "FieldsV1",
                        "fieldsV1": {"f:data": {"f:k": {}}},
                    }
                ],
            },
            "data": {"k": "v"},
            "binaryData": {"blob": "AAEC"},
        },
    ),
    (
        "core.v1.Event",
        {
            "metadata": {"name": "web.1", "namespace": "shop"},
            "involvedObject": {"kind": "Pod", "namespace": "shop", "name": "web-abc"},
            "reason": "Started",
            "message": "Started container web",
            "source": {"component": "kubelet"},
            "firstTimestamp": "2025-12-01T00:00:00Z",
            "lastTimestamp": "2025-12-01T00:01:00Z",
            "count": 2,
            "type": "Normal",
        },
    ),
    (
        "meta.v1.DeleteOptions",
        {
            "gracePeriodSeconds": 0,
            "preconditions": {"uid": "u-1"},
            "propagationPolicy": "Foreground",
            "dryRun": ["All"],
        },
    ),
    (
        "autoscaling.v1.Scale",
        {"metadata": {"name": "web", "namespace": "shop", "resourceVersion": "42"}, "spec": {}},
    ),
]

DECODED_IDS = [
    "a Deployment's full pod template (probes, env, quantities, volumes) decodes as its JSON",
    "a StatefulSet's claim templates and strategies decode",
    "Service ports keep named target ports and drop the unset one",
    "Secret data stays base64 and an explicit false pointer field is kept",
    "a PVC's storage request is a quantity string",
    "Lease times are microsecond RFC 3339 strings",
    "managedFields carry their FieldsV1 JSON and binaryData is base64",
    "an Event's timestamps are RFC 3339 and its zero eventTime is left out",
    "DeleteOptions decode with preconditions and dryRun",
    "a Scale to zero replicas has an empty spec, as Go's JSON has it",
]


@pytest.mark.parametrize(("name", "expected"), DECODED, ids=DECODED_IDS)
def test_protoc_encoded_messages_decode_as_their_json(name: str, expected: dict[str, Any]) -> None:
    assert protobuf.message(name, fixture(name)) == expected


def test_kubectls_create_deployment_body_decodes_with_its_type_meta() -> None:
    obj = protobuf.decode_object(fixture("kubectl-create-deployment"))
    assert obj["apiVersion"] == "apps/v1" and obj["kind"] == "Deployment"
    assert obj["metadata"] == {"name": "web", "namespace": "shop", "labels": {"app": "web"}}
    assert obj["spec"]["replicas"] == 2
    assert obj["spec"]["strategy"] == {}
    assert obj["spec"]["template"]["spec"]["containers"] == [
        {"name": "nginx", "image": "nginx:1.27", "ports": [{"containerPort": 80}], "resources": {}}
    ]


# A message with one int32 and one repeated int32 field, to exercise the wire rules.
EXIT_CODES = "batch.v1.PodFailurePolicyOnExitCodesRequirement"  # containerName, operator, values

WIRE_CASES = [
    (b"\x18\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", {"values": [-1]}),
    (b"\x1a\x03\x01\x02\x7f", {"values": [1, 2, 127]}),
    (b"\x18\x01\x18\x02", {"values": [1, 2]}),
    (b"\x12\x02In\xa0\x06\x05", {"operator": "In"}),
]
WIRE_IDS = [
    "a negative int32 is a ten-byte varint",
    "packed repeated ints are unpacked",
    "unpacked repeated ints accumulate",
    "a field number the tables do not know is skipped",
]


@pytest.mark.parametrize(("raw", "expected"), WIRE_CASES, ids=WIRE_IDS)
def test_wire_format_rules(raw: bytes, expected: dict[str, Any]) -> None:
    assert protobuf.message(EXIT_CODES, raw) == expected


BAD_BODIES = [
    (b'{"kind": "Namespace"}', protobuf.ProtobufError, "starts with the 4 bytes"),
    (protobuf.MAGIC + b"\x0a\x05\x0a\x02v1", protobuf.ProtobufError, "runs past the end"),
    (wrap("example.com/v1", "Widget", b""), protobuf.UnsupportedKind, "cannot decode Widget"),
    (wrap("v1", "ConfigMap", b"", "gzip"), protobuf.UnsupportedKind, "contentEncoding"),
    (wrap("v1", "ConfigMap", b"\x0a\x02\x0a"), protobuf.ProtobufError, "runs past the end"),
]
BAD_IDS = [
    "JSON sent as protobuf is refused",
    "a truncated envelope is refused",
    "a kind without a field table is unsupported",
    "an encoded body is unsupported",
    "a truncated object is refused",
]


@pytest.mark.parametrize(("body", "error", "message"), BAD_BODIES, ids=BAD_IDS)
def test_bodies_that_are_not_decodable_say_why(
    body: bytes, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        protobuf.decode_object(body)


@pytest.mark.parametrize(
    ("nanoseconds", "text"),
    [(0, "0s"), (1_500_000_000, "1.5s"), (3_723_000_000_000, "1h2m3s"), (150_000_000, "150ms")],
    ids=["zero", "fractional seconds", "hours minutes seconds", "milliseconds"],
)
def test_durations_print_as_go_prints_them(nanoseconds: int, text: str) -> None:
    assert protobuf.go_duration(nanoseconds) == text


# --- over HTTP -----------------------------------------------------------------------------


def test_kubectls_namespace_body_creates_the_namespace_and_answers_json(
    http: httpx.Client,
) -> None:
    raw = fixture("kubectl-create-namespace")
    response = http.post("/api/v1/namespaces", content=raw, headers=PROTOBUF)
    assert response.status_code == 201, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["metadata"]["name"] == "shop"
    assert http.get("/api/v1/namespaces/shop").json()["status"]["phase"] == "Active"


def test_a_protobuf_put_replaces_the_object(http: httpx.Client, ns: str) -> None:
    http.post(f"/api/v1/namespaces/{ns}/secrets", json={"metadata": {"name": "creds"}})
    raw = protobuf.decode_object(fixture("kubectl-create-secret"))
    assert raw["data"] == {"password": "czNjcmV0"}
    body = wrap("v1", "Secret", fixture("core.v1.Secret"))
    response = http.put(f"/api/v1/namespaces/{ns}/secrets/creds", content=body, headers=PROTOBUF)
    assert response.status_code == 200, response.text
    assert http.get(f"/api/v1/namespaces/{ns}/secrets/creds").json()["data"] == {
        "password": "czNjcv90",
        "empty": "",
    }


def test_protobuf_delete_options_are_honoured(http: httpx.Client, ns: str) -> None:
    http.post(f"/api/v1/namespaces/{ns}/configmaps", json={"metadata": {"name": "c"}})
    # preconditions.uid "u-1" does not match: a decoded DeleteOptions makes this a 409.
    body = wrap("meta.k8s.io/v1", "DeleteOptions", fixture("meta.v1.DeleteOptions"))
    response = http.request(
        "DELETE", f"/api/v1/namespaces/{ns}/configmaps/c", content=body, headers=PROTOBUF
    )
    assert response.status_code == 409, response.text


@pytest.mark.parametrize(
    ("body", "code", "message"),
    [
        (wrap("example.com/v1", "Widget", b""), 415, "cannot decode Widget (example.com/v1)"),
        (b"not protobuf", 400, "not a valid Kubernetes protobuf message"),
        (nested(3000), 400, "nested too deeply"),
    ],
    ids=[
        "a kind the simulator cannot decode is 415",
        "bytes that are not protobuf are 400",
        "a message nested thousands deep is 400, not a crash",
    ],
)
def test_undecodable_bodies_get_a_status_that_says_why(
    http: httpx.Client, ns: str, body: bytes, code: int, message: str
) -> None:
    response = http.post(f"/api/v1/namespaces/{ns}/configmaps", content=body, headers=PROTOBUF)
    assert response.status_code == code
    assert response.json()["kind"] == "Status"
    assert message in response.json()["message"]
