"""The event recorder: core/v1 Events written the way Kubernetes components write them.

Called by the simulator's controllers and its node (the kubelet) when something happens to
an object that a person would want to see in ``kubectl get events`` or ``kubectl describe``:
``record(cluster, deployment, "Normal", "ScalingReplicaSet", "Scaled up ...",
"deployment-controller")``.

What it writes is what client-go's ``tools/record`` recorder writes (the one the real
controller manager and kubelet use):

- a ``v1`` Event named ``<involved name>.<hex nanoseconds>`` in the involved object's
  namespace (``default`` for cluster-scoped objects);
- ``involvedObject`` with ``kind``, ``namespace``, ``name``, ``uid``, ``apiVersion``,
  ``resourceVersion`` (and ``fieldPath`` for a container, e.g. ``spec.containers{web}``);
- ``source.component`` (and ``source.host`` for node components), ``reportingComponent``,
  ``reportingInstance``, ``type`` (``Normal`` or ``Warning``), ``reason``, ``message``;
- repeats of the same event (same source, object, type, reason and message) are folded into
  the first one: ``count`` goes up and ``lastTimestamp`` moves, ``firstTimestamp`` stays,
  as the recorder's correlator does. The memory of what was seen lives in this process, as
  it lives in each real component: after a restart a repeat starts a new Event.

Not modelled: the correlator's "similar events" folding (more than ten events that differ
only in message within ten minutes becoming ``(combined from similar events): ...``), the
spam filter's rate limit, and the API server's one-hour event TTL (Events go with their
namespace). A refused write (the namespace is terminating or gone) is dropped, as the real
recorder drops what it cannot write.
"""

from __future__ import annotations

import logging
import weakref
from typing import Literal

from ..errors import ApiError
from ..kinds import Kind, lookup
from ..store.cluster import Cluster, Obj, rfc3339
from ..store.objects import ObjectKey

logger = logging.getLogger(__name__)

EventType = Literal["Normal", "Warning"]

_events = lookup("", "v1", "events")
assert _events is not None
EVENTS: Kind = _events

# Per cluster: (namespace, source, involved uid/kind/name, fieldPath, type, reason, message)
# -> the Event that recorded it first. Weak, so a stopped simulator's cluster is freed.
_SEEN: weakref.WeakKeyDictionary[Cluster, dict[tuple[str, ...], ObjectKey]] = (
    weakref.WeakKeyDictionary()
)


def involved_reference(obj: Obj, field_path: str = "") -> Obj:
    """The ``involvedObject`` of an Event about ``obj`` (an ObjectReference)."""
    metadata = obj.get("metadata") or {}
    ref: Obj = {
        "kind": obj.get("kind", ""),
        "namespace": metadata.get("namespace", ""),
        "name": metadata.get("name", ""),
        "uid": metadata.get("uid", ""),
        "apiVersion": obj.get("apiVersion", ""),
        "resourceVersion": metadata.get("resourceVersion", ""),
    }
    if not ref["namespace"]:
        del ref["namespace"]
    if field_path:
        ref["fieldPath"] = field_path
    return ref


def record(
    cluster: Cluster,
    involved: Obj,
    type_: EventType,
    reason: str,
    message: str,
    component: str,
    field_path: str | None = None,
    *,
    host: str = "",
) -> Obj | None:
    """Write (or fold into a repeat) an Event about ``involved``; returns the stored Event,
    or None when it could not be written (the namespace is going or gone)."""
    field_path = field_path or ""
    ref = involved_reference(involved, field_path)
    namespace = ref.get("namespace") or "default"
    seen = _SEEN.setdefault(cluster, {})
    identity = (namespace, component, host, ref["uid"], ref["kind"], ref["name"], field_path,
                type_, reason, message)  # fmt: skip
    now = cluster.clock()
    try:
        earlier = seen.get(identity)
        if earlier is not None:
            existing = cluster.store.peek(earlier)
            if existing is not None:
                repeated = _repeat(existing, ref, now)
                stored = cluster.replace(
                    EVENTS, namespace, earlier.name, repeated, component, field_validation="Ignore"
                )
                return stored
        body = _event(ref, namespace, type_, reason, message, component, host, now)
        nanos = int(now * 1e9)
        while cluster.store.exists(cluster.key(EVENTS, namespace, body["metadata"]["name"])):
            nanos += 1  # two events in one clock tick: the next name, as a later clock gives
            body["metadata"]["name"] = f"{ref['name']}.{nanos:x}"
        stored = cluster.create(
            EVENTS, namespace, body, component, field_validation="Ignore", from_checked_parts=True
        )
    except ApiError as exc:
        logger.debug("event %s on %s/%s dropped: %s", reason, namespace, ref["name"], exc.message)
        return None
    seen[identity] = cluster.key(EVENTS, namespace, stored["metadata"]["name"])
    return stored


def _name(involved_name: str, now: float) -> str:
    return f"{involved_name}.{int(now * 1e9):x}"


def _event(
    ref: Obj,
    namespace: str,
    type_: str,
    reason: str,
    message: str,
    component: str,
    host: str,
    now: float,
) -> Obj:
    source: Obj = {"component": component}
    if host:
        source["host"] = host
    stamp = rfc3339(now)
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": _name(ref["name"], now), "namespace": namespace},
        "involvedObject": ref,
        "reason": reason,
        "message": message,
        "source": source,
        "firstTimestamp": stamp,
        "lastTimestamp": stamp,
        "count": 1,
        "type": type_,
        "eventTime": None,
        "reportingComponent": component,
        "reportingInstance": host,
    }


def _repeat(existing: Obj, ref: Obj, now: float) -> Obj:
    """The stored Event once more: count + 1, lastTimestamp now, the object's newer version."""
    repeated = {**existing, "metadata": dict(existing["metadata"])}
    repeated["count"] = int(existing.get("count") or 1) + 1
    repeated["lastTimestamp"] = rfc3339(now)
    repeated["involvedObject"] = ref
    return repeated
