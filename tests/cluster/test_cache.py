"""``ObjectCache``: what the watch-fed cache keeps, what it gives back, and when it wakes a store.

Pure: no simulator (the cache is fed by ``tests/reconciler/test_watch_driven.py`` end to end).
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from storeplane.cluster.cache import STORE_ID_LABEL, ObjectCache
from storeplane.domain.ports import ObjectRef


def _object(
    name: str, rv: str, *, store: str | None = "s1", data: str = "a", ns: str = "store-s1"
) -> dict[str, Any]:
    labels = {STORE_ID_LABEL: store} if store else {}
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": name,
            "namespace": ns,
            "resourceVersion": rv,
            "labels": labels,
            "managedFields": [
                {
                    "manager": "storeplane",
                    "operation": "Apply",
                    "time": "2026-12-01T10:00:00Z",
                    "fieldsType": "FieldsV1",
                    "fieldsV1": {"f:data": {"f:key": {}}},
                }
            ],
        },
        "data": {"key": data, "naïve": "ünïcode"},
    }


def _without_managed_fields(manifest: dict[str, Any]) -> dict[str, Any]:
    expected = copy.deepcopy(manifest)
    del expected["metadata"]["managedFields"]
    return expected


REF = ObjectRef("v1", "ConfigMap", "settings", "store-s1")


def test_an_object_reads_back_equal_but_without_managed_fields() -> None:
    cache = ObjectCache()
    stored = _object("settings", "5")
    assert cache.upsert(stored) == "s1"
    assert cache.get(REF) == _without_managed_fields(stored)
    assert cache.owned("s1", "store-s1") == [_without_managed_fields(stored)]
    assert "managedFields" in stored["metadata"], "the caller's object is left as it was"


def test_each_read_is_a_copy_the_caller_may_change() -> None:
    cache = ObjectCache()
    cache.upsert(_object("settings", "5"))
    first = cache.get(REF)
    assert first is not None
    first["data"]["key"] = "changed by a caller"
    owned = cache.owned("s1", "store-s1")
    owned[0]["metadata"]["labels"].clear()
    assert cache.get(REF) == _without_managed_fields(_object("settings", "5"))


@pytest.mark.parametrize(
    ("second_rv", "wakes", "kept"),
    [("4", None, "a"), ("5", None, "a"), ("6", "s1", "b")],
    ids=[
        "an older version is ignored",
        "the version already held changes nothing",
        "a newer version replaces it and wakes its store",
    ],
)
def test_resource_versions_decide_what_is_kept(
    second_rv: str, wakes: str | None, kept: str
) -> None:
    cache = ObjectCache()
    cache.upsert(_object("settings", "5", data="a"))
    assert cache.upsert(_object("settings", second_rv, data="b")) == wakes
    found = cache.get(REF)
    assert found is not None and found["data"]["key"] == kept


def test_an_object_whose_store_label_is_removed_leaves_its_store() -> None:
    cache = ObjectCache()
    cache.upsert(_object("settings", "5"))
    assert cache.upsert(_object("settings", "6", store=None)) == "s1"
    assert cache.get(REF) is None
    assert cache.owned("s1", "store-s1") == []
    assert len(cache) == 0


def test_a_removed_object_is_gone_and_names_its_store() -> None:
    cache = ObjectCache()
    cache.upsert(_object("settings", "5"))
    cache.upsert(_object("other", "6"))
    assert cache.remove(_object("settings", "7")) == "s1"
    assert [m["metadata"]["name"] for m in cache.owned("s1", "store-s1")] == ["other"]
    cache.remove_ref(ObjectRef("v1", "ConfigMap", "other", "store-s1"))
    assert len(cache) == 0


def test_a_relist_drops_the_objects_it_no_longer_has_and_wakes_their_stores() -> None:
    cache = ObjectCache()
    cache.upsert(_object("settings", "5"))
    cache.upsert(_object("gone", "6", store="s2", ns="store-s2"))
    touched = cache.replace_kind("v1", "ConfigMap", [_object("settings", "5")])
    assert touched == {"s2"}, "only the store whose object vanished changed"
    assert cache.owned("s2", "store-s2") == []
    assert cache.get(REF) is not None


def test_the_cache_holds_less_than_half_the_json_of_its_objects() -> None:
    import json

    cache = ObjectCache()
    big = _object("settings", "5")
    big["metadata"]["managedFields"] *= 20  # managedFields are half of a real object's size
    cache.upsert(big)
    assert cache.size_bytes() < len(json.dumps(big)) / 2


def _namespace(rv: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": "store-s1", "resourceVersion": rv, "labels": {STORE_ID_LABEL: "s1"}},
    }


@pytest.mark.parametrize(
    ("change", "changed"),
    [
        (lambda c: c.upsert(_object("a", "5", data="b")), True),
        (lambda c: c.remove(_object("a", "1")), True),
        (lambda c: c.upsert(_object("c", "6")), True),
        (lambda c: c.upsert(_namespace("7")), True),
        (lambda c: c.upsert(_object("a", "1")), False),
        (lambda c: c.upsert(_object("x", "8", store="s2", ns="store-s2")), False),
    ],
    ids=[
        "an edited object changes the versions",
        "a removed object changes the versions",
        "an added object changes the versions",
        "a changed namespace changes the versions",
        "the same version seen again (a re-list) changes nothing",
        "another store's object changes nothing",
    ],
)
def test_a_stores_versions_change_exactly_when_one_of_its_objects_does(
    change: Any, changed: bool
) -> None:
    cache = ObjectCache()
    for obj in (_object("a", "1"), _object("b", "2"), _namespace("3")):
        cache.upsert(obj)
    before = cache.versions("s1", "store-s1")
    assert before is not None and len(before) == 3
    change(cache)
    assert (cache.versions("s1", "store-s1") != before) is changed
