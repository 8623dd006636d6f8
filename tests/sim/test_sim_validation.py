"""Objects are validated against the Kubernetes OpenAPI schemas of the simulated version:
an invalid object is a 422 Invalid naming the field; unknown fields follow fieldValidation."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
from sim_helpers import deployment

from storeplane.sim.admission.schemas import SCHEMA_VERSION, validator
from storeplane.sim.kinds import KINDS
from storeplane.sim.runner import RunningSimulator


@pytest.fixture
def sim(shared_sim: RunningSimulator) -> RunningSimulator:
    return shared_sim


def with_change(body: dict[str, Any], dotted: str, value: Any) -> dict[str, Any]:
    """``body`` with the value at a dotted path (``[0]`` indexes a list) set or removed."""
    node: Any = body
    parts = dotted.replace("[", ".[").split(".")
    for part in parts[:-1]:
        node = node[int(part[1:-1])] if part.startswith("[") else node.setdefault(part, {})
    last = parts[-1]
    if value is DROP:
        del node[last]
    else:
        node[last] = value
    return body


DROP = object()


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        (
            ("spec.replicas", "two"),
            "spec.replicas",
            'Invalid value: "two": spec.replicas in body must be of type integer: "string"',
        ),
        (
            ("spec.template.spec.containers[0].name", DROP),
            "spec.template.spec.containers[0].name",
            "Required value",
        ),
        (
            ("spec.template.spec.containers[0].ports", [{"containerPort": "http"}]),
            "spec.template.spec.containers[0].ports[0].containerPort",
            'Invalid value: "http": spec.template.spec.containers[0].ports[0].containerPort '
            'in body must be of type integer: "string"',
        ),
        (
            ("spec.template.spec.containers[0].resources", {"limits": {"cpu": True}}),
            "spec.template.spec.containers[0].resources.limits.cpu",
            "Invalid value: true: spec.template.spec.containers[0].resources.limits.cpu in body "
            'must be of type number or string: "boolean"',
        ),
        (
            ("spec.replicas", -1),
            "spec.replicas",
            "Invalid value: -1: must be greater than or equal to 0",
        ),
        (("spec.selector", DROP), "spec.selector", "Required value"),
    ],
    ids=[
        "a string where an integer belongs names the field and both types",
        "a container without a name is a required value",
        "a port number given as text is refused at its list index",
        "a quantity that is neither number nor string is refused",
        "negative replicas are refused",
        "a deployment without a selector is refused",
    ],
)
def test_invalid_deployment_is_422_invalid_naming_the_field(
    http: httpx.Client, ns: str, change: tuple[str, Any], field: str, message: str
) -> None:
    body = with_change(deployment("web"), *change)
    response = http.post(f"/apis/apps/v1/namespaces/{ns}/deployments", json=body)
    assert response.status_code == 422, response.text
    status = response.json()
    assert (status["reason"], status["code"]) == ("Invalid", 422)
    assert status["message"].startswith('Deployment.apps "web" is invalid: ')
    causes = {(c["field"], c["message"]) for c in status["details"]["causes"]}
    assert (field, message) in causes
    assert f"{field}: {message}" in status["message"]


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/v1/namespaces/{ns}/configmaps", {"data": {"k": 1}}, "data.k"),
        ("/api/v1/namespaces/{ns}/services", {"spec": {"type": "Fancy"}}, "spec.type"),
        ("/api/v1/namespaces/{ns}/secrets", {"data": ["x"]}, "data"),
        (
            "/apis/batch/v1/namespaces/{ns}/jobs",
            {"spec": {"backoffLimit": "6"}},
            "spec.backoffLimit",
        ),
    ],
    ids=[
        "a configmap value that is not a string",
        "a service type outside the supported values",
        "secret data that is not a map",
        "a job backoff limit given as text",
    ],
)
def test_other_kinds_are_checked_too(
    http: httpx.Client, ns: str, path: str, body: dict[str, Any], field: str
) -> None:
    body = {"metadata": {"name": "x"}, **body}
    response = http.post(path.format(ns=ns), json=body)
    assert response.status_code == 422, response.text
    assert field in [c["field"] for c in response.json()["details"]["causes"]]


def test_updates_and_merge_patches_are_validated(http: httpx.Client, ns: str) -> None:
    url = f"/apis/apps/v1/namespaces/{ns}/deployments"
    created = http.post(url, json=deployment("web")).json()
    put = http.put(f"{url}/web", json=with_change(created, "spec.replicas", "3"))
    assert put.status_code == 422
    patched = http.patch(
        f"{url}/web",
        json={"spec": {"paused": "yes"}},
        headers={"content-type": "application/merge-patch+json"},
    )
    assert patched.status_code == 422
    assert patched.json()["details"]["causes"][0]["field"] == "spec.paused"


@pytest.mark.parametrize(
    ("field_validation", "code", "warning"),
    [
        ("Strict", 400, None),
        ("Warn", 201, '299 - "unknown field \\"spec.shiny\\""'),
        (None, 201, '299 - "unknown field \\"spec.shiny\\""'),
        ("Ignore", 201, None),
    ],
    ids=[
        "Strict refuses an unknown field",
        "Warn drops it and says so in a Warning header",
        "no fieldValidation means Warn, as on a real server",
        "Ignore drops it silently",
    ],
)
def test_unknown_fields_follow_field_validation(
    http: httpx.Client, ns: str, field_validation: str | None, code: int, warning: str | None
) -> None:
    body = with_change(deployment(f"web-{code}-{field_validation}".lower()), "spec.shiny", 1)
    params = {"fieldValidation": field_validation} if field_validation else {}
    response = http.post(f"/apis/apps/v1/namespaces/{ns}/deployments", json=body, params=params)
    assert response.status_code == code, response.text
    assert response.headers.get("warning") == warning
    if code == 400:
        assert response.json()["message"] == (
            'Deployment in version "v1" cannot be handled as a Deployment: strict decoding '
            'error: unknown field "spec.shiny"'
        )
    else:
        assert "shiny" not in response.json()["spec"]


def test_server_side_apply_with_strict_validation_refuses_unknown_fields(
    http: httpx.Client, ns: str
) -> None:
    body = with_change(deployment("web"), "spec.template.spec.containers[0].colour", "red")
    response = http.patch(
        f"/apis/apps/v1/namespaces/{ns}/deployments/web",
        params={"fieldManager": "kubectl", "fieldValidation": "Strict"},
        content=httpx.Request("GET", "/", json=body).content,
        headers={"content-type": "application/apply-patch+yaml"},
    )
    assert response.status_code == 400
    assert 'unknown field "spec.template.spec.containers[0].colour"' in response.json()["message"]


def test_every_served_kind_has_a_schema_for_the_simulated_version(http: httpx.Client) -> None:
    assert http.get("/version").json()["gitVersion"] == f"v{SCHEMA_VERSION}"
    assert [k.kind for k in KINDS if validator(k) is None] == []


def test_validation_is_fast_once_the_validator_is_cached() -> None:
    kind = next(k for k in KINDS if k.kind == "Deployment")
    check = validator(kind)
    assert check is not None
    body = with_change(deployment("web"), "metadata.namespace", "x")
    started = time.perf_counter()
    for _ in range(50):
        assert check.is_valid(body)
    assert (time.perf_counter() - started) / 50 < 0.01  # about 0.5 ms here; generous bound
