"""Store labels through the API: set at create and PATCH, validated, and ``?label=`` filters,
on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import Api
from tests.api.test_stores import assert_problem


def names(api: Api, query: str, client: Any = None) -> list[str]:
    response = (client or api.client).get(f"/api/v1/stores?{query}")
    assert response.status_code == 200, response.text
    return sorted(item["name"] for item in response.json()["items"])


def test_labels_are_kept_at_create_and_shown(api: Api) -> None:
    store = api.create("gold-shop", labels={"tier": "gold", "example.com/team": "checkout"})
    assert store["labels"] == {"tier": "gold", "example.com/team": "checkout"}
    again = api.client.get(f"/api/v1/stores/{store['id']}").json()
    assert again["labels"] == store["labels"]
    assert api.create("bare-shop")["labels"] == {}


def test_patch_replaces_the_labels_without_a_new_generation(api: Api) -> None:
    store = api.create("gold-shop", labels={"tier": "gold"})
    response = api.client.patch(
        f"/api/v1/stores/{store['id']}", json={"labels": {"tier": "silver", "region": "eu"}}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["labels"] == {"tier": "silver", "region": "eu"}
    assert (body["generation"], body["phase"]) == (1, "Pending")
    # The same labels again change nothing and record nothing.
    api.client.patch(
        f"/api/v1/stores/{store['id']}", json={"labels": {"region": "eu", "tier": "silver"}}
    )
    events = api.client.get(f"/api/v1/stores/{store['id']}/events").json()["items"]
    assert [e["reason"] for e in events] == ["Created", "LabelsChanged"]
    assert events[1]["message"] == (
        "labels changed from {tier=gold} to {region=eu, tier=silver} by admin"
    )
    assert api.woken == [store["id"]]  # labels need no reconcile


def test_patch_can_change_plan_and_labels_together(api: Api) -> None:
    store = api.create("gold-shop")
    body = api.client.patch(
        f"/api/v1/stores/{store['id']}", json={"plan": "medium", "labels": {"tier": "gold"}}
    ).json()
    assert (body["plan"], body["labels"], body["generation"]) == ("medium", {"tier": "gold"}, 2)


@pytest.mark.parametrize(
    ("labels", "field", "detail"),
    [
        ({"tier": "gold!"}, "labels", "the value of label 'tier' may hold only letters"),
        ({"-tier": "x"}, "labels", "label key '-tier' may hold only"),
        ({"storeplane.io/x": "y"}, "labels", "which storeplane keeps"),
        ({"tier": 3}, "labels.tier", "expected a string"),
        (["tier=gold"], "labels", "expected a JSON object"),
    ],
    ids=[
        "a bad value",
        "a bad key",
        "a reserved prefix",
        "a value that is not a string",
        "a list instead of an object",
    ],
)
def test_invalid_labels_are_a_422_naming_the_rule(
    api: Api, labels: Any, field: str, detail: str
) -> None:
    response = api.client.post(
        "/api/v1/stores", json={"name": "bad-shop", "engine": "medusa", "labels": labels}
    )
    assert_problem(response, 422, detail, field)
    store = api.create("good-shop")
    response = api.client.patch(f"/api/v1/stores/{store['id']}", json={"labels": labels})
    assert_problem(response, 422, detail, field)
    assert api.rows() == (1, 1)


def test_the_label_filter_ands_its_terms_and_counts_them(api: Api) -> None:
    api.create("gold-eu", labels={"tier": "gold", "region": "eu"})
    api.create("gold-us", labels={"tier": "gold", "region": "us"})
    api.create("silver-eu", labels={"tier": "silver", "region": "eu"})
    api.create("bare-shop")
    assert names(api, "label=tier=gold") == ["gold-eu", "gold-us"]
    assert names(api, "label=tier=gold&label=region=eu") == ["gold-eu"]
    assert names(api, "label=region=eu&q=silver") == ["silver-eu"]
    assert names(api, "label=tier=bronze") == []
    page = api.client.get("/api/v1/stores?label=region=eu&limit=1").json()
    assert (page["count"], len(page["items"]), page["next_cursor"] is not None) == (2, 1, True)


def test_a_member_filters_only_its_own_stores(api: Api) -> None:
    api.create("admins-gold", labels={"tier": "gold"})
    member = api.as_user("mia")
    api.create("mias-gold", client=member, labels={"tier": "gold"})
    assert names(api, "label=tier=gold", member) == ["mias-gold"]


@pytest.mark.parametrize(
    ("query", "detail"),
    [
        ("label=tier", "label must be key=value, e.g. tier=gold (got 'tier')"),
        ("label=tier=gold&label=tier=silver", "asks for tier=gold and tier=silver"),
        ("label=-x=y", "label key '-x' may hold only"),
    ],
    ids=["a term without a value", "one key with two values", "a bad key"],
)
def test_bad_label_filters_are_a_422(api: Api, query: str, detail: str) -> None:
    assert_problem(api.client.get(f"/api/v1/stores?{query}"), 422, detail, "label")
