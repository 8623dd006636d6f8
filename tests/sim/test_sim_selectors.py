"""Label and field selectors: the parser and matcher, then the same through a list call."""

from __future__ import annotations

import httpx
import pytest
from sim_helpers import namespace

from storeplane.sim.errors import ApiError
from storeplane.sim.store.selectors import (
    labels_match,
    parse_field_selector,
    parse_label_selector,
)

LABELS = {"app": "shop", "tier": "web", "env": "prod"}

CASES = [
    ("app=shop", True, "equality matches the same value"),
    ("app==shop", True, "double equals is equality too"),
    ("app=other", False, "equality rejects another value"),
    ("app!=other", True, "inequality matches another value"),
    ("missing!=x", True, "inequality matches a missing key"),
    ("tier in (web, db)", True, "in matches a listed value"),
    ("tier in (db)", False, "in rejects an unlisted value"),
    ("missing in (x)", False, "in rejects a missing key"),
    ("tier notin (db,cache)", True, "notin matches an unlisted value"),
    ("missing notin (x)", True, "notin matches a missing key"),
    ("env", True, "a bare key requires the key to exist"),
    ("!env", False, "a negated key requires the key to be absent"),
    ("!missing", True, "a negated missing key matches"),
    ("app=shop,tier in (web),!missing", True, "comma joins requirements with AND"),
    ("app=shop,tier=db", False, "one failing requirement fails the whole selector"),
    ("", True, "an empty selector matches everything"),
]


@pytest.mark.parametrize(
    ("selector", "expected"),
    [(s, e) for s, e, _ in CASES],
    ids=[why for _, _, why in CASES],
)
def test_label_selector(selector: str, expected: bool) -> None:
    assert labels_match(parse_label_selector(selector), LABELS) is expected


@pytest.mark.parametrize(
    "selector",
    ["app in web", "=value", "a b c", "app in (x"],
    ids=[
        "in without parentheses is refused",
        "a missing key is refused",
        "stray words are refused",
        "an unclosed set is refused",
    ],
)
def test_malformed_label_selector_is_a_bad_request(selector: str) -> None:
    with pytest.raises(ApiError) as info:
        parse_label_selector(selector)
    assert info.value.code == 400


def test_unknown_field_selector_is_a_bad_request() -> None:
    with pytest.raises(ApiError) as info:
        parse_field_selector("spec.nodeName=x")
    assert info.value.code == 400


def test_selectors_filter_a_list(http: httpx.Client) -> None:
    namespace(http, "ns1")
    for name, labels in (
        ("a", {"app": "shop", "tier": "web"}),
        ("b", {"app": "shop", "tier": "db"}),
        ("c", {"app": "blog"}),
    ):
        http.post(
            "/api/v1/namespaces/ns1/configmaps", json={"metadata": {"name": name, "labels": labels}}
        )

    def names(**params: str) -> list[str]:
        body = http.get("/api/v1/namespaces/ns1/configmaps", params=params).json()
        return [i["metadata"]["name"] for i in body["items"]]

    assert names(labelSelector="app=shop") == ["a", "b"]
    assert names(labelSelector="tier notin (web)") == ["b", "c"]
    assert names(labelSelector="!tier") == ["c"]
    assert names(fieldSelector="metadata.name=b") == ["b"]
    assert names(fieldSelector="metadata.name!=b", labelSelector="app") == ["a", "c"]
    assert names(fieldSelector="metadata.namespace=elsewhere") == []
    bad = http.get("/api/v1/namespaces/ns1/configmaps", params={"labelSelector": "app in"})
    assert bad.status_code == 400
    assert bad.json()["kind"] == "Status"
