"""``/api/v1/rollouts`` through the ASGI app, on SQLite and PostgreSQL: what is checked up
front (versions, selector, waves, compatibility, overlaps), admins only, pause/resume/abort.
The waves themselves are driven in tests/reconciler/test_rollouts.py and tests/scenarios."""

from __future__ import annotations

from typing import Any

import pytest

from storeplane.db.rollouts import SqlRolloutRepository
from storeplane.services.rollouts import upgrade_store
from storeplane.settings import Settings
from tests.api.conftest import Api
from tests.api.test_engine_versions import converged_at
from tests.api.test_stores import assert_problem
from tests.engine_catalogues import A, B


def stores(api: Api, group: str, count: int, version: str = A) -> list[str]:
    return [
        str(api.create(f"{group}-{n}", engine_version=version, labels={"group": group})["id"])
        for n in range(count)
    ]


def body(group: str = "g", **changes: Any) -> dict[str, Any]:
    return {
        "engine": "medusa",
        "to_version": B,
        "selector": {"labels": {"group": group}},
        "waves": [1, 2, "100%"],
        **changes,
    }


def test_a_rollout_is_planned_in_cumulative_waves(api: Api) -> None:
    ids = stores(api, "g", 4)
    ids += stores(api, "g-done", 1, version=B)
    response = api.client.post(
        "/api/v1/rollouts",
        json=body(selector={"labels": {}, "names": ["g-0", "g-1", "g-2", "g-3", "g-done-0"]}),
    )
    assert response.status_code == 201, response.text
    rollout = response.json()
    assert response.headers["Location"] == f"/api/v1/rollouts/{rollout['id']}"
    assert rollout["phase"] == "Running" and rollout["current_wave"] == 1
    assert [len(w["stores"]) for w in rollout["waves"]] == [1, 1, 3]
    # Stores to upgrade first, by name; the one already at B is done from the start.
    assert [s["name"] for s in rollout["stores"]] == ["g-0", "g-1", "g-2", "g-3", "g-done-0"]
    assert rollout["stores"][-1]["status"] == "Done"
    assert rollout["stores"][-1]["cause"] == f"already at {B}"
    assert rollout["waves"][2]["done"] == 1
    listed = api.client.get("/api/v1/rollouts").json()
    assert [r["id"] for r in listed["items"]] == [rollout["id"]]
    assert api.client.get(f"/api/v1/rollouts/{rollout['id']}").json()["stores"] == rollout["stores"]
    assert set(ids) == {s["store_id"] for s in rollout["stores"]}


@pytest.mark.parametrize(
    ("changes", "status", "field", "detail"),
    [
        (
            {"to_version": "9.9.9"},
            422,
            "to_version",
            "to_version '9.9.9' is not a version of medusa",
        ),
        (
            {"selector": {"labels": {"group": "none"}}},
            422,
            "selector",
            "matches no live medusa store",
        ),
        ({"selector": {"names": ["nope"]}}, 422, "selector.names", "lists nope, which no live"),
        ({"waves": [1, 2]}, 422, "waves", "the last wave reaches 2 of the 3 selected stores"),
        ({"waves": [2, 1, "100%"]}, 422, "waves[1]", "smaller than the wave before it"),
        ({"waves": ["150%"]}, 422, "waves", 'from "1%" to "100%"'),
        ({"waves": []}, 422, "waves", "at least one wave"),
        ({"max_failures": -1}, 422, "max_failures", "greater than or equal to 0"),
        ({"gate": "maybe"}, 422, "gate", "must be one of ready, smoke"),
        ({"selector": {"labels": {"-x": "y"}}}, 422, "selector.labels", "label key '-x'"),
        ({"engine": "magento"}, 422, "engine", "must be one of medusa, woocommerce"),
        ({"surprise": 1}, 422, "body", 'unknown field "surprise"'),
    ],
    ids=[
        "a version the catalogue does not list",
        "a selector that matches nothing",
        "a name that is no store",
        "waves that leave stores out",
        "waves that shrink",
        "a percentage above a hundred",
        "no waves",
        "a negative failure budget",
        "an unknown gate",
        "a bad selector label",
        "an unknown engine",
        "an unknown field",
    ],
)
def test_bad_rollouts_are_refused_and_nothing_is_recorded(
    api: Api, changes: dict[str, Any], status: int, field: str, detail: str
) -> None:
    stores(api, "g", 3)
    response = api.client.post("/api/v1/rollouts", json=body(**changes))
    assert_problem(response, status, detail, field)
    assert api.client.get("/api/v1/rollouts").json()["count"] == 0


def test_stores_that_cannot_upgrade_are_named_with_where_they_may_go(api: Api) -> None:
    stores(api, "g", 2, version=B)
    response = api.client.post("/api/v1/rollouts", json=body(to_version=A))
    assert_problem(response, 422, "2 selected stores cannot upgrade to medusa 2.20.1", "to_version")
    assert (
        "g-0 (" in response.json()["detail"]
        and f"at {B} may move to {B}" in (response.json()["detail"])
    )


