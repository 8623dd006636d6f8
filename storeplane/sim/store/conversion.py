"""Kinds served as another version of stored objects: events.k8s.io/v1 Events are core/v1
Events, converted on the way in and out, as the API server converts them.

Used by :class:`storeplane.sim.store.cluster.Cluster` for every kind whose ``storage`` names
another kind (:mod:`storeplane.sim.kinds`): reads and watches answer the stored objects in
the requested version, writes convert the body to the stored version first, so an Event
written by a controller (core/v1) is read as events.k8s.io/v1 and the other way round.
Field names follow ``pkg/apis/events/v1`` conversion: ``regarding`` = ``involvedObject``,
``note`` = ``message``, ``reportingController`` = ``reportingComponent``,
``deprecatedSource``/``deprecatedFirstTimestamp``/``deprecatedLastTimestamp``/
``deprecatedCount`` = ``source``/``firstTimestamp``/``lastTimestamp``/``count``.
"""

from __future__ import annotations

from typing import Any

Obj = dict[str, Any]

# events.k8s.io/v1 field -> core/v1 field.
EVENT_FIELDS = {
    "regarding": "involvedObject",
    "note": "message",
    "reportingController": "reportingComponent",
    "deprecatedSource": "source",
    "deprecatedFirstTimestamp": "firstTimestamp",
    "deprecatedLastTimestamp": "lastTimestamp",
    "deprecatedCount": "count",
}
_CORE_TO_VIEW = {core: view for view, core in EVENT_FIELDS.items()}


def to_view(api_version: str, obj: Obj) -> Obj:
    """A stored core/v1 Event as an events.k8s.io/v1 Event (a new dict; nested values are
    shared, so the result is to be serialised, not changed)."""
    view: Obj = {"apiVersion": api_version, "kind": obj.get("kind", "Event")}
    for key, value in obj.items():
        if key in ("apiVersion", "kind"):
            continue
        view[_CORE_TO_VIEW.get(key, key)] = value
    return view


def to_storage(obj: Any) -> Any:
    """An events.k8s.io/v1 Event body as the core/v1 Event it is stored as."""
    if not isinstance(obj, dict):
        return obj
    core: Obj = {"apiVersion": "v1"}
    for key, value in obj.items():
        if key == "apiVersion":
            continue
        core[EVENT_FIELDS.get(str(key), str(key))] = value
    return core
