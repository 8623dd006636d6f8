"""``POST /api/v1/stores/{id}/suspend`` and ``/resume``: intent, events, idempotency, 409s."""

from __future__ import annotations

import pytest

from storeplane.domain.store import Phase
from tests.api.conftest import Api
from tests.api.test_stores import assert_problem, reconcile


def _reasons(api: Api, store_id: str) -> list[str]:
    events = api.client.get(f"/api/v1/stores/{store_id}/events").json()["items"]
    return [e["reason"] for e in events]


def test_suspend_then_resume_record_intent_and_one_event_each(api: Api) -> None:
    store = api.create()
    store_id = str(store["id"])
    reconcile(api.repo, store_id, phase=Phase.READY, observed_generation=1)
    for _ in range(2):  # the second call changes nothing
        response = api.client.post(f"/api/v1/stores/{store_id}/suspend")
        assert response.status_code == 202, response.text
        body = response.json()
        assert (body["suspended"], body["phase"], body["generation"]) == (True, "Updating", 2)
    reconcile(api.repo, store_id, phase=Phase.SUSPENDED, observed_generation=2)
    assert api.client.get(f"/api/v1/stores/{store_id}").json()["phase"] == "Suspended"
    response = api.client.post(f"/api/v1/stores/{store_id}/resume")
    assert response.status_code == 202
    body = response.json()
    assert (body["suspended"], body["phase"], body["generation"]) == (False, "Updating", 3)
    assert _reasons(api, store_id) == ["Created", "SuspendRequested", "ResumeRequested"]
    assert api.woken.count(store_id) >= 3


def test_a_suspended_store_is_listed_by_its_phase(api: Api) -> None:
    store = api.create()
    reconcile(api.repo, str(store["id"]), phase=Phase.SUSPENDED)
    listed = api.client.get("/api/v1/stores", params={"phase": "Suspended"}).json()
    assert [s["id"] for s in listed["items"]] == [store["id"]]


@pytest.mark.parametrize("action", ["suspend", "resume"])
@pytest.mark.parametrize("gone", ["deleting", "deleted"])
def test_suspending_or_resuming_a_store_being_deleted_is_a_409(
    api: Api, action: str, gone: str
) -> None:
    store = api.create()
    api.client.delete(f"/api/v1/stores/{store['id']}")
    if gone == "deleted":
        reconcile(api.repo, str(store["id"]), phase=Phase.DELETED)
    response = api.client.post(f"/api/v1/stores/{store['id']}/{action}")
    assert_problem(response, 409, f"cannot {action} store {store['id']}", None)
    assert "create a new store instead" in response.json()["detail"]


def test_someone_elses_store_cannot_be_suspended(api: Api) -> None:
    store = api.create()
    other = api.as_user("mallory")
    response = other.post(f"/api/v1/stores/{store['id']}/suspend")
    assert_problem(response, 404, "not found", None)
    assert api.client.get(f"/api/v1/stores/{store['id']}").json()["suspended"] is False
