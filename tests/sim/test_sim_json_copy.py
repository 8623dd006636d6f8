"""``json_copy``: the object store's deep copy of JSON-shaped objects (pure)."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest

from storeplane.sim.store.objects import json_copy

DEPLOYMENT: dict[str, Any] = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "web", "labels": {"app": "web"}, "managedFields": [{"f:spec": {}}]},
    "spec": {
        "replicas": 2,
        "paused": False,
        "template": {"spec": {"containers": [{"name": "web", "ports": [{"port": 80}]}]}},
        "nothing": None,
        "ratio": 0.5,
    },
}


@pytest.mark.parametrize(
    "value",
    [DEPLOYMENT, [1, "a", None, [True, {"x": []}]], "text", 3, None],
    ids=["an object", "a nested list", "a string", "a number", "null"],
)
def test_a_copy_is_equal_to_what_deepcopy_makes(value: Any) -> None:
    assert json_copy(value) == copy.deepcopy(value)


def test_changing_the_copy_leaves_the_original_alone() -> None:
    original = copy.deepcopy(DEPLOYMENT)
    copied = json_copy(original)
    copied["spec"]["template"]["spec"]["containers"][0]["ports"].append({"port": 443})
    copied["metadata"]["labels"]["app"] = "changed"
    assert original == DEPLOYMENT


def test_a_value_that_is_not_json_is_deep_copied_too() -> None:
    inner = {"when": datetime(2026, 12, 1, tzinfo=UTC), "tags": {"a"}}
    copied = json_copy({"x": inner})
    assert copied == {"x": inner}
    copied["x"]["tags"].add("b")
    assert inner["tags"] == {"a"}
