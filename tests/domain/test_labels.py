"""Label syntax (Kubernetes' rules) and ``key=value`` selector terms."""

from __future__ import annotations

import pytest

from storeplane.domain.errors import InvalidRequestError
from storeplane.domain.labels import matches, parse_terms, validate_labels


@pytest.mark.parametrize(
    "labels",
    [
        {"tier": "gold"},
        {"example.com/team": "checkout"},
        {"app.kubernetes.io/part-of": "fleet-1"},
        {"Region": "EU_west.1"},
        {"empty": ""},
        {"k": "v" * 63},
        {"a" * 63: "x"},
        {},
    ],
    ids=[
        "a plain key and value",
        "a key with a DNS prefix",
        "a well-known Kubernetes prefix",
        "upper case, underscores and dots inside",
        "an empty value",
        "a value of 63 characters",
        "a key name of 63 characters",
        "no labels at all",
    ],
)
def test_valid_labels_are_accepted(labels: dict[str, str]) -> None:
    assert validate_labels(labels) == labels


@pytest.mark.parametrize(
    ("labels", "field", "message"),
    [
        ({"": "x"}, "labels.", "a label key must not be empty"),
        ({"-tier": "x"}, "labels.-tier", "must begin and end with a letter or digit"),
        ({"tier": "gold!"}, "labels.tier", "the value of label 'tier' may hold only"),
        ({"tier": "v" * 64}, "labels.tier", "at most 63 characters (got 64)"),
        ({"a" * 64: "x"}, "labels." + "a" * 64, "at most 63 characters (got 64)"),
        ({"/tier": "x"}, "labels./tier", "has an empty prefix"),
        ({"Example.com/tier": "x"}, "labels.Example.com/tier", "lower-case DNS subdomain"),
        ({"example.com/": "x"}, "labels.example.com/", "has no name after its prefix"),
        ({"storeplane.io/id": "x"}, "labels.storeplane.io/id", "which storeplane keeps"),
        ({"a/b/c": "x"}, "labels.a/b/c", "lower-case DNS subdomain"),
        ({f"k{i}": "v" for i in range(33)}, "labels", "at most 32 labels (got 33)"),
    ],
    ids=[
        "an empty key",
        "a key starting with a dash",
        "a value with a punctuation mark",
        "a value of 64 characters",
        "a key name of 64 characters",
        "a slash with no prefix",
        "an upper-case prefix",
        "a prefix with no name",
        "the reserved storeplane.io prefix",
        "two slashes",
        "more than 32 labels",
    ],
)
def test_invalid_labels_name_the_rule_they_break(
    labels: dict[str, str], field: str, message: str
) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        validate_labels(labels)
    assert message in caught.value.message
    assert caught.value.field == field


@pytest.mark.parametrize(
    ("terms", "wanted"),
    [
        (["tier=gold"], {"tier": "gold"}),
        (["tier=gold", "example.com/team=a"], {"tier": "gold", "example.com/team": "a"}),
        (["tier="], {"tier": ""}),
        (["tier=gold", "tier=gold"], {"tier": "gold"}),
    ],
    ids=["one term", "two terms, both must hold", "an empty value", "the same term twice"],
)
def test_terms_parse_into_one_mapping(terms: list[str], wanted: dict[str, str]) -> None:
    assert parse_terms(terms) == wanted


@pytest.mark.parametrize(
    ("terms", "message"),
    [
        (["tier"], "label must be key=value, e.g. tier=gold (got 'tier')"),
        (["tier=gold", "tier=silver"], "asks for tier=gold and tier=silver"),
        (["=gold"], "a label key must not be empty"),
        (["tier=a=b"], "the value of label 'tier' may hold only"),
    ],
    ids=["a term without '='", "one key with two values", "no key", "a value holding '='"],
)
def test_bad_terms_are_refused(terms: list[str], message: str) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        parse_terms(terms)
    assert message in caught.value.message


def test_a_selector_matches_when_every_label_is_carried() -> None:
    labels = {"tier": "gold", "region": "eu"}
    assert matches(labels, {})
    assert matches(labels, {"tier": "gold"})
    assert not matches(labels, {"tier": "gold", "region": "us"})
    assert not matches(labels, {"team": "a"})
