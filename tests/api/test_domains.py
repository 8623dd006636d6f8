"""``PATCH /api/v1/stores/{id}`` with ``domains``: validation (422 naming the rule), a new
generation and one event, each domain ``Pending`` until the reconciler sees it, and a domain
held by another live store is a 409 — decided by the database, also under a race."""

from __future__ import annotations

import threading

import pytest

from storeplane.domain.store import Phase
from tests.api.conftest import Api
from tests.api.test_stores import assert_problem, reconcile


def _patch(api: Api, store_id: object, domains: list[object]) -> object:
    return api.client.patch(f"/api/v1/stores/{store_id}", json={"domains": domains})


def test_domains_are_set_with_a_new_generation_and_one_event(api: Api) -> None:
    store = api.create()
    reconcile(api.repo, str(store["id"]), phase=Phase.READY, observed_generation=1)
    response = api.client.patch(
        f"/api/v1/stores/{store['id']}", json={"domains": ["Shop.Example.com", "www.example.org"]}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["generation"], body["phase"]) == (2, "Updating")
    assert [(d["name"], d["status"]) for d in body["domains"]] == [
        ("shop.example.com", "Pending"),
        ("www.example.org", "Pending"),
    ]
    again = api.client.patch(
        f"/api/v1/stores/{store['id']}", json={"domains": ["shop.example.com", "www.example.org"]}
    )
    assert again.json()["generation"] == 2  # the same list changes nothing
    api.client.patch(f"/api/v1/stores/{store['id']}", json={"domains": ["www.example.org"]})
    events = api.client.get(f"/api/v1/stores/{store['id']}/events").json()["items"]
    changes = [e["message"] for e in events if e["reason"] == "DomainsChanged"]
    assert len(changes) == 2
    assert "added shop.example.com, www.example.org" in changes[0]
    assert "removed shop.example.com" in changes[1]


@pytest.mark.parametrize(
    ("domains", "detail"),
    [
        (["*.example.com"], "wildcards are not allowed"),
        (["203.0.113.7"], "IP address"),
        (["shop.shops.example"], "under the platform's own domain shops.example"),
        (["a.example.com", "a.example.com"], "listed twice"),
        (["bad_name.example.com"], "RFC 1123"),
        (["x" * 64 + ".example.com"], "at most 63"),
        ([f"s{i}.example.com" for i in range(21)], "at most 20"),
        ([7], "domains.0"),
    ],
    ids=[
        "a wildcard",
        "an IP address",
        "a host under the platform's base domain",
        "a domain twice",
        "an underscore",
        "a label longer than 63",
        "more than twenty",
        "a number",
    ],
)
def test_invalid_domains_are_422_and_nothing_changes(
    api: Api, domains: list[object], detail: str
) -> None:
    store = api.create()
    response = _patch(api, store["id"], domains)
    assert response.status_code == 422, response.text  # type: ignore[attr-defined]
    problem = response.json()  # type: ignore[attr-defined]
    assert detail in problem["detail"] or any(detail in str(e) for e in problem["errors"])
    assert problem["errors"][0]["field"].startswith("domains")
    assert api.rows() == (1, 1)


def test_a_domain_of_another_live_store_is_a_409_until_it_is_deleted(api: Api) -> None:
    first, second = api.create("first-shop"), api.create("second-shop")
    assert _patch(api, first["id"], ["shop.example.com"]).status_code == 200  # type: ignore[attr-defined]
    taken = _patch(api, second["id"], ["other.example.com", "shop.example.com"])
    assert_problem(taken, 409, 'the domain "shop.example.com" is already used', "domains")
    assert api.client.get(f"/api/v1/stores/{second['id']}").json()["domains"] == []
    # Still taken while the first store is being deleted (its Ingress may still serve it) ...
    api.client.delete(f"/api/v1/stores/{first['id']}")
    assert _patch(api, second["id"], ["shop.example.com"]).status_code == 409  # type: ignore[attr-defined]
    # ... and free once it is Deleted.
    reconcile(api.repo, str(first["id"]), phase=Phase.DELETED)
    assert _patch(api, second["id"], ["shop.example.com"]).status_code == 200  # type: ignore[attr-defined]


def test_a_removed_domain_is_free_for_another_store(api: Api) -> None:
    first, second = api.create("first-shop"), api.create("second-shop")
    _patch(api, first["id"], ["shop.example.com"])
    _patch(api, first["id"], [])
    assert _patch(api, second["id"], ["shop.example.com"]).status_code == 200  # type: ignore[attr-defined]


def test_concurrent_claims_of_one_domain_admit_exactly_one(api: Api) -> None:
    stores = [api.create(f"race-shop-{i}") for i in range(6)]
    barrier = threading.Barrier(len(stores))
    codes: list[int] = []

    def claim(store_id: object) -> None:
        client = api.client_for(api.admin_token)
        barrier.wait()
        response = client.patch(
            f"/api/v1/stores/{store_id}", json={"domains": ["race.example.com"]}
        )
        codes.append(response.status_code)

    threads = [threading.Thread(target=claim, args=(s["id"],)) for s in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(codes) == [200] + [409] * (len(stores) - 1)
    owners = [s["id"] for s in api.client.get("/api/v1/stores").json()["items"] if s["domains"]]
    assert len(owners) == 1


def test_domains_at_create_are_refused_rather_than_dropped(api: Api) -> None:
    # A create that took domains would have to claim them in the same transaction; until it
    # does, saying so beats a store made without the domains its creator asked for.
    response = api.client.post(
        "/api/v1/stores", json={"name": "with-domain", "engine": "medusa", "domains": ["a.b.com"]}
    )
    assert response.status_code == 422, response.text
    assert "domains" in response.text
    assert api.client.get("/api/v1/stores", params={"q": "with-domain"}).json()["count"] == 0