def test_a_store_in_an_unfinished_rollout_cannot_join_another(api: Api) -> None:
    stores(api, "g", 3)
    first = api.client.post("/api/v1/rollouts", json=body()).json()
    again = api.client.post("/api/v1/rollouts", json=body())
    assert_problem(again, 409, f"g-0 ({first['id']})", None)
    assert api.client.post(f"/api/v1/rollouts/{first['id']}/abort").json()["phase"] == "Aborted"
    assert api.client.post("/api/v1/rollouts", json=body()).status_code == 201


def test_pause_resume_and_abort(api: Api) -> None:
    stores(api, "g", 3)
    rollout = api.client.post("/api/v1/rollouts", json=body()).json()
    url = f"/api/v1/rollouts/{rollout['id']}"
    paused = api.client.post(f"{url}/pause").json()
    assert (paused["phase"], paused["message"]) == ("Paused", "paused by admin")
    assert api.client.post(f"{url}/pause").json()["phase"] == "Paused"  # idempotent
    assert api.client.post(f"{url}/resume").json()["phase"] == "Running"
    assert api.client.post(f"{url}/abort").json()["phase"] == "Aborted"
    refused = api.client.post(f"{url}/resume")
    assert_problem(refused, 409, "it is Aborted, which is final", None)


def test_an_unknown_rollout_is_a_404(api: Api) -> None:
    for method, path in [
        ("GET", "/api/v1/rollouts/rollout-nothere0"),
        ("POST", "/api/v1/rollouts/rollout-nothere0/pause"),
        ("POST", "/api/v1/rollouts/rollout-nothere0/resume"),
        ("POST", "/api/v1/rollouts/rollout-nothere0/abort"),
    ]:
        assert_problem(
            api.client.request(method, path), 404, 'rollout "rollout-nothere0" not found', None
        )


MEMBER_CALLS = [
    ("GET", "/api/v1/rollouts", None),
    ("POST", "/api/v1/rollouts", {"engine": "medusa"}),
    ("POST", "/api/v1/rollouts", {"broken": True}),
    ("GET", "/api/v1/rollouts/{id}", None),
    ("POST", "/api/v1/rollouts/{id}/pause", None),
    ("POST", "/api/v1/rollouts/{id}/resume", None),
    ("POST", "/api/v1/rollouts/{id}/abort", None),
]


def test_a_member_gets_the_unknown_path_404_everywhere(api: Api) -> None:
    """Listing, starting (even with a broken body), reading, pausing, resuming, aborting."""
    stores(api, "g", 3)
    rollout = api.client.post("/api/v1/rollouts", json=body()).json()
    member = api.as_user("mia")
    for method, path, payload in MEMBER_CALLS:
        url = path.replace("{id}", rollout["id"])
        answer = member.request(method, url, json=payload)
        unknown = member.request(method, url.replace("/api/v1/", "/api/v1/nothing-"))
        assert answer.status_code == 404, (method, url, answer.text)
        assert answer.json()["detail"] == unknown.json()["detail"].replace("nothing-", "")
    assert api.client.get(f"/api/v1/rollouts/{rollout['id']}").json()["phase"] == "Running"


def test_a_store_a_rollout_drives_refuses_a_persons_version_change_until_it_ends(
    api: Api,
) -> None:
    """Only the rollout changes the version of a store it drives; a person's PATCH of it is a
    409 saying how to end the rollout, and leaves the store as it was."""
    first, _other = stores(api, "g", 2)
    converged_at(api, first, A)  # so that going back to A is what the catalogue allows
    created = api.client.post("/api/v1/rollouts", json=body(waves=[1, "100%"])).json()
    rollouts = SqlRolloutRepository(api.repo.engine)
    upgrade_store(api.repo, rollouts.get(created["id"]), first, Settings())
    driven = api.client.get(f"/api/v1/stores/{first}").json()
    assert (driven["engine_version"], driven["rollout_id"]) == (B, created["id"])

    refused = api.client.patch(
        f"/api/v1/stores/{first}", json={"engine_version": A, "labels": {"group": "h"}}
    )
    assert_problem(refused, 409, f"being upgraded by rollout {created['id']}", None)
    assert f"/api/v1/rollouts/{created['id']}/abort" in refused.json()["detail"]
    assert api.client.get(f"/api/v1/stores/{first}").json() == driven
    # Changes that are not the version's stay the person's to make.
    assert api.client.patch(f"/api/v1/stores/{first}", json={"plan": "medium"}).status_code == 200

    api.client.post(f"/api/v1/rollouts/{created['id']}/abort")
    allowed = api.client.patch(f"/api/v1/stores/{first}", json={"engine_version": A})
    assert allowed.status_code == 200, allowed.text
    assert (allowed.json()["engine_version"], allowed.json()["rollout_id"]) == (A, None)
