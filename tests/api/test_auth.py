"""Who may do what: tokens on every endpoint, members confined to their own stores, revoked
tokens refused at once, and the abuse limits (live stores per user, request rate,
Idempotency-Key). On SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from storeplane.api.limits import RateLimiter, client_address_key
from storeplane.db import SqlStoreRepository
from storeplane.domain.users import Role
from storeplane.services import auth
from tests.api.conftest import Api, make_api

PROBLEM = "application/problem+json"
STORE = "{store_id}"
CHECK = "check-nothere000"  # stands for {check_id}: a store's check nobody can find
USER = "user-nothere000"  # stands for {user_id}
TOKEN = "tok-nothere0000"  # stands for {token_id}
ROLLOUT = "rollout-nothere0"  # stands for {rollout_id}
BACKUP = "backup-nothere000"  # stands for {backup_id}

# Every operation under /api/v1, with a body that would be accepted. The OpenAPI test below
# fails if an operation is added without being listed here.
ENDPOINTS: list[tuple[str, str, dict[str, Any] | None]] = [
    ("POST", "/api/v1/stores", {"name": "new-shop", "engine": "medusa"}),
    ("GET", "/api/v1/stores", None),
    ("GET", f"/api/v1/stores/{STORE}", None),
    ("PATCH", f"/api/v1/stores/{STORE}", {"plan": "large"}),
    ("DELETE", f"/api/v1/stores/{STORE}", None),
    ("POST", f"/api/v1/stores/{STORE}/retry", None),
    ("POST", f"/api/v1/stores/{STORE}/suspend", None),
    ("POST", f"/api/v1/stores/{STORE}/resume", None),
    ("GET", f"/api/v1/stores/{STORE}/events", None),
    ("POST", f"/api/v1/stores/{STORE}/checks", None),
    ("GET", f"/api/v1/stores/{STORE}/checks", None),
    ("GET", f"/api/v1/stores/{STORE}/checks/{CHECK}", None),
    ("GET", f"/api/v1/stores/{STORE}/logs", None),
    ("GET", f"/api/v1/stores/{STORE}/objects", None),
    ("GET", f"/api/v1/stores/{STORE}/objects/{{kind}}/{{name}}", None),
    ("POST", f"/api/v1/stores/{STORE}/backups", None),
    ("GET", f"/api/v1/stores/{STORE}/backups", None),
    ("GET", f"/api/v1/stores/{STORE}/backups/{BACKUP}", None),
    ("DELETE", f"/api/v1/stores/{STORE}/backups/{BACKUP}", None),
    ("POST", f"/api/v1/stores/{STORE}/restore", {"backup_id": BACKUP}),
    ("GET", "/api/v1/plans", None),
    ("GET", "/api/v1/engines", None),
    ("GET", "/api/v1/fleet", None),
    ("GET", "/api/v1/stream", None),  # only refusals here: a 200 stream stays open
    ("GET", "/api/v1/users", None),
    ("POST", "/api/v1/users", {"name": "new-user"}),
    ("PATCH", f"/api/v1/users/{USER}", {"max_live_stores": 2}),
    ("GET", "/api/v1/tokens", None),
    ("POST", "/api/v1/tokens", {"user_id": USER}),
    ("DELETE", f"/api/v1/tokens/{TOKEN}", None),
    ("POST", "/api/v1/rollouts", {"engine": "medusa", "to_version": "2.21.2"}),
    ("GET", "/api/v1/rollouts", None),
    ("GET", f"/api/v1/rollouts/{ROLLOUT}", None),
    ("POST", f"/api/v1/rollouts/{ROLLOUT}/pause", None),
    ("POST", f"/api/v1/rollouts/{ROLLOUT}/resume", None),
    ("POST", f"/api/v1/rollouts/{ROLLOUT}/abort", None),
]
STORE_ENDPOINTS = [e for e in ENDPOINTS if STORE in e[1]]
IDS = [f"{method} {path}" for method, path, _ in ENDPOINTS]
STORE_IDS = [f"{method} {path}" for method, path, _ in STORE_ENDPOINTS]
PUBLIC = ["/healthz", "/readyz", "/metrics", "/openapi.json", "/docs"]


def call(client: TestClient, endpoint: tuple[str, str, Any], store_id: str) -> Any:
    method, path, body = endpoint
    return client.request(method, path.replace(STORE, store_id), json=body)


def assert_401(response: Any) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["content-type"] == PROBLEM
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert response.json()["detail"]


def test_every_api_operation_is_covered_here(api: Api) -> None:
    document = api.client.get("/openapi.json").json()
    operations = {
        (method.upper(), path)
        for path, ops in document["paths"].items()
        if path.startswith("/api/")
        for method in ops
    }
    placeholders = {
        CHECK: "{check_id}",
        USER: "{user_id}",
        TOKEN: "{token_id}",
        ROLLOUT: "{rollout_id}",
        BACKUP: "{backup_id}",
    }

    def generic(path: str) -> str:
        for literal, placeholder in placeholders.items():
            path = path.replace(literal, placeholder)
        return path

    assert operations == {(m, generic(p)) for m, p, _ in ENDPOINTS}
    for method, path in operations:
        operation = document["paths"][path][method.lower()]
        assert operation["security"] == [{"BearerToken": []}], (method, path)
        assert {"400", "401", "429"} <= set(operation["responses"]), (method, path)


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=IDS)
@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer sp_not-a-real-token", "Bearer nonsense", "Basic YWRtaW46YWRtaW4=", "Bearer "],
    ids=[
        "no token",
        "an unknown token",
        "a token of the wrong shape",
        "basic auth",
        "an empty bearer",
    ],
)
def test_without_a_valid_token_every_endpoint_is_401_and_changes_nothing(
    api: Api, endpoint: tuple[str, str, Any], authorization: str | None
) -> None:
    store = api.create("owned-shop")
    before = api.rows()
    client = TestClient(api.client.app)
    headers = {"Authorization": authorization} if authorization is not None else {}
    method, path, body = endpoint
    response = client.request(
        method, path.replace(STORE, str(store["id"])), json=body, headers=headers
    )
    assert_401(response)
    assert api.rows() == before


class TestAuthenticationComesBeforeTheBody:
    """Items an unauthenticated caller cannot reach: every body problem is a 401 for them."""

    @pytest.fixture
    def roomy(self, migrated_url: str, repo: SqlStoreRepository) -> Iterator[Api]:
        yield from make_api(migrated_url, repo, max_request_bytes=64 * 1024)

    @pytest.mark.parametrize(
        "body",
        [
            b'{"name": "acme",',
            b"[" * 10_000 + b"]" * 10_000,
            b'{"name":"a","name":"b"}',
            b'{"plan": ' + b"9" * 5_000 + b"}",
            b'{"name": "\xff"}',
            b'{"name": "acme", "engine": "medusa"}',
        ],
        ids=[
            "malformed json",
            "a 10,000-level nested body",
            "a duplicate key",
            "a 5,000-digit number",
            "invalid utf-8",
            "a good body",
        ],
    )
    @pytest.mark.parametrize(
        "authorization", [None, "Bearer sp_not-a-real-token"], ids=["no token", "a bad token"]
    )
    def test_a_caller_without_a_valid_token_gets_401_whatever_the_body(
        self, roomy: Api, body: bytes, authorization: str | None
    ) -> None:
        store = roomy.create("owned-shop")
        before = roomy.rows()
        headers = {"content-type": "application/json"}
        if authorization:
            headers["authorization"] = authorization
        client = TestClient(roomy.client.app)
        for method, path in [
            ("POST", "/api/v1/stores"),
            ("PATCH", f"/api/v1/stores/{store['id']}"),
        ]:
            assert_401(client.request(method, path, content=body, headers=headers))
        assert roomy.rows() == before


class TestRepeatedHeaders:
    @pytest.mark.parametrize(
        ("header", "values"),
        [
            ("Authorization", ["first", "second"]),
            ("Authorization", ["first", "first"]),
            ("Idempotency-Key", ["k-1", "k-2"]),
            ("Content-Type", ["application/json", "text/plain"]),
        ],
        ids=[
            "two different valid tokens",
            "the same token twice",
            "two idempotency keys",
            "two content types",
        ],
    )
    def test_a_header_sent_twice_is_a_400_naming_it(
        self, api: Api, header: str, values: list[str]
    ) -> None:
        tokens = {"first": api.admin_token, "second": api.token_for("bob")}
        sent = [(header, tokens.get(v, v)) for v in values]
        if header != "Authorization":
            sent.append(("Authorization", f"Bearer {api.admin_token}"))
        if header == "Authorization":
            sent = [(h, f"Bearer {v}") for h, v in sent]
        client = TestClient(api.client.app)
        for method, path, body in ENDPOINTS:
            response = client.request(
                method, path.replace(STORE, "store-abcd1234"), json=body, headers=sent
            )
            assert response.status_code == 400, (method, path, response.text)
            assert response.headers["content-type"] == PROBLEM
            problem = response.json()
            assert f"the {header} header appears more than once" in problem["detail"]
            assert [e["field"] for e in problem["errors"]] == [header]
        assert api.rows() == (0, 0)


@pytest.mark.parametrize("path", PUBLIC)
def test_health_metrics_and_the_api_description_stay_public(api: Api, path: str) -> None:
    assert TestClient(api.client.app).get(path).status_code == 200


@pytest.mark.parametrize("endpoint", STORE_ENDPOINTS, ids=STORE_IDS)
def test_a_member_gets_404_for_another_members_store_and_changes_nothing(
    api: Api, endpoint: tuple[str, str, Any]
) -> None:
    alice, bob = api.as_user("alice"), api.as_user("bob")
    store = api.create("alices-shop", client=alice)
    before = api.rows()
    response = call(bob, endpoint, str(store["id"]))
    assert response.status_code == 404, response.text
    assert response.json()["detail"] == f'store "{store["id"]}" not found'
    assert api.rows() == before
    assert alice.get(f"/api/v1/stores/{store['id']}").json() == store
    # ... and the answer is the same as for a store that does not exist at all.
    missing = call(bob, endpoint, "store-nothere0")
    assert missing.status_code == 404


def test_a_member_lists_only_its_own_stores_and_an_admin_lists_all(api: Api) -> None:
    alice, bob = api.as_user("alice"), api.as_user("bob")
    mine = api.create("alices-shop", client=alice)
    theirs = api.create("bobs-shop", client=bob)
    admins = api.create("admins-shop")
    for client, expected in [
        (alice, [mine["id"]]),
        (bob, [theirs["id"]]),
        (api.client, [admins["id"], theirs["id"], mine["id"]]),
    ]:
        page = client.get("/api/v1/stores").json()
        assert [s["id"] for s in page["items"]] == expected
        assert page["count"] == len(expected)
    assert bob.get("/api/v1/stores", params={"q": "alice"}).json()["count"] == 0
    # An admin can act on a member's store.
    assert (
        api.client.patch(f"/api/v1/stores/{mine['id']}", json={"plan": "large"}).status_code == 200
    )


def test_each_event_names_the_user_who_acted(api: Api) -> None:
    alice = api.as_user("alice")
    store = api.create("alices-shop", client=alice)
    api.client.patch(f"/api/v1/stores/{store['id']}", json={"plan": "large"})
    alice.delete(f"/api/v1/stores/{store['id']}")
    events = alice.get(f"/api/v1/stores/{store['id']}/events").json()["items"]
    assert [(e["reason"], e["actor"]) for e in events] == [
        ("Created", "alice"),
        ("UpdateRequested", "admin"),
        ("DeletionRequested", "alice"),
    ]
    assert "by alice" in events[0]["message"] and "by admin" in events[1]["message"]


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=IDS)
def test_a_revoked_token_stops_working_at_once(api: Api, endpoint: tuple[str, str, Any]) -> None:
    store = api.create("admins-shop")
    record, value = auth.issue_token(api.users, api.users.user_by_name("admin"), "short-lived")
    client = api.client_for(value)
    assert client.get("/api/v1/stores").status_code == 200
    auth.revoke_token(api.users, record.id)
    response = call(client, endpoint, str(store["id"]))
    assert_401(response)
    assert 'error="invalid_token"' in response.headers["www-authenticate"]
    # Other tokens of the same user keep working.
    assert (
        call(api.client, ("GET", f"/api/v1/stores/{STORE}", None), str(store["id"])).status_code
        == 200
    )


def test_a_token_can_be_revoked_by_its_value_too(api: Api) -> None:
    value = api.token_for("carol")
    client = api.client_for(value)
    assert client.get("/api/v1/plans").status_code == 200
    auth.revoke_token(api.users, value)
    assert_401(client.get("/api/v1/plans"))


def test_only_a_digest_of_each_token_is_stored(api: Api) -> None:
    with api.repo.engine.connect() as connection:
        rows = connection.exec_driver_sql("SELECT token_hash FROM api_tokens").all()
    assert rows and all(len(r[0]) == 64 and api.admin_token not in r[0] for r in rows)
    assert auth.hash_token(api.admin_token) in {r[0] for r in rows}


class TestStoreLimit:
    def test_a_member_cannot_own_more_live_stores_than_allowed(self, api: Api) -> None:
        alice = api.as_user("alice", max_live_stores=2)
        first = api.create("shop-one", client=alice)
        api.create("shop-two", client=alice)
        refused = alice.post("/api/v1/stores", json={"name": "shop-three", "engine": "medusa"})
        assert refused.status_code == 403
        assert refused.headers["content-type"] == PROBLEM
        assert "you already have 2 live stores" in refused.json()["detail"]
        # A store being deleted still counts: its resources are not released yet.
        alice.delete(f"/api/v1/stores/{first['id']}")
        again = alice.post("/api/v1/stores", json={"name": "shop-three", "engine": "medusa"})
        assert again.status_code == 403
        # Other users are not affected; admins have no limit by default.
        api.create("bobs-shop", client=api.as_user("bob"))
        for n in range(7):
            api.create(f"admin-shop-{n}")

    def test_the_default_member_limit_is_the_server_setting(self, api: Api) -> None:
        dave = api.as_user("dave")
        codes = [
            dave.post("/api/v1/stores", json={"name": f"shop-{n}", "engine": "medusa"}).status_code
            for n in range(6)
        ]
        assert codes == [202] * 5 + [403]

    def test_twenty_simultaneous_creates_with_a_limit_of_five_make_exactly_five(
        self, api: Api
    ) -> None:
        token = api.token_for("eve", max_live_stores=5)
        barrier = threading.Barrier(20)
        codes: list[int] = []

        def post(n: int) -> None:
            client = api.client_for(token)
            barrier.wait()
            response = client.post("/api/v1/stores", json={"name": f"race-{n}", "engine": "medusa"})
            codes.append(response.status_code)

        threads = [threading.Thread(target=post, args=(n,)) for n in range(20)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(codes) == [202] * 5 + [403] * 15
        eve = api.users.user_by_name("eve")
        with api.repo.engine.connect() as connection:
            owned = connection.exec_driver_sql(
                f"SELECT count(*) FROM stores WHERE owner_id = '{eve.id}'"
            ).scalar_one()
        assert owned == 5
        assert api.client_for(token).get("/api/v1/stores").json()["count"] == 5


class TestIdempotencyKey:
    def test_the_same_key_and_body_return_the_same_store(self, api: Api) -> None:
        body = {"name": "once-shop", "engine": "medusa"}
        headers = {"Idempotency-Key": "k-123"}
        first = api.client.post("/api/v1/stores", json=body, headers=headers)
        again = api.client.post(
            "/api/v1/stores", json={**body, "plan": "small"}, headers=headers
        )  # the default spelled out is the same request
        assert first.status_code == again.status_code == 202
        assert again.json()["id"] == first.json()["id"]
        assert again.headers["location"] == first.headers["location"]
        assert api.rows() == (1, 1)

    def test_the_same_key_with_another_body_is_a_422(self, api: Api) -> None:
        headers = {"Idempotency-Key": "k-123"}
        api.client.post(
            "/api/v1/stores", json={"name": "once-shop", "engine": "medusa"}, headers=headers
        )
        other = api.client.post(
            "/api/v1/stores", json={"name": "other-shop", "engine": "medusa"}, headers=headers
        )
        assert other.status_code == 422
        assert other.json()["errors"][0]["field"] == "Idempotency-Key"
        assert "already used for a different request" in other.json()["detail"]
        assert api.rows() == (1, 1)

    def test_keys_belong_to_one_user(self, api: Api) -> None:
        headers = {"Idempotency-Key": "same"}
        mine = api.client.post(
            "/api/v1/stores", json={"name": "a-shop", "engine": "medusa"}, headers=headers
        )
        theirs = api.as_user("bob").post(
            "/api/v1/stores", json={"name": "b-shop", "engine": "medusa"}, headers=headers
        )
        assert theirs.status_code == 202 and theirs.json()["id"] != mine.json()["id"]

    def test_concurrent_requests_with_one_key_make_one_store(self, api: Api) -> None:
        barrier = threading.Barrier(8)
        ids: list[str] = []

        def post() -> None:
            client = api.client_for(api.admin_token)
            barrier.wait()
            response = client.post(
                "/api/v1/stores",
                json={"name": "racy-shop", "engine": "medusa"},
                headers={"Idempotency-Key": "one"},
            )
            assert response.status_code == 202, response.text
            ids.append(response.json()["id"])

        threads = [threading.Thread(target=post) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(ids) == 8 and len(set(ids)) == 1
        assert api.rows() == (1, 1)


class TestRateLimit:
    @pytest.fixture
    def limited(self, migrated_url: str, repo: SqlStoreRepository) -> Iterator[Api]:
        yield from make_api(migrated_url, repo, rate_limit_per_second=0.5, rate_limit_burst=3)

    def test_past_the_burst_a_user_gets_429_with_retry_after(self, limited: Api) -> None:
        codes = [limited.client.get("/api/v1/plans").status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        refused = limited.client.get("/api/v1/stores")
        assert refused.status_code == 429
        assert refused.headers["content-type"] == PROBLEM
        assert int(refused.headers["retry-after"]) >= 1
        assert "too many requests" in refused.json()["detail"]
        # Another user has a bucket of its own; health checks are never limited.
        assert limited.as_user("bob").get("/api/v1/plans").status_code == 200
        assert limited.client.get("/healthz").status_code == 200


class TestAnonymousRateLimit:
    """Requests without a valid token are limited by client address (default settings)."""

    @pytest.mark.parametrize(
        "authorization",
        [None, "Bearer sp_not-a-real-token", "Basic YWRtaW46YWRtaW4="],
        ids=["no token", "a bad token", "basic auth"],
    )
    def test_sixty_quick_requests_without_a_valid_token_see_429s(
        self, api: Api, authorization: str | None
    ) -> None:
        headers = {"authorization": authorization} if authorization else {}
        client = TestClient(api.client.app, headers=headers)
        codes = [client.get("/api/v1/stores").status_code for _ in range(60)]
        assert codes[0] == 401 and 429 in codes
        assert set(codes) == {401, 429} and codes.count(401) <= 21
        refused = client.post("/api/v1/stores", json={"name": "x", "engine": "medusa"})
        assert refused.status_code == 429
        assert refused.headers["content-type"] == PROBLEM
        assert int(refused.headers["retry-after"]) >= 1
        assert "too many requests from this address" in refused.json()["detail"]
        # The same address with a valid token keeps its own (per-user) limit.
        assert api.client.get("/api/v1/stores").status_code == 200
        # Another address has a bucket of its own.
        other = TestClient(api.client.app, headers=headers, client=("192.0.2.7", 50000))
        assert other.get("/api/v1/stores").status_code == 401

    def test_the_limit_is_a_setting_and_can_be_turned_off(
        self, migrated_url: str, repo: SqlStoreRepository
    ) -> None:
        for api in make_api(migrated_url, repo, anonymous_rate_limit_per_second=0):
            client = TestClient(api.client.app)
            assert {client.get("/api/v1/plans").status_code for _ in range(60)} == {401}


@pytest.mark.parametrize(
    ("host", "key"),
    [
        ("203.0.113.9", "203.0.113.9"),
        ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff::1", "2001:db8:1:2::/64"),
        ("testclient", "testclient"),
        (None, "unknown"),
    ],
    ids=[
        "an ipv4 address is its own key",
        "an ipv6 address is keyed by its /64",
        "another address in the same /64 shares the key",
        "a name is kept as it is",
        "no address at all is one key",
    ],
)
def test_client_addresses_map_to_rate_limit_keys(host: str | None, key: str) -> None:
    assert client_address_key(host) == key


def test_the_rate_limiter_forgets_the_least_recently_seen_bucket_past_its_size() -> None:
    limiter = RateLimiter(per_second=1, burst=1, clock=lambda: 0.0, max_keys=2)
    assert [limiter.acquire(k) for k in ("a", "b", "a")] == [0.0, 0.0, 1.0]
    assert limiter.acquire("c") == 0.0  # "b" was seen least recently: forgotten
    assert limiter.acquire("a") == 1.0  # "a" is still remembered as empty
    assert limiter.acquire("b") == 0.0


def test_the_rate_limiter_refills_over_time() -> None:
    now = [0.0]
    limiter = RateLimiter(per_second=2, burst=2, clock=lambda: now[0])
    assert [limiter.acquire("u") for _ in range(2)] == [0.0, 0.0]
    assert limiter.acquire("u") == pytest.approx(0.5)
    now[0] += 0.5
    assert limiter.acquire("u") == 0.0
    assert RateLimiter(per_second=0, burst=1).acquire("u") == 0.0


def test_roles_decide_what_a_user_sees(api: Api) -> None:
    admin = api.as_user("root2", Role.ADMIN)
    member_store = api.create("members-shop", client=api.as_user("frank"))
    assert admin.get(f"/api/v1/stores/{member_store['id']}").status_code == 200
