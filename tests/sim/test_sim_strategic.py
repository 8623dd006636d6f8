"""Strategic merge patch: per-type merge keys from the Kubernetes schemas and the patch
directives, on plain dicts (the HTTP path is covered by the kubectl apply/edit tests)."""

from __future__ import annotations

from typing import Any

import pytest

from storeplane.sim.kinds import lookup
from storeplane.sim.store import strategic

DEPLOYMENTS = lookup("apps", "v1", "deployments")
SERVICES = lookup("", "v1", "services")
assert DEPLOYMENTS is not None and SERVICES is not None


def pod_spec(spec: dict[str, Any]) -> dict[str, Any]:
    return {"spec": {"template": {"spec": spec}}}


WEB = {"name": "web", "image": "nginx:1.27", "ports": [{"containerPort": 80}]}
SIDE = {"name": "side", "image": "busybox:1.36"}

CASES: list[tuple[dict[str, Any], dict[str, Any], dict[str, Any]]] = [
    (
        pod_spec({"containers": [WEB, SIDE]}),
        pod_spec(
            {
                "$setElementOrder/containers": [{"name": "web"}, {"name": "side"}],
                "containers": [{"name": "web", "image": "nginx:1.28"}],
            }
        ),
        pod_spec({"containers": [{**WEB, "image": "nginx:1.28"}, SIDE]}),
    ),
    (
        pod_spec({"containers": [WEB, SIDE]}),
        pod_spec({"containers": [{"name": "side", "$patch": "delete"}]}),
        pod_spec({"containers": [WEB]}),
    ),
    (
        pod_spec({"containers": [WEB]}),
        pod_spec(
            {
                "$setElementOrder/containers": [{"name": "side"}, {"name": "web"}],
                "containers": [{"name": "side", "image": "busybox:1.36"}],
            }
        ),
        pod_spec({"containers": [SIDE, WEB]}),
    ),
    (
        pod_spec({"containers": [{**WEB, "env": [{"name": "A", "value": "1"}]}]}),
        pod_spec({"containers": [{"name": "web", "env": [{"name": "B", "value": "2"}]}]}),
        pod_spec(
            {
                "containers": [
                    {**WEB, "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]}
                ]
            }
        ),
    ),
    (
        pod_spec({"containers": [WEB]}),
        pod_spec({"containers": [{"name": "web", "ports": [{"containerPort": 8080}]}]}),
        pod_spec(
            {"containers": [{**WEB, "ports": [{"containerPort": 80}, {"containerPort": 8080}]}]}
        ),
    ),
    (
        pod_spec({"containers": [WEB], "tolerations": [{"key": "a", "operator": "Exists"}]}),
        pod_spec({"tolerations": [{"key": "b", "operator": "Exists"}]}),
        pod_spec({"containers": [WEB], "tolerations": [{"key": "b", "operator": "Exists"}]}),
    ),
    (
        pod_spec({"containers": [{**WEB, "args": ["a", "b"]}]}),
        pod_spec({"containers": [{"name": "web", "args": ["c"]}]}),
        pod_spec({"containers": [{**WEB, "args": ["c"]}]}),
    ),
    (
        pod_spec({"containers": [WEB]}),
        pod_spec({"containers": [{"$patch": "replace"}, SIDE]}),
        pod_spec({"containers": [SIDE]}),
    ),
    (
        {"spec": {"strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1}}}},
        {"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate"}}},
        {"spec": {"strategy": {"type": "Recreate"}}},
    ),
    (
        {"spec": {"selector": {"matchLabels": {"a": "1", "b": "2"}}}},
        {"spec": {"selector": {"$patch": "replace", "matchLabels": {"c": "3"}}}},
        {"spec": {"selector": {"matchLabels": {"c": "3"}}}},
    ),
    (
        {"metadata": {"finalizers": ["a", "b"]}},
        {"metadata": {"finalizers": ["c"]}},
        {"metadata": {"finalizers": ["a", "b", "c"]}},
    ),
    (
        {"metadata": {"finalizers": ["a", "b", "c"]}},
        {
            "metadata": {
                "$deleteFromPrimitiveList/finalizers": ["b"],
                "$setElementOrder/finalizers": ["c", "a"],
            }
        },
        {"metadata": {"finalizers": ["c", "a"]}},
    ),
    (
        {"metadata": {"labels": {"a": "1", "b": "2"}}},
        {"metadata": {"labels": {"a": None, "c": "3"}}},
        {"metadata": {"labels": {"b": "2", "c": "3"}}},
    ),
    (
        pod_spec({"containers": [WEB], "volumes": [{"name": "v", "emptyDir": {}}]}),
        pod_spec(
            {
                "volumes": [
                    {"name": "v", "$retainKeys": ["name", "configMap"], "configMap": {"name": "c"}}
                ]
            }
        ),
        pod_spec({"containers": [WEB], "volumes": [{"name": "v", "configMap": {"name": "c"}}]}),
    ),
]
IDS = [
    "a changed image with $setElementOrder merges that container by name",
    "$patch delete removes the container with that name",
    "$setElementOrder puts a new container first",
    "env merges by name",
    "container ports merge by containerPort",
    "tolerations are atomic: the list is replaced",
    "args are atomic",
    "$patch replace as a list element replaces the list",
    "$retainKeys clears the rolling update when the strategy type changes",
    "$patch replace on a map replaces it",
    "finalizers merge as a set",
    "$deleteFromPrimitiveList removes a finalizer and the order follows $setElementOrder",
    "a null deletes a label",
    "$retainKeys swaps a volume's source",
]


@pytest.mark.parametrize(("live", "patch", "expected"), CASES, ids=IDS)
def test_deployment_patches(
    live: dict[str, Any], patch: dict[str, Any], expected: dict[str, Any]
) -> None:
    assert DEPLOYMENTS is not None
    assert strategic.apply(live, patch, strategic.schema_for(DEPLOYMENTS)) == expected


def test_service_ports_merge_by_port() -> None:
    assert SERVICES is not None
    live = {"spec": {"ports": [{"name": "http", "port": 80, "targetPort": 8080}]}}
    patch = {"spec": {"ports": [{"port": 80, "targetPort": 9090}, {"name": "m", "port": 9100}]}}
    result = strategic.apply(live, patch, strategic.schema_for(SERVICES))
    assert result["spec"]["ports"] == [
        {"name": "http", "port": 80, "targetPort": 9090},
        {"name": "m", "port": 9100},
    ]


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        (pod_spec({"containers": [{"image": "x"}]}), "does not contain declared merge key: name"),
        ({"spec": {"$patch": "explode"}}, 'Unsupported value: "explode"'),
        ({"spec": {"$frobnicate": 1}}, "unknown patch directive"),
    ],
    ids=[
        "a container without its merge key is refused",
        "an unknown $patch value is refused",
        "an unknown directive is refused",
    ],
)
def test_malformed_patches_say_why(patch: dict[str, Any], message: str) -> None:
    assert DEPLOYMENTS is not None
    with pytest.raises(strategic.StrategicPatchError, match=message):
        strategic.apply(pod_spec({"containers": [WEB]}), patch, strategic.schema_for(DEPLOYMENTS))
