"""The generated protobuf field tables checked against an independent source: the official
Python ``kubernetes`` client's models, whose ``attribute_map`` lists each type's JSON field
names (generated from the OpenAPI spec, not from the .proto/types.go files the tables come
from). Every JSON name a table gives must be one the client knows for that type (the client
is newer than the tables, so it may know more), which catches a mis-parsed Go struct tag or an
embedded struct not flattened as JSON flattens it."""

from __future__ import annotations

from typing import Any

import kubernetes.client.models as models  # type: ignore[import-untyped]

from storeplane.sim.api.protobuf_fields import INLINE, MESSAGES


def json_names(message: str) -> set[str]:
    names: set[str] = set()
    for json_name, type_name, flags in MESSAGES[message].values():
        if flags & INLINE and type_name in MESSAGES:
            names |= json_names(type_name)
        else:
            names.add(json_name)
    return names


def model_for(message: str) -> Any:
    group, version, name = message.split(".")
    candidates = [
        f"{group.capitalize()}{version.capitalize()}{name}",
        f"{version.capitalize()}{name}",
    ]
    return next((getattr(models, c) for c in candidates if hasattr(models, c)), None)


# Alpha fields of Kubernetes 1.35 (the tables' version) that the newer client no longer has.
DROPPED_SINCE = {"core.v1.PodSpec": {"workloadRef"}}

PAIRS = [(m, model_for(m)) for m in sorted(MESSAGES)]
FOUND = [(m, model) for m, model in PAIRS if model is not None]


def test_almost_every_table_has_a_client_model_to_check_against() -> None:
    missing = [m for m, model in PAIRS if model is None]
    # Only embedded-only helpers (ProbeHandler...) and wrappers have no model of their own.
    assert len(FOUND) >= 0.9 * len(PAIRS), missing


def test_table_json_names_are_the_clients() -> None:
    unknown = {
        message: sorted(names)
        for message, model in FOUND
        if (names := json_names(message) - set(model.attribute_map.values())
            - DROPPED_SINCE.get(message, set()))
    }  # fmt: skip
    assert unknown == {}
