"""Errors come back as Kubernetes Status objects with the API server's codes and words."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sim_helpers import deployment, namespace

from storeplane.sim.runner import RunningSimulator


@pytest.fixture
def sim(shared_sim: RunningSimulator) -> RunningSimulator:
    return shared_sim


def cm(ns: str) -> str:
    return f"/api/v1/namespaces/{ns}/configmaps"


def assert_status(response: httpx.Response, code: int, reason: str) -> dict[str, Any]:
    assert response.status_code == code, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["kind"] == "Status"
    assert body["apiVersion"] == "v1"
    assert body["status"] == "Failure"
    assert body["reason"] == reason
    assert body["code"] == code
    return dict(body)


def test_missing_object_is_not_found(http: httpx.Client, ns: str) -> None:
    body = assert_status(
        http.get(f"/apis/apps/v1/namespaces/{ns}/deployments/web"), 404, "NotFound"
    )
    assert body["message"] == 'deployments.apps "web" not found'
    assert body["details"] == {"name": "web", "group": "apps", "kind": "deployments"}


def test_creating_twice_is_already_exists(http: httpx.Client) -> None:
    namespace(http, "x")
    body = assert_status(
        http.post("/api/v1/namespaces", json={"metadata": {"name": "x"}}), 409, "AlreadyExists"
    )
    assert body["message"] == 'namespaces "x" already exists'


def test_stale_resource_version_is_a_conflict(http: httpx.Client, ns: str) -> None:
    created = http.post(cm(ns), json={"metadata": {"name": "c"}, "data": {"v": "1"}}).json()
    fresh = http.put(f"{cm(ns)}/c", json=dict(created, data={"v": "2"}))
    assert fresh.status_code == 200
    stale = http.put(f"{cm(ns)}/c", json=dict(created, data={"v": "3"}))
    body = assert_status(stale, 409, "Conflict")
    assert body["message"] == (
        'Operation cannot be fulfilled on configmaps "c": the object has been modified; '
        "please apply your changes to the latest version and try again"
    )
    assert http.get(f"{cm(ns)}/c").json()["data"] == {"v": "2"}


def test_update_without_resource_version_is_unconditional(http: httpx.Client, ns: str) -> None:
    http.post(cm(ns), json={"metadata": {"name": "c"}})
    response = http.put(f"{cm(ns)}/c", json={"metadata": {"name": "c"}, "data": {"v": "9"}})
    assert response.status_code == 200


INVALID = [
    ({"metadata": {"name": "Web_1"}}, "metadata.name", "an uppercase name with underscore"),
    ({"metadata": {"name": "a" * 254}}, "metadata.name", "a name longer than 253 characters"),
    ({"metadata": {}}, "metadata.name", "no name at all"),
    ({"metadata": {"name": "ok", "labels": {"k": "bad value"}}}, "metadata.labels", "a label"),
]


@pytest.mark.parametrize(
    ("body", "field"),
    [(b, f) for b, f, _ in INVALID],
    ids=[f"{why} is invalid" for _, _, why in INVALID],
)
def test_invalid_objects_are_refused(
    http: httpx.Client, ns: str, body: dict[str, Any], field: str
) -> None:
    status = assert_status(http.post(cm(ns), json=body), 422, "Invalid")
    assert status["details"]["causes"][0]["field"] == field
    assert " is invalid: " in status["message"]


def test_namespace_names_must_be_dns_labels(http: httpx.Client) -> None:
    status = assert_status(
        http.post("/api/v1/namespaces", json={"metadata": {"name": "a.b"}}), 422, "Invalid"
    )
    assert status["message"].startswith('Namespace "a.b" is invalid: metadata.name: ')
    assert "RFC 1123 label" in status["message"]


def test_deployment_without_selector_and_template_is_invalid(http: httpx.Client, ns: str) -> None:
    body = {"metadata": {"name": "web"}, "spec": {"replicas": 1}}
    status = assert_status(
        http.post(f"/apis/apps/v1/namespaces/{ns}/deployments", json=body), 422, "Invalid"
    )
    fields = {c["field"] for c in status["details"]["causes"]}
    assert fields == {"spec.selector", "spec.template"}
    assert status["message"].startswith('Deployment.apps "web" is invalid: ')


def test_selector_must_match_template_labels(http: httpx.Client, ns: str) -> None:
    body = deployment("web")
    body["spec"]["selector"]["matchLabels"] = {"app": "other"}
    status = assert_status(
        http.post(f"/apis/apps/v1/namespaces/{ns}/deployments", json=body), 422, "Invalid"
    )
    assert "`selector` does not match template `labels`" in status["message"]


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ({"apiVersion": "apps/v1", "kind": "ConfigMap", "metadata": {"name": "c"}},
         "API version"),
        ({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "c"}}, "kind"),
        ({"metadata": {"name": "c", "namespace": "other"}}, "namespace"),
    ],
    ids=[
        "an apiVersion that does not match the URL is refused",
        "a kind that does not match the URL is refused",
        "a namespace that does not match the URL is refused",
    ],
)  # fmt: skip
def test_body_must_match_the_url(
    http: httpx.Client, ns: str, body: dict[str, Any], needle: str
) -> None:
    status = assert_status(http.post(cm(ns), json=body), 400, "BadRequest")
    assert needle in status["message"]


def test_put_with_another_name_than_the_url_is_refused(http: httpx.Client, ns: str) -> None:
    http.post(cm(ns), json={"metadata": {"name": "c"}})
    assert_status(http.put(f"{cm(ns)}/c", json={"metadata": {"name": "d"}}), 400, "BadRequest")


def test_creating_in_a_missing_namespace_is_not_found(http: httpx.Client) -> None:
    response = http.post("/api/v1/namespaces/ghost/configmaps", json={"metadata": {"name": "c"}})
    body = assert_status(response, 404, "NotFound")
    assert body["message"] == 'namespaces "ghost" not found'


def test_creating_in_a_terminating_namespace_is_forbidden(http: httpx.Client, ns: str) -> None:
    http.delete(f"/api/v1/namespaces/{ns}")
    body = assert_status(http.post(cm(ns), json={"metadata": {"name": "c"}}), 403, "Forbidden")
    assert body["message"] == (
        f'configmaps "c" is forbidden: unable to create new content in namespace {ns} because '
        "it is being terminated"
    )
    apply = http.patch(
        f"{cm(ns)}/c?fieldManager=t",
        json={"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}},
        headers={"Content-Type": "application/apply-patch+yaml"},
    )
    assert_status(apply, 403, "Forbidden")


def test_wrong_method_is_method_not_allowed(http: httpx.Client, ns: str) -> None:
    assert_status(http.put(cm(ns), json={}), 405, "MethodNotAllowed")
    assert_status(http.post("/api/v1/configmaps", json={}), 405, "MethodNotAllowed")


def test_unknown_body_type_is_unsupported_media_type(http: httpx.Client, ns: str) -> None:
    response = http.post(cm(ns), content=b"x", headers={"Content-Type": "text/plain"})
    assert_status(response, 415, "UnsupportedMediaType")


def test_unknown_resource_path_is_not_found(http: httpx.Client) -> None:
    assert_status(http.get("/api/v1/podtemplates"), 404, "NotFound")
    assert_status(http.get("/apis/apps/v1/namespaces/x/deployments/a/scale"), 404, "NotFound")
    assert_status(http.get("/openapi/v2"), 404, "NotFound")


def test_malformed_json_is_a_bad_request(http: httpx.Client, ns: str) -> None:
    response = http.post(cm(ns), content=b"{nope", headers={"Content-Type": "application/json"})
    assert_status(response, 400, "BadRequest")
