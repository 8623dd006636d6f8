"""CustomResourceDefinitions in the simulator, checked over HTTP, with the official kubectl
and the official Python ``kubernetes`` client: discovery (aggregated and per
group-version) and ``/openapi/v3``, the CRD's conditions, schema validation, pruning and
defaults, the status subresource, printer columns in Table output, short names and
categories, patches (strategic merge refused), finalizers, label selectors and watch,
and the deletion of a CRD with its objects. One simulator (controllers on) for the module;
each test makes its own namespace or CRD."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from kubernetes import client, config  # type: ignore[import-untyped]
from sim_helpers import wait_until

from storeplane.sim.kubeconfig import write_kubeconfig
from storeplane.sim.runner import RunningSimulator, SimulatorConfig, start_in_thread

KUBECTL = shutil.which("kubectl")
CRDS = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
AGGREGATED = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json"
TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"

WIDGET_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "spec": {
            "type": "object",
            "required": ["size"],
            "properties": {
                "size": {"type": "integer", "minimum": 1, "maximum": 10},
                "color": {"type": "string", "enum": ["red", "blue"], "default": "red"},
                "code": {"type": "string", "pattern": "^[a-z]+$"},
                "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 3},
                "port": {"x-kubernetes-int-or-string": True},
                "extra": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
                "options": {
                    "type": "object",
                    "default": {},
                    "properties": {"retries": {"type": "integer", "default": 3}},
                },
            },
        },
        "status": {
            "type": "object",
            "properties": {"phase": {"type": "string"}, "count": {"type": "integer"}},
        },
    },
}


def widget_crd(
    plural: str = "widgets", kind: str = "Widget", group: str = "example.com"
) -> dict[str, Any]:
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.{group}"},
        "spec": {
            "group": group,
            "scope": "Namespaced",
            "names": {"plural": plural, "singular": plural[:-1], "kind": kind,
                      "shortNames": [plural[:2] + "x"], "categories": ["gadgets"]},
            "versions": [{
                "name": "v1",
                "served": True,
                "storage": True,
                "schema": {"openAPIV3Schema": WIDGET_SCHEMA},
                "subresources": {"status": {}},
                "additionalPrinterColumns": [
                    {"name": "Size", "type": "integer", "jsonPath": ".spec.size"},
                    {"name": "Color", "type": "string", "jsonPath": ".spec.color"},
                    {"name": "Phase", "type": "string", "jsonPath": ".status.phase"},
                    {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
                ],
            }],
        },
    }  # fmt: skip


def widget(name: str, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "example.com/v1",
        "kind": "Widget",
        "metadata": {"name": name},
        "spec": {"size": 2, **spec},
    }


@pytest.fixture(scope="module")
def sim() -> Iterator[RunningSimulator]:
    with start_in_thread(SimulatorConfig(ready_delay=0.1, terminate_delay=0.1)) as running:
        yield running


@pytest.fixture(scope="module")
def crd(sim: RunningSimulator) -> dict[str, Any]:
    """The widgets CRD, created once and Established."""
    with httpx.Client(base_url=sim.url, timeout=5) as http:
        response = http.post(CRDS, json=widget_crd())
        assert response.status_code == 201, response.text
        return established(http, "widgets.example.com")


def established(http: httpx.Client, name: str) -> dict[str, Any]:
    def check() -> dict[str, Any] | None:
        body = http.get(f"{CRDS}/{name}").json()
        conditions = {c["type"]: c for c in (body.get("status") or {}).get("conditions") or []}
        ready = conditions.get("Established", {}).get("status") == "True"
        return body if ready else None

    return dict(wait_until(check))


@pytest.fixture(scope="module")
def kubeconfig(sim: RunningSimulator, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_kubeconfig(tmp_path_factory.mktemp("crds") / "kubeconfig", sim.url)


def kubectl(
    kubeconfig: Path, *args: str, check: bool = True, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    if KUBECTL is None:
        pytest.skip("kubectl is not on PATH; scripts/setup.sh installs it in .tools/bin")
    result = subprocess.run(
        [KUBECTL, "--kubeconfig", str(kubeconfig), f"--cache-dir={kubeconfig.parent / 'cache'}",
         "--request-timeout=10s", *args],
        capture_output=True, text=True, timeout=60, check=False, input=stdin,
    )  # fmt: skip
    if check:
        assert result.returncode == 0, f"kubectl {' '.join(args)}: {result.stderr}"
    return result


def items(http: httpx.Client, url: str, **params: str) -> list[dict[str, Any]]:
    response = http.get(url, params=params)
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


# --- discovery and OpenAPI ------------------------------------------------------------------


def test_a_crd_is_established_with_its_names_accepted(crd: dict[str, Any]) -> None:
    conditions = {c["type"]: c for c in crd["status"]["conditions"]}
    assert conditions["NamesAccepted"]["reason"] == "NoConflicts"
    assert conditions["Established"]["reason"] == "InitialNamesAccepted"
    assert crd["status"]["acceptedNames"]["kind"] == "Widget"
    assert crd["status"]["acceptedNames"]["listKind"] == "WidgetList"
    assert crd["status"]["storedVersions"] == ["v1"]


def test_aggregated_discovery_lists_the_custom_resource(
    crd: dict[str, Any], http: httpx.Client
) -> None:
    response = http.get("/apis", headers={"Accept": AGGREGATED})
    assert response.headers["content-type"].startswith("application/json;g=apidiscovery.k8s.io")
    groups = {g["metadata"]["name"]: g for g in response.json()["items"]}
    version = groups["example.com"]["versions"][0]
    assert version["version"] == "v1"
    (resource,) = version["resources"]
    assert resource["resource"] == "widgets"
    assert resource["responseKind"] == {"group": "example.com", "version": "v1", "kind": "Widget"}
    assert resource["scope"] == "Namespaced"
    assert resource["shortNames"] == ["wix"] and resource["categories"] == ["gadgets"]
    assert resource["subresources"][0]["subresource"] == "status"
    core = http.get("/api", headers={"Accept": AGGREGATED}).json()
    assert core["items"][0]["metadata"]["name"] == ""
    assert "pods" in {r["resource"] for r in core["items"][0]["versions"][0]["resources"]}


def test_per_group_version_discovery_and_openapi_list_it(
    crd: dict[str, Any], http: httpx.Client
) -> None:
    assert "example.com" in {g["name"] for g in http.get("/apis").json()["groups"]}
    resources = http.get("/apis/example.com/v1").json()["resources"]
    assert {r["name"] for r in resources} == {"widgets", "widgets/status"}
    root = http.get("/openapi/v3").json()["paths"]
    document = http.get(root["apis/example.com/v1"]["serverRelativeURL"]).json()
    schema = document["components"]["schemas"]["com.example.v1.Widget"]
    assert schema["properties"]["spec"]["properties"]["color"]["enum"] == ["red", "blue"]
    patch = document["paths"]["/apis/example.com/v1/namespaces/{namespace}/widgets/{name}"]["patch"]
    assert "application/strategic-merge-patch+json" not in patch["requestBody"]["content"]


def test_kubectl_api_resources_and_explain_know_the_kind(
    crd: dict[str, Any], kubeconfig: Path
) -> None:
    out = kubectl(kubeconfig, "api-resources", "--api-group=example.com").stdout
    assert "widgets" in out and "wix" in out and "Widget" in out
    explained = kubectl(kubeconfig, "explain", "widgets.spec.color").stdout
    assert "ENUM:\n    red\n    blue" in explained


def test_a_crd_whose_kind_is_taken_is_not_accepted_or_served(
    crd: dict[str, Any], http: httpx.Client
) -> None:
    clash = widget_crd(plural="gizmos", kind="Widget")
    clash["spec"]["names"]["shortNames"] = ["gz"]
    assert http.post(CRDS, json=clash).status_code == 201

    def refused() -> dict[str, Any] | None:
        conditions = (http.get(f"{CRDS}/gizmos.example.com").json().get("status") or {}).get(
            "conditions"
        )
        return {c["type"]: c for c in conditions} if conditions else None

    conditions = wait_until(refused)
    assert conditions["NamesAccepted"]["status"] == "False"
    assert conditions["NamesAccepted"]["message"] == '"Widget" is already in use'
    assert conditions["Established"]["status"] == "False"
    assert http.get("/apis/example.com/v1/gizmos").status_code == 404
    http.delete(f"{CRDS}/gizmos.example.com")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"metadata": {"name": "widgets.other.com"}},
         'metadata.name: Invalid value: "widgets.other.com": must be spec.names.plural+"."+spec.group'),
        ({"spec": {"scope": "Everywhere"}}, 'spec.scope: Unsupported value: "Everywhere"'),
        ({"spec": {"group": "nodots"}, "metadata": {"name": "widgets.nodots"}},
         'spec.group: Invalid value: "nodots": should be a domain with at least one dot'),
    ],
    ids=["a name that is not plural.group is refused", "an unknown scope is refused",
         "a group without a dot is refused"],
)  # fmt: skip
def test_invalid_crds_are_refused(http: httpx.Client, change: dict[str, Any], message: str) -> None:
    body = widget_crd(plural="things", kind="Thing")
    body["metadata"].update(change.get("metadata", {}))
    body["spec"].update(change.get("spec", {}))
    response = http.post(CRDS, json=body)
    assert response.status_code == 422, response.text
    assert message in response.json()["message"]


# --- schema ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"size": "two"}, 'spec.size: Invalid value: "string": spec.size in body must be of type integer: "string"'),
        ({"size": 11}, "spec.size: Invalid value: 11: spec.size in body should be less than or equal to 10"),
        ({"color": "green"}, 'spec.color: Unsupported value: "green": supported values: "red", "blue"'),
        ({"code": "ABC"}, "spec.code: Invalid value: \"ABC\": spec.code in body should match '^[a-z]+$'"),
        ({"tags": ["a", "b", "c", "d"]}, "spec.tags: Too many: 4: must have at most 3 items"),
        ({"port": 1.5}, "spec.port: Invalid value: 1.5: spec.port in body must be of type integer or string"),
        ({"size": None}, 'spec.size: Invalid value: "null": spec.size in body must be of type integer: "null"'),
    ],
    ids=["a wrong type is refused", "a number over the maximum is refused",
         "a value outside the enum is refused", "a string not matching the pattern is refused",
         "too many items are refused", "int-or-string takes neither a float",
         "null where a value is wanted is refused"],
)  # fmt: skip
def test_the_structural_schema_refuses(
    crd: dict[str, Any], http: httpx.Client, ns: str, spec: dict[str, Any], message: str
) -> None:
    response = http.post(
        f"/apis/example.com/v1/namespaces/{ns}/widgets", json=widget("bad", **spec)
    )
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["reason"] == "Invalid"
    assert body["message"].startswith('Widget.example.com "bad" is invalid: ')
    assert message in body["message"]


def test_a_missing_required_field_is_refused(
    crd: dict[str, Any], http: httpx.Client, ns: str
) -> None:
    body = widget("bare")
    del body["spec"]["size"]
    response = http.post(f"/apis/example.com/v1/namespaces/{ns}/widgets", json=body)
    assert response.status_code == 422
    assert response.json()["details"]["causes"] == [
        {"reason": "FieldValueRequired", "message": "Required value", "field": "spec.size"}
    ]


def test_defaults_are_filled_and_unknown_fields_pruned(
    crd: dict[str, Any], http: httpx.Client, ns: str
) -> None:
    body = widget("w1", port="http", extra={"anything": {"goes": 1}}, unknown=True)
    response = http.post(f"/apis/example.com/v1/namespaces/{ns}/widgets", json=body)
    assert response.status_code == 201, response.text
    assert response.headers["warning"] == '299 - "unknown field \\"spec.unknown\\""'
    spec = response.json()["spec"]
    assert spec == {"size": 2, "color": "red", "port": "http", "options": {"retries": 3},
                    "extra": {"anything": {"goes": 1}}}  # fmt: skip
    strict = http.post(f"/apis/example.com/v1/namespaces/{ns}/widgets?fieldValidation=Strict",
                       json=widget("w2", unknown=True))  # fmt: skip
    assert strict.status_code == 400
    assert 'strict decoding error: unknown field "spec.unknown"' in strict.json()["message"]


# --- subresources, patches, table -----------------------------------------------------------


def test_status_subresource_and_generation(
    crd: dict[str, Any], http: httpx.Client, ns: str
) -> None:
    url = f"/apis/example.com/v1/namespaces/{ns}/widgets"
    created = http.post(url, json={**widget("s1"), "status": {"phase": "Set"}}).json()
    assert "status" not in created and created["metadata"]["generation"] == 1
    status = http.patch(f"{url}/s1/status", json={"status": {"phase": "Ready", "count": 1}},
                        headers={"Content-Type": "application/merge-patch+json"}).json()  # fmt: skip
    assert status["status"] == {"phase": "Ready", "count": 1}
    assert status["metadata"]["generation"] == 1
    spec = http.patch(f"{url}/s1", json={"spec": {"size": 5}, "status": {"phase": "Lost"}},
                      headers={"Content-Type": "application/merge-patch+json"}).json()  # fmt: skip
    assert spec["metadata"]["generation"] == 2
    assert spec["status"]["phase"] == "Ready"  # main resource writes ignore status
    bad = http.patch(f"{url}/s1/status", json={"status": {"count": "x"}},
                     headers={"Content-Type": "application/merge-patch+json"})  # fmt: skip
    assert bad.status_code == 422


def test_patch_types(crd: dict[str, Any], http: httpx.Client, ns: str) -> None:
    url = f"/apis/example.com/v1/namespaces/{ns}/widgets"
    http.post(url, json=widget("p1"))
    strategic = http.patch(f"{url}/p1", json={"spec": {"size": 3}},
                           headers={"Content-Type": "application/strategic-merge-patch+json"})  # fmt: skip
    assert strategic.status_code == 415
    assert strategic.json()["reason"] == "UnsupportedMediaType"
    json_patch = http.patch(f"{url}/p1", json=[{"op": "replace", "path": "/spec/size", "value": 4}],
                            headers={"Content-Type": "application/json-patch+json"})  # fmt: skip
    assert json_patch.json()["spec"]["size"] == 4
    applied = http.patch(f"{url}/p2?fieldManager=gitops", json=widget("p2", color="blue"),
                         headers={"Content-Type": "application/apply-patch+yaml"})  # fmt: skip
    assert applied.status_code == 201
    assert applied.json()["metadata"]["managedFields"][0]["manager"] == "gitops"


def test_table_output_has_the_printer_columns(
    crd: dict[str, Any], http: httpx.Client, ns: str
) -> None:
    url = f"/apis/example.com/v1/namespaces/{ns}/widgets"
    http.post(url, json=widget("t1", color="blue"))
    table = http.get(url, headers={"Accept": TABLE}).json()
    assert [c["name"] for c in table["columnDefinitions"]] == [
        "Name",
        "Size",
        "Color",
        "Phase",
        "Age",
    ]
    assert table["rows"][0]["cells"][:4] == ["t1", 2, "blue", None]


def test_kubectl_get_by_short_name_and_category(
    crd: dict[str, Any], kubeconfig: Path, http: httpx.Client, ns: str
) -> None:
    http.post(f"/apis/example.com/v1/namespaces/{ns}/widgets", json=widget("k1", size=7))
    http.patch(f"/apis/example.com/v1/namespaces/{ns}/widgets/k1/status", json={"status": {"phase": "Ready"}},
               headers={"Content-Type": "application/merge-patch+json"})  # fmt: skip
    for name in ("wix", "gadgets", "widgets.example.com"):
        lines = kubectl(kubeconfig, "get", name, "-n", ns).stdout.splitlines()
        assert lines[0].split() == ["NAME", "SIZE", "COLOR", "PHASE", "AGE"], name
        assert lines[1].split()[:4] == ["k1", "7", "red", "Ready"], name


def test_kubectl_apply_client_side_changes_a_custom_resource(
    crd: dict[str, Any], kubeconfig: Path, http: httpx.Client, ns: str
) -> None:
    manifest = json.dumps(widget("a1", size=1))
    assert "created" in kubectl(kubeconfig, "apply", "-n", ns, "-f", "-", stdin=manifest).stdout
    changed = json.dumps(widget("a1", size=3))
    assert "configured" in kubectl(kubeconfig, "apply", "-n", ns, "-f", "-", stdin=changed).stdout
    assert http.get(f"/apis/example.com/v1/namespaces/{ns}/widgets/a1").json()["spec"]["size"] == 3
    refused = kubectl(
        kubeconfig,
        "apply",
        "-n",
        ns,
        "-f",
        "-",
        stdin=json.dumps(widget("a1", color="pink")),
        check=False,
    )
    assert refused.returncode == 1
    assert (
        'spec.color: Unsupported value: "pink": supported values: "red", "blue"' in refused.stderr
    )


# --- finalizers, selectors, watch -----------------------------------------------------------


def test_finalizers_hold_a_deleted_custom_resource(
    crd: dict[str, Any], http: httpx.Client, ns: str
) -> None:
    url = f"/apis/example.com/v1/namespaces/{ns}/widgets"
    body = widget("f1")
    body["metadata"]["finalizers"] = ["example.com/cleanup"]
    http.post(url, json=body)
    marked = http.delete(f"{url}/f1").json()
    assert marked["metadata"]["deletionTimestamp"]
    http.patch(f"{url}/f1", json={"metadata": {"finalizers": None}},
               headers={"Content-Type": "application/merge-patch+json"})  # fmt: skip
    assert http.get(f"{url}/f1").status_code == 404


def test_label_selectors_and_watch(
    crd: dict[str, Any], sim: RunningSimulator, http: httpx.Client, ns: str
) -> None:
    url = f"/apis/example.com/v1/namespaces/{ns}/widgets"
    for name, tier in (("l1", "gold"), ("l2", "free")):
        body = widget(name)
        body["metadata"]["labels"] = {"tier": tier}
        http.post(url, json=body)
    assert [o["metadata"]["name"] for o in items(http, url, labelSelector="tier=gold")] == ["l1"]
    assert [o["metadata"]["name"] for o in items(http, url, labelSelector="tier!=gold")] == ["l2"]
    with httpx.stream(
        "GET", f"{sim.url}{url}?watch=1&labelSelector=tier%3Dgold&timeoutSeconds=2"
    ) as stream:
        first = json.loads(next(stream.iter_lines()))
    assert first["type"] == "ADDED" and first["object"]["metadata"]["name"] == "l1"


# --- the Python client ----------------------------------------------------------------------


def test_the_python_client_custom_objects_api(
    crd: dict[str, Any], kubeconfig: Path, ns: str
) -> None:
    api = client.CustomObjectsApi(config.new_client_from_config(str(kubeconfig)))
    api.create_namespaced_custom_object("example.com", "v1", ns, "widgets", widget("py", size=4))
    got = api.get_namespaced_custom_object("example.com", "v1", ns, "widgets", "py")
    assert got["spec"]["color"] == "red"
    api.patch_namespaced_custom_object_status(
        "example.com", "v1", ns, "widgets", "py", {"status": {"phase": "Done"}}
    )
    api.patch_namespaced_custom_object(
        "example.com", "v1", ns, "widgets", "py", {"spec": {"size": 5}}
    )
    listed = api.list_namespaced_custom_object("example.com", "v1", ns, "widgets")
    (obj,) = listed["items"]
    assert obj["status"]["phase"] == "Done" and obj["spec"]["size"] == 5
    assert obj["metadata"]["generation"] == 2
    with pytest.raises(client.ApiException) as error:
        api.create_namespaced_custom_object(
            "example.com", "v1", ns, "widgets", widget("py2", size=0)
        )
    assert error.value.status == 422
    api.delete_namespaced_custom_object("example.com", "v1", ns, "widgets", "py")
    assert api.list_namespaced_custom_object("example.com", "v1", ns, "widgets")["items"] == []


# --- deleting the CRD -----------------------------------------------------------------------


def test_deleting_a_crd_deletes_its_objects_after_their_finalizers(
    http: httpx.Client, ns: str
) -> None:
    assert http.post(CRDS, json=widget_crd(plural="doomeds", kind="Doomed")).status_code == 201
    established(http, "doomeds.example.com")
    url = f"/apis/example.com/v1/namespaces/{ns}/doomeds"
    held = {**widget("held"), "kind": "Doomed"}
    held["metadata"]["finalizers"] = ["example.com/hold"]
    http.post(url, json=held)
    http.post(url, json={**widget("free"), "kind": "Doomed"})
    http.delete(f"{CRDS}/doomeds.example.com")

    def terminating() -> bool:
        conditions = http.get(f"{CRDS}/doomeds.example.com").json()["status"]["conditions"]
        return any(c["type"] == "Terminating" for c in conditions)

    wait_until(terminating)
    assert [o["metadata"]["name"] for o in items(http, url)] == ["held"]
    refused = http.post(url, json={**widget("late"), "kind": "Doomed"})
    assert refused.status_code == 405
    # Its controller can still finish its work on the held object.
    http.patch(f"{url}/held", json={"metadata": {"finalizers": None}},
               headers={"Content-Type": "application/merge-patch+json"})  # fmt: skip
    wait_until(lambda: http.get(f"{CRDS}/doomeds.example.com").status_code == 404)
    assert http.get(url).status_code == 404
    assert "doomeds" not in {
        r["name"] for r in http.get("/apis/example.com/v1").json()["resources"]
    }


def test_a_crd_is_served_again_after_a_restart(tmp_path: Path) -> None:
    state = tmp_path / "state.db"
    for step in ("create", "read"):
        with start_in_thread(SimulatorConfig(state_path=state, controllers=False)) as running, \
                httpx.Client(base_url=running.url, timeout=5) as http:  # fmt: skip
            if step == "create":
                assert http.post(CRDS, json=widget_crd()).status_code == 201
                http.post("/apis/example.com/v1/namespaces/default/widgets", json=widget("kept"))
            else:
                kept = http.get("/apis/example.com/v1/namespaces/default/widgets/kept")
                assert kept.status_code == 200 and kept.json()["spec"]["color"] == "red"
