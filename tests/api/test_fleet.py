"""``GET /api/v1/fleet``: counts that match the store list, for an admin (every store) and a
member (its own)."""

from __future__ import annotations

from tests.api.conftest import Api


def test_the_fleet_counts_match_the_store_list_for_admins_and_members(api: Api) -> None:
    as_alice = api.as_user("alice")
    api.create("admin-shop")
    api.create("other-shop", plan="medium")
    api.create("alices-shop", client=as_alice, engine="woocommerce")

    fleet = api.client.get("/api/v1/fleet").json()
    listed = api.client.get("/api/v1/stores").json()
    assert fleet["total"] == listed["count"] == 3
    assert fleet["by_phase"] == {"Pending": 3}
    assert fleet["by_engine"] == {"medusa": 2, "woocommerce": 1}
    assert fleet["by_plan"] == {"small": 2, "medium": 1}
    assert fleet["durations"]["sample"] == 0 and fleet["durations"]["p50"] is None
    assert [e["reason"] for e in fleet["recent_events"]] == ["Created"] * 3
    assert fleet["recent_events"][0]["store_name"] == "alices-shop"  # newest first

    mine = as_alice.get("/api/v1/fleet").json()
    assert mine["total"] == as_alice.get("/api/v1/stores").json()["count"] == 1
    assert {e["store_name"] for e in mine["recent_events"]} == {"alices-shop"}


def test_fleet_limits_are_checked(api: Api) -> None:
    answer = api.client.get("/api/v1/fleet", params={"sample": 0})
    assert answer.status_code == 422 and "sample" in answer.text
