"""``/api/v1/stores`` end to end through the ASGI app, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import pytest

from storeplane.db import SqlStoreRepository
from storeplane.domain.store import Phase
from tests.api.conftest import MAX_BYTES, Api

LATER = datetime.now(UTC) + timedelta(days=1)
PROBLEM = "application/problem+json"


def reconcile(repo: SqlStoreRepository, store_id: str, **status: Any) -> None:
    """Save status as the reconciler would (lease, save, release)."""
    claimed = repo.claim_due(owner="r", now=LATER, lease=timedelta(seconds=30), limit=100)
    (store,) = [s for s in claimed if s.id == store_id]
    assert repo.save_status(replace(store, **status), owner="r")
    for other in claimed:
        repo.release(other.id, owner="r")


def assert_problem(response: Any, status: int, detail_part: str, field: str | None) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    problem = response.json()
    assert problem["type"] == "about:blank"
    assert problem["status"] == status
    assert problem["title"]
    assert detail_part in problem["detail"]
    if field is not None:
        assert field in [e["field"] for e in problem["errors"]]


class TestCreate:
    def test_create_answers_202_with_every_field_and_a_location(self, api: Api) -> None:
        response = api.client.post(
            "/api/v1/stores", json={"name": "acme-shop", "engine": "woocommerce", "plan": "large"}
        )
        assert response.status_code == 202
        body = response.json()
        assert response.headers["location"] == f"/api/v1/stores/{body['id']}"
        assert set(body) == {
            "id", "name", "engine", "plan", "namespace", "phase", "conditions", "url",
            "generation", "observed_generation", "created_at", "updated_at", "deleted_at",
            "last_error", "workload_runtime", "labels", "rollout_id",
            "suspended", "suspended_at", "domains",
            "engine_version",
            "running_engine_version", "managed_by", "final_backup", "restore",
        }  # fmt: skip
        assert body["name"] == "acme-shop"
        assert (body["engine"], body["plan"], body["phase"]) == ("woocommerce", "large", "Pending")
        assert body["namespace"] == body["id"]
        assert body["url"] == f"http://{body['id']}.shops.example"
        assert (body["generation"], body["observed_generation"]) == (1, 0)
        assert body["deleted_at"] is None and body["last_error"] is None
        assert body["workload_runtime"] is None  # not known until the store first answers
        # No version asked for: the catalogue's default; none runs until the store converged.
        assert (body["engine_version"], body["running_engine_version"]) == ("6", None)
        assert body["managed_by"] is None  # made through the API, not by a Store object
        assert body["created_at"].endswith("Z") or body["created_at"].endswith("+00:00")
        assert [c["type"] for c in body["conditions"]] == [
            "NamespaceReady", "PoliciesApplied", "WorkloadsApplied", "WorkloadsReady",
            "StoreReachable", "Ready",
        ]  # fmt: skip
        assert set(body["conditions"][0]) == {
            "type", "status", "reason", "message", "last_transition_time", "observed_generation",
        }  # fmt: skip
        assert api.client.get(response.headers["location"]).json() == body
        assert api.woken == [body["id"]]

    def test_the_plan_defaults_to_small(self, api: Api) -> None:
        assert api.create()["plan"] == "small"

    def test_a_taken_name_is_409_until_that_store_is_deleted(self, api: Api) -> None:
        first = api.create("acme")
        taken = api.client.post("/api/v1/stores", json={"name": "acme", "engine": "medusa"})
        assert_problem(taken, 409, 'a store named "acme" already exists', "name")
        assert api.client.delete(f"/api/v1/stores/{first['id']}").status_code == 202
        still = api.client.post("/api/v1/stores", json={"name": "acme", "engine": "medusa"})
        assert_problem(still, 409, "already exists", "name")
        reconcile(api.repo, str(first["id"]), phase=Phase.DELETED, deleted_at=LATER)
        assert api.create("acme")["id"] != first["id"]

    @pytest.mark.parametrize(
        ("body", "status", "field", "detail"),
        [
            (
                {"name": "Acme", "engine": "medusa"},
                422,
                "name",
                "name must be a lower-case DNS label",
            ),
            ({"name": "ab", "engine": "medusa"}, 422, "name", "3 to 40 characters long (got 2)"),
            ({"name": 12, "engine": "medusa"}, 422, "name", "name: expected a string"),
            (
                {"name": "acme", "engine": "magento"},
                422,
                "engine",
                'engine: must be one of medusa, woocommerce (got "magento")',
            ),
            (
                {"name": "acme", "engine": "medusa", "plan": "huge"},
                422,
                "plan",
                'plan: must be one of small, medium, large (got "huge")',
            ),
            (
                {"name": "acme", "engine": "medusa", "color": "red"},
                422,
                "body",
                'body: unknown field "color"',
            ),
            ({"engine": "medusa"}, 422, "name", "name: is required"),
            (["acme"], 422, "body", "expected a JSON object"),
            (
                {"name": "store-xbw4br7o", "engine": "medusa"},
                422,
                "name",
                "name must not look like a store id (store- and 8 letters or digits, got "
                "'store-xbw4br7o'): ids and names are both accepted wherever a store is named",
            ),
        ],
        ids=[
            "an upper-case name is refused with the domain's rule",
            "a too short name is refused",
            "a number for a name is refused",
            "an unknown engine is refused listing the known ones",
            "an unknown plan is refused listing the known ones",
            "an unknown field is refused",
            "a missing name is refused",
            "a body that is not an object is refused",
            "a name of the id form is refused saying why",
        ],
    )
    def test_invalid_bodies_are_refused_and_nothing_is_written(
        self, api: Api, body: Any, status: int, field: str, detail: str
    ) -> None:
        response = api.client.post("/api/v1/stores", json=body)
        assert_problem(response, status, detail, field)
        assert api.rows() == (0, 0)
        assert api.woken == []

    @pytest.mark.parametrize(
        ("content", "status", "detail"),
        [
            (lambda: b'{"name": "acme",', 400, "not valid JSON"),
            (lambda: b"", 422, "body: is required"),
            (lambda: b"x" * (MAX_BYTES + 1), 413, f"larger than the limit of {MAX_BYTES} bytes"),
            (lambda: iter([b" " * 1024] * 8), 413, f"larger than the limit of {MAX_BYTES} bytes"),
        ],
        ids=[
            "malformed json is a 400",
            "an empty body is a 422",
            "a body over the limit is a 413 before it is parsed",
            "a chunked body over the limit is a 413 too",
        ],
    )
    def test_unusable_bodies_are_refused_and_nothing_is_written(
        self, api: Api, content: Any, status: int, detail: str
    ) -> None:
        response = api.client.post(
            "/api/v1/stores", content=content(), headers={"content-type": "application/json"}
        )
        assert_problem(response, status, detail, None)
        assert api.rows() == (0, 0)

    def test_concurrent_creates_of_one_name_admit_exactly_one(self, api: Api) -> None:
        barrier = threading.Barrier(8)
        codes: list[int] = []

        def post() -> None:
            client = api.client_for(api.admin_token)
            barrier.wait()
            response = client.post("/api/v1/stores", json={"name": "race", "engine": "medusa"})
            codes.append(response.status_code)

        threads = [threading.Thread(target=post) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(codes) == [202] + [409] * 7
        assert api.rows() == (1, 1)


class TestList:
    def test_pages_and_filters(self, api: Api) -> None:
        ids = [api.create(f"shop-{i}")["id"] for i in range(5)]
        api.create("other-store")
        first = api.client.get("/api/v1/stores", params={"q": "SHOP", "limit": 2}).json()
        assert first["count"] == 5 and len(first["items"]) == 2
        seen = [s["id"] for s in first["items"]]
        cursor = first["next_cursor"]
        while cursor:
            page = api.client.get(
                "/api/v1/stores", params={"q": "shop", "limit": 2, "cursor": cursor}
            ).json()
            seen += [s["id"] for s in page["items"]]
            cursor = page["next_cursor"]
        assert sorted(seen) == sorted(ids) and len(seen) == 5
        api.client.delete(f"/api/v1/stores/{ids[0]}")
        deleting = api.client.get("/api/v1/stores", params={"phase": "Deleting"}).json()
        assert [s["id"] for s in deleting["items"]] == [ids[0]]

    @pytest.mark.parametrize(
        ("params", "field", "detail"),
        [
            ({"limit": 0}, "limit", "limit: must be greater than or equal to 1"),
            ({"limit": 500}, "limit", "limit: must be less than or equal to 200"),
            ({"limit": "many"}, "limit", "limit: expected an integer"),
            ({"phase": "Done"}, "phase", "phase: must be one of Pending, Provisioning"),
            ({"cursor": "bogus"}, "cursor", "cursor is not one this server handed out"),
        ],
        ids=[
            "a zero limit is refused",
            "a limit over 200 is refused",
            "a limit that is not a number is refused",
            "an unknown phase is refused",
            "a forged cursor is refused",
        ],
    )
    def test_bad_query_parameters_are_refused(
        self, api: Api, params: dict[str, Any], field: str, detail: str
    ) -> None:
        response = api.client.get("/api/v1/stores", params=params)
        assert_problem(response, 422, detail, field)

    @pytest.mark.parametrize(
        ("q", "found"),
        [
            ("\x00", "U+0000 at position 0"),
            ("a\x00zzz", "U+0000 at position 1"),
            ("shop\n", "U+000A at position 4"),
            ("\x1b[2J", "U+001B at position 0"),
            ("\x7f", "U+007F at position 0"),
            ("\x85", "U+0085 at position 0"),
        ],
        ids=[
            "a lone NUL is refused instead of listing every store",
            "a NUL inside is refused instead of matching what precedes it",
            "a newline is refused",
            "an escape sequence is refused",
            "DEL is refused",
            "a C1 control character is refused",
        ],
    )
    def test_control_characters_in_the_search_are_refused(
        self, api: Api, q: str, found: str
    ) -> None:
        api.create("a-shop")
        response = api.client.get("/api/v1/stores", params={"q": q})
        assert_problem(response, 422, f"q must not contain control characters (found {found})", "q")
        # Printable text still searches, any case.
        assert api.client.get("/api/v1/stores", params={"q": "A-S"}).json()["count"] == 1

    @pytest.mark.parametrize(
        "store_id",
        ["store-\x00", "store-abcd123\x00", "nothing", "store-front"],
        ids=[
            "an id with a NUL",
            "an id-length text ending in NUL",
            "a word",
            "a name in place of the id",
        ],
    )
    def test_a_store_id_that_is_not_of_the_id_form_is_a_404(self, api: Api, store_id: str) -> None:
        api.create("store-front")
        for method, suffix in [("GET", ""), ("GET", "/events"), ("DELETE", "")]:
            response = api.client.request(method, f"/api/v1/stores/{quote(store_id)}{suffix}")
            assert_problem(response, 404, "not found", None)


class TestReadAndChange:
    def test_an_unknown_store_is_a_404_problem(self, api: Api) -> None:
        for method, path in [
            ("GET", "/api/v1/stores/store-nothere0"),
            ("PATCH", "/api/v1/stores/store-nothere0"),
            ("DELETE", "/api/v1/stores/store-nothere0"),
            ("POST", "/api/v1/stores/store-nothere0/retry"),
            ("GET", "/api/v1/stores/store-nothere0/events"),
        ]:
            response = api.client.request(method, path, json={"plan": "large"})
            assert_problem(response, 404, 'store "store-nothere0" not found', None)

    def test_patch_makes_a_new_generation_and_a_ready_store_updating(self, api: Api) -> None:
        store = api.create()
        reconcile(api.repo, str(store["id"]), phase=Phase.READY, observed_generation=1)
        response = api.client.patch(f"/api/v1/stores/{store['id']}", json={"plan": "medium"})
        assert response.status_code == 200
        body = response.json()
        assert (body["plan"], body["generation"], body["phase"]) == ("medium", 2, "Updating")
        assert body["observed_generation"] == 1
        assert api.woken == [store["id"], store["id"]]

    @pytest.mark.parametrize(
        ("body", "field", "detail"),
        [
            ({"plan": "huge"}, "plan", "plan: must be one of small, medium, large"),
            ({"plan": "large", "name": "new"}, "body", 'body: unknown field "name"'),
            (
                {},
                "body",
                "the body changes nothing: give at least one of plan, engine_version, labels, domains",
            ),
        ],
        ids=["an unknown plan", "renaming is not possible", "an empty change"],
    )
    def test_patch_refuses_invalid_changes(
        self, api: Api, body: dict[str, Any], field: str, detail: str
    ) -> None:
        store = api.create()
        response = api.client.patch(f"/api/v1/stores/{store['id']}", json=body)
        assert_problem(response, 422, detail, field)
        assert api.rows() == (1, 1)

    def test_delete_is_idempotent_and_records_one_event(self, api: Api) -> None:
        store = api.create()
        for _ in range(2):
            response = api.client.delete(f"/api/v1/stores/{store['id']}")
            assert response.status_code == 202
            assert response.json()["phase"] == "Deleting"
        events = api.client.get(f"/api/v1/stores/{store['id']}/events").json()
        assert [e["reason"] for e in events["items"]] == ["Created", "DeletionRequested"]

    def test_patching_a_deleting_store_is_a_409(self, api: Api) -> None:
        store = api.create()
        api.client.delete(f"/api/v1/stores/{store['id']}")
        response = api.client.patch(f"/api/v1/stores/{store['id']}", json={"plan": "large"})
        assert_problem(response, 409, "cannot change the plan", None)

    def test_retry_resets_a_failed_store(self, api: Api) -> None:
        store = api.create()
        reconcile(api.repo, str(store["id"]), phase=Phase.FAILED, last_error="quota exceeded")
        response = api.client.post(f"/api/v1/stores/{store['id']}/retry")
        assert response.status_code == 202
        assert response.json()["phase"] == "Provisioning"
        events = api.client.get(f"/api/v1/stores/{store['id']}/events").json()["items"]
        assert events[-1]["reason"] == "RetryRequested"

    def test_events_read_oldest_first_with_the_actor(self, api: Api) -> None:
        store = api.create()
        api.client.patch(f"/api/v1/stores/{store['id']}", json={"plan": "large"})
        api.client.delete(f"/api/v1/stores/{store['id']}")
        body = api.client.get(f"/api/v1/stores/{store['id']}/events").json()
        assert body["count"] == 3
        assert [e["reason"] for e in body["items"]] == [
            "Created",
            "UpdateRequested",
            "DeletionRequested",
        ]
        assert {e["actor"] for e in body["items"]} == {"admin"}
        assert [e["generation"] for e in body["items"]] == [1, 2, 2]
        assert set(body["items"][0]) == {
            "id", "time", "type", "reason", "message", "actor", "generation",
        }  # fmt: skip

    def test_a_deleted_store_stays_readable_as_a_tombstone(self, api: Api) -> None:
        store = api.create()
        api.client.delete(f"/api/v1/stores/{store['id']}")
        reconcile(api.repo, str(store["id"]), phase=Phase.DELETED, deleted_at=LATER)
        body = api.client.get(f"/api/v1/stores/{store['id']}").json()
        assert body["phase"] == "Deleted" and body["deleted_at"] is not None
        assert api.client.get("/api/v1/stores").json()["count"] == 0
        tombstones = api.client.get("/api/v1/stores", params={"phase": "Deleted"}).json()
        assert [s["id"] for s in tombstones["items"]] == [store["id"]]
        everything = api.client.get("/api/v1/stores", params={"include_deleted": "true"}).json()
        assert [s["id"] for s in everything["items"]] == [store["id"]]
        assert api.client.delete(f"/api/v1/stores/{store['id']}").status_code == 202
        assert_problem(
            api.client.post(f"/api/v1/stores/{store['id']}/retry"), 409, "it is deleted", None
        )
        assert len(api.client.get(f"/api/v1/stores/{store['id']}/events").json()["items"]) == 2


class TestReadPathBytes:
    """GET one and a page answer the bytes of ``StorePublic`` (fastjson.py), cached per
    unchanged store, and a change shows on the very next read."""

    def test_get_and_list_answer_exactly_the_store_public_shape(self, api: Api) -> None:
        from storeplane.api.schemas import StorePublic

        created = api.create("bytes-shop")
        store = api.repo.get(str(created["id"]))
        expected = StorePublic.from_domain(store).model_dump(mode="json")
        one = api.client.get(f"/api/v1/stores/{store.id}")
        assert one.headers["content-type"] == "application/json"
        assert one.json() == expected
        page = api.client.get("/api/v1/stores").json()
        assert page == {"items": [expected], "count": 1, "next_cursor": None}

    def test_a_change_is_seen_on_the_next_read(self, api: Api) -> None:
        created = api.create("changing-shop")
        url = f"/api/v1/stores/{created['id']}"
        assert api.client.get(url).json()["plan"] == "small"
        assert api.client.patch(url, json={"plan": "medium"}).status_code == 200
        assert api.client.get(url).json()["plan"] == "medium"
        assert api.client.get("/api/v1/stores").json()["items"][0]["plan"] == "medium"


@pytest.mark.parametrize(
    "body",
    [
        {"domains": ["shop.example.com"], "labels": {"team": "a"}, "engine_version": "1.0"},
        {"labels": {"team": "a"}, "plan": "medium", "domains": ["*.example.com"]},
    ],
    ids=[
        "domains and labels with a version the catalogue refuses",
        "labels and a plan with a wildcard domain",
    ],
)
def test_a_patch_refused_for_one_field_changes_none_of_the_others(
    api: Api, body: dict[str, object]
) -> None:
    store = api.create()
    before = api.client.get(f"/api/v1/stores/{store['id']}").json()
    response = api.client.patch(f"/api/v1/stores/{store['id']}", json=body)
    assert response.status_code == 422, response.text
    after = api.client.get(f"/api/v1/stores/{store['id']}").json()
    assert after == before
    assert api.rows() == (1, 1)
