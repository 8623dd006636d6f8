"""``/api/v1/users`` and ``/api/v1/tokens``: an admin lists users, creates a member, sets its
store limit, issues a token (shown once) and revokes it; a member gets the answer of a path
that does not exist for every one of them. On SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from tests.api.conftest import Api

MEMBER_PATHS = [
    ("GET", "/api/v1/users", None),
    ("POST", "/api/v1/users", {"name": "mallory"}),
    ("PATCH", "/api/v1/users/{admin_id}", {"max_live_stores": 100}),
    ("GET", "/api/v1/tokens", None),
    ("POST", "/api/v1/tokens", {"user_id": "{admin_id}", "label": "mine now"}),
    ("DELETE", "/api/v1/tokens/{admin_token_id}", None),
]


def _admin_ids(api: Api) -> tuple[str, str]:
    admin = api.users.user_by_name("admin")
    return admin.id, api.users.tokens(admin.id)[0].id


def test_an_admin_makes_a_member_gives_it_a_token_and_revokes_it(api: Api) -> None:
    created = api.client.post("/api/v1/users", json={"name": "alice", "max_live_stores": 1})
    assert created.status_code == 201, created.text
    alice = created.json()
    assert (alice["role"], alice["store_limit"], alice["live_stores"]) == ("member", 1, 0)

    issued = api.client.post("/api/v1/tokens", json={"user_id": alice["id"], "label": "laptop"})
    assert issued.status_code == 201, issued.text
    token = issued.json()
    assert token["value"].startswith("sp_") and token["user_name"] == "alice" and token["active"]
    listed = api.client.get("/api/v1/tokens", params={"user_id": alice["id"]}).json()
    assert [t["id"] for t in listed["items"]] == [token["id"]]
    assert "value" not in listed["items"][0]  # never shown again

    as_alice = api.client_for(token["value"])
    api.create("alices-shop", client=as_alice)
    refused = as_alice.post("/api/v1/stores", json={"name": "second-shop", "engine": "medusa"})
    assert refused.status_code == 403  # her limit of 1

    raised = api.client.patch(f"/api/v1/users/{alice['id']}", json={"max_live_stores": 2})
    assert raised.status_code == 200 and raised.json()["live_stores"] == 1
    api.create("second-shop", client=as_alice)

    revoked = api.client.delete(f"/api/v1/tokens/{token['id']}")
    assert revoked.status_code == 200 and revoked.json()["active"] is False
    assert as_alice.get("/api/v1/stores").status_code == 401
    again = api.client.delete(f"/api/v1/tokens/{token['id']}")
    assert again.json()["revoked_at"] == revoked.json()["revoked_at"]  # idempotent

    users = api.client.get("/api/v1/users").json()
    by_name = {u["name"]: u for u in users["items"]}
    assert by_name["alice"]["active_tokens"] == 0 and by_name["alice"]["live_stores"] == 2
    assert by_name["admin"]["store_limit"] is None


@pytest.mark.parametrize(
    ("method", "path", "body"),
    MEMBER_PATHS,
    ids=[f"a member's {m} {p.split('{')[0]} is the unknown-path 404" for m, p, _ in MEMBER_PATHS],
)
def test_a_member_learns_nothing_about_accounts(
    api: Api, method: str, path: str, body: dict[str, object] | None
) -> None:
    admin_id, admin_token_id = _admin_ids(api)
    as_member = api.as_user("bob")
    fill = {"admin_id": admin_id, "admin_token_id": admin_token_id}
    url = path.format(**fill)
    payload = {
        k: str(v).format(**fill) if isinstance(v, str) else v for k, v in (body or {}).items()
    }
    answer = as_member.request(method, url, json=payload if body is not None else None)
    unknown = as_member.request(method, url.replace("/api/v1/", "/api/v1/nothing-"))
    assert answer.status_code == 404
    assert answer.json()["detail"] == unknown.json()["detail"].replace("/nothing-", "/")
    assert api.client.get(f"/api/v1/tokens/{admin_token_id}").status_code in (404, 405)
    assert api.users.user_by_id(admin_id).max_live_stores is None  # nothing changed
    assert api.users.tokens(admin_id)[0].active


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "says"),
    [
        ("POST", "/api/v1/users", {"name": "admin"}, 409, "already exists"),
        ("POST", "/api/v1/users", {"name": "Bad Name"}, 422, "lower-case"),
        ("POST", "/api/v1/users", {"name": "carol", "max_live_stores": -1}, 422, "max_live_stores"),
        ("PATCH", "/api/v1/users/user-nosuchuser", {"max_live_stores": 3}, 404, "no user"),
        ("POST", "/api/v1/tokens", {"user_id": "nobody"}, 404, "no user"),
        ("DELETE", "/api/v1/tokens/tok-nosuchtokn", None, 404, "no token"),
    ],
    ids=[
        "a taken name is a 409",
        "a name against the rule is a 422 saying the rule",
        "a negative limit is a 422",
        "an unknown user's limit is a 404",
        "a token for nobody is a 404",
        "revoking an unknown token is a 404",
    ],
)
def test_bad_account_requests_are_refused_in_words(
    api: Api, method: str, path: str, body: dict[str, object] | None, status: int, says: str
) -> None:
    answer = api.client.request(method, path, json=body)
    assert answer.status_code == status, answer.text
    assert says in answer.text
