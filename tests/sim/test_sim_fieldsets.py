"""managedFields bookkeeping: field paths and their FieldsV1 encoding (pure functions)."""

from __future__ import annotations

from typing import Any

import pytest

from storeplane.sim.store.apply import (
    dotted,
    field_paths,
    from_fields_v1,
    merge_applied,
    merge_patch,
    to_fields_v1,
)

OBJECTS: list[tuple[dict[str, Any], str]] = [
    ({"spec": {"replicas": 1}}, "a scalar in a map"),
    ({"data": {}}, "an empty map"),
    ({"spec": {"args": ["a", "b"]}}, "an atomic list"),
    ({"spec": {"containers": [{"name": "web", "image": "x", "env": [{"name": "A"}]}]}},
     "nested name-keyed lists"),
]  # fmt: skip


@pytest.mark.parametrize(
    "obj", [o for o, _ in OBJECTS], ids=[f"{why} survives FieldsV1" for _, why in OBJECTS]
)
def test_fields_v1_round_trip(obj: dict[str, Any]) -> None:
    paths = field_paths(obj)
    assert from_fields_v1(to_fields_v1(paths)) == paths


def test_keyed_items_are_marked_and_read_as_people_write_them() -> None:
    paths = field_paths({"spec": {"containers": [{"name": "web", "image": "x"}]}})
    item = ("f:spec", "f:containers", 'k:{"name":"web"}')
    assert item in paths
    assert to_fields_v1(paths)["f:spec"]["f:containers"]['k:{"name":"web"}']["."] == {}
    assert dotted((*item, "f:image")) == '.spec.containers[name="web"].image'


MERGES = [
    ({"a": {"b": 1, "c": 2}}, {"a": {"b": 3}}, {"a": {"b": 3, "c": 2}}, "maps merge recursively"),
    ({"l": [1, 2]}, {"l": [3]}, {"l": [3]}, "plain lists are replaced"),
    (
        {"c": [{"name": "a", "x": 1}, {"name": "b"}]},
        {"c": [{"name": "a", "y": 2}, {"name": "n"}]},
        {"c": [{"name": "a", "x": 1, "y": 2}, {"name": "b"}, {"name": "n"}]},
        "name-keyed lists merge by name",
    ),
]


@pytest.mark.parametrize(
    ("live", "applied", "expected"),
    [(a, b, c) for a, b, c, _ in MERGES],
    ids=[why for *_, why in MERGES],
)
def test_merge_applied(live: Any, applied: Any, expected: Any) -> None:
    assert merge_applied(live, applied) == expected


def test_merge_patch_null_deletes_and_plain_lists_replace() -> None:
    target = {"a": 1, "b": {"c": 2, "d": 3}, "l": [{"name": "x", "v": 1}]}
    patch = {"a": None, "b": {"c": None}, "l": [{"name": "y"}]}
    assert merge_patch(target, patch) == {"b": {"d": 3}, "l": [{"name": "y"}]}
    assert merge_patch(target, patch, by_name=True)["l"] == [{"name": "x", "v": 1}, {"name": "y"}]
