"""``/api/v1/stores/{id}/checks`` through the ASGI app, on SQLite and PostgreSQL: a check is
recorded for a real, Ready store; a store with nothing real behind it is a 409 that says why.
(Running the check is the reconciler side's job: tests/reconciler/test_checks.py.)"""

from __future__ import annotations

from typing import Any

import pytest

from storeplane.db import SqlStoreRepository
from storeplane.domain.conditions import ConditionStatus, ConditionType, set_condition
from storeplane.domain.store import Phase, WorkloadRuntime
from tests.api.conftest import Api
from tests.api.test_stores import LATER, PROBLEM, reconcile

SIMULATED_MESSAGE = (
    "service woocommerce-wordpress:80/wp-json/ answered HTTP 200, but the answer was "
    "simulated: no local runtime for wordpress:6.8, mariadb:11.4"
)


def _ready(api: Api, store_id: str, runtime: WorkloadRuntime, message: str = "ok") -> None:
    store = api.repo.get(store_id)
    conditions = set_condition(
        store.conditions,
        ConditionType.STORE_REACHABLE,
        ConditionStatus.TRUE,
        "StoreReachable",
        message,
        now=LATER,
        generation=1,
    )
    reconcile(
        api.repo, store_id, phase=Phase.READY, workload_runtime=runtime, conditions=conditions
    )


def _check_url(store_id: str) -> str:
    return f"/api/v1/stores/{store_id}/checks"


def test_a_check_of_a_ready_local_store_is_recorded_running(api: Api) -> None:
    store = api.create("real-shop")
    _ready(api, str(store["id"]), WorkloadRuntime.LOCAL)
    api.woken.clear()
    response = api.client.post(_check_url(str(store["id"])))
    assert response.status_code == 202, response.text
    check = response.json()
    assert set(check) == {
        "id", "store_id", "status", "step", "message", "order_id", "requested_by",
        "started_at", "finished_at",
    }  # fmt: skip
    assert (check["status"], check["order_id"], check["finished_at"]) == ("Running", None, None)
    assert check["requested_by"] == "admin" and check["store_id"] == store["id"]
    assert response.headers["location"] == f"{_check_url(str(store['id']))}/{check['id']}"
    assert api.woken == [store["id"]]  # the runner side is woken at once
    assert api.client.get(response.headers["location"]).json() == check
    listed = api.client.get(_check_url(str(store["id"]))).json()
    assert listed == {"items": [check], "count": 1}
    events = api.client.get(f"/api/v1/stores/{store['id']}/events").json()["items"]
    assert events[-1]["reason"] == "SmokeTestRequested" and events[-1]["actor"] == "admin"


def test_asking_again_while_a_check_runs_returns_that_check(api: Api) -> None:
    store = api.create("real-shop")
    _ready(api, str(store["id"]), WorkloadRuntime.CLUSTER)
    first = api.client.post(_check_url(str(store["id"]))).json()
    api.woken.clear()
    again = api.client.post(_check_url(str(store["id"])))
    assert again.status_code == 202 and again.json()["id"] == first["id"]
    assert api.woken == []  # nothing new to do
    assert api.client.get(_check_url(str(store["id"]))).json()["count"] == 1


@pytest.mark.parametrize(
    ("runtime", "phase", "detail_parts"),
    [
        (
            WorkloadRuntime.SIMULATED,
            Phase.READY,
            ["workloads are simulated", "no local runtime for wordpress:6.8", "no real store"],
        ),
        (WorkloadRuntime.LOCAL, Phase.PROVISIONING, ["is Provisioning, not Ready", "once it is"]),
        (WorkloadRuntime.LOCAL, Phase.FAILED, ["is Failed, not Ready"]),
    ],
    ids=[
        "a store whose workloads are simulated has no real store to check",
        "a store still provisioning is not ready to check",
        "a failed store is not ready to check",
    ],
)
def test_a_store_with_nothing_real_to_check_is_a_409_saying_why(
    api: Api, runtime: WorkloadRuntime, phase: Phase, detail_parts: list[str]
) -> None:
    store = api.create("sim-shop", engine="woocommerce")
    _ready(api, str(store["id"]), runtime, SIMULATED_MESSAGE)
    if phase is not Phase.READY:
        reconcile(api.repo, str(store["id"]), phase=phase)
    before = api.rows()
    response = api.client.post(_check_url(str(store["id"])))
    assert response.status_code == 409, response.text
    assert response.headers["content-type"] == PROBLEM
    for part in detail_parts:
        assert part in response.json()["detail"]
    assert api.rows() == before  # nothing recorded
    assert api.client.get(_check_url(str(store["id"]))).json()["count"] == 0


def test_a_store_being_deleted_cannot_be_checked(api: Api) -> None:
    store = api.create("gone-shop")
    _ready(api, str(store["id"]), WorkloadRuntime.LOCAL)
    api.client.delete(f"/api/v1/stores/{store['id']}")
    response = api.client.post(_check_url(str(store["id"])))
    assert response.status_code == 409 and "no store to check" in response.json()["detail"]


def test_a_member_checks_its_own_store(api: Api) -> None:
    alice = api.as_user("alice")
    store = api.create("alices-shop", client=alice)
    _ready(api, str(store["id"]), WorkloadRuntime.LOCAL)
    response = alice.post(_check_url(str(store["id"])))
    assert response.status_code == 202 and response.json()["requested_by"] == "alice"


def test_an_unknown_check_is_a_404_that_says_how_to_list_them(api: Api) -> None:
    store = api.create("real-shop")
    response = api.client.get(f"{_check_url(str(store['id']))}/check-nothere000")
    assert response.status_code == 404
    detail: Any = response.json()["detail"]
    assert "no check" in detail and f"GET /api/v1/stores/{store['id']}/checks" in detail


def test_a_store_shows_its_workload_runtime(api: Api, repo: SqlStoreRepository) -> None:
    store = api.create("real-shop")
    _ready(api, str(store["id"]), WorkloadRuntime.SIMULATED, SIMULATED_MESSAGE)
    body = api.client.get(f"/api/v1/stores/{store['id']}").json()
    assert body["workload_runtime"] == "simulated"
    listed = api.client.get("/api/v1/stores").json()["items"]
    assert listed[0]["workload_runtime"] == "simulated"
