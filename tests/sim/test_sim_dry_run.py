"""``dryRun=All``: every write verb answers as if done, and nothing is stored or emitted."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from sim_helpers import deployment

from storeplane.sim.runner import RunningSimulator

DRY = {"dryRun": "All"}


@pytest.fixture(scope="module")
def sim(shared_sim: RunningSimulator) -> Iterator[RunningSimulator]:
    yield shared_sim


def _rv(http: httpx.Client) -> str:
    return str(http.get("/api/v1/namespaces").json()["metadata"]["resourceVersion"])


def test_a_dry_run_create_answers_the_object_and_stores_nothing(
    http: httpx.Client, ns: str
) -> None:
    before = _rv(http)
    response = http.post(
        f"/apis/apps/v1/namespaces/{ns}/deployments", json=deployment("web"), params=DRY
    )
    assert response.status_code == 201, response.text
    assert response.json()["metadata"]["uid"] and response.json()["spec"]["replicas"] == 1
    assert "resourceVersion" not in response.json()["metadata"]  # never stored
    assert http.get(f"/apis/apps/v1/namespaces/{ns}/deployments/web").status_code == 404
    assert _rv(http) == before
    # A dry-run Service gets an address in the answer but does not use it up.
    svc = {"metadata": {"name": "s"}, "spec": {"ports": [{"port": 80}]}}
    dry_ip = http.post(f"/api/v1/namespaces/{ns}/services", json=svc, params=DRY).json()
    real_ip = http.post(f"/api/v1/namespaces/{ns}/services", json=svc).json()
    assert dry_ip["spec"]["clusterIP"] == real_ip["spec"]["clusterIP"]


def test_dry_run_update_patch_and_delete_leave_the_object_as_it_was(
    http: httpx.Client, ns: str
) -> None:
    url = f"/api/v1/namespaces/{ns}/configmaps"
    live = http.post(url, json={"metadata": {"name": "c"}, "data": {"a": "1"}}).json()
    put = http.put(f"{url}/c", json={**live, "data": {"a": "2"}}, params=DRY)
    assert put.status_code == 200 and put.json()["data"] == {"a": "2"}
    assert put.json()["metadata"]["resourceVersion"] == live["metadata"]["resourceVersion"]
    patched = http.patch(
        f"{url}/c", json={"data": {"b": "3"}}, params=DRY,
        headers={"content-type": "application/strategic-merge-patch+json"},
    )  # fmt: skip
    assert patched.json()["data"] == {"a": "1", "b": "3"}
    deleted = http.delete(f"{url}/c", params=DRY)
    assert deleted.status_code == 200 and deleted.json()["status"] == "Success"
    after = http.get(f"{url}/c").json()
    assert after == live


def test_a_dry_run_delete_keeps_what_garbage_collection_would_remove(
    http: httpx.Client, ns: str
) -> None:
    owner = http.post(f"/api/v1/namespaces/{ns}/configmaps", json={"metadata": {"name": "o"}})
    ref = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "name": "o",
        "uid": owner.json()["metadata"]["uid"],
    }
    http.post(
        f"/api/v1/namespaces/{ns}/configmaps",
        json={"metadata": {"name": "dependent", "ownerReferences": [ref]}},
    )
    http.request(
        "DELETE", f"/api/v1/namespaces/{ns}/configmaps/o",
        json={"kind": "DeleteOptions", "apiVersion": "v1", "dryRun": ["All"]},
    )  # fmt: skip
    assert http.get(f"/api/v1/namespaces/{ns}/configmaps/o").status_code == 200
    assert http.get(f"/api/v1/namespaces/{ns}/configmaps/dependent").status_code == 200


def test_a_dry_run_is_not_seen_by_watchers(http: httpx.Client, ns: str) -> None:
    rv = _rv(http)
    http.post(f"/api/v1/namespaces/{ns}/configmaps", json={"metadata": {"name": "d"}}, params=DRY)
    http.post(f"/api/v1/namespaces/{ns}/configmaps", json={"metadata": {"name": "real"}})
    with http.stream(
        "GET", f"/api/v1/namespaces/{ns}/configmaps",
        params={"watch": "1", "resourceVersion": rv, "timeoutSeconds": "1"},
    ) as stream:  # fmt: skip
        names = [line for line in stream.iter_lines() if line]
    assert len(names) == 1 and '"real"' in names[0]


def test_an_unknown_dry_run_value_is_refused(http: httpx.Client, ns: str) -> None:
    response = http.post(
        f"/api/v1/namespaces/{ns}/configmaps", json={"metadata": {"name": "x"}},
        params={"dryRun": "Some"},
    )  # fmt: skip
    assert response.status_code == 400
    assert (
        response.json()["message"] == 'dryRun: Unsupported value: ["Some"]: supported values: "All"'
    )
