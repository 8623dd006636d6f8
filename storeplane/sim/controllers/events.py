"""The event recorder: core/v1 Events about objects, as client-go's EventRecorder writes them.

Called by simulator components (the node's agent, the scheduler, the Job controller) through
:func:`record`. A repeat of the same event (same object, type, reason, message, component)
within ten minutes increases ``count`` and ``lastTimestamp`` of the existing Event instead of
writing a new one, as client-go's correlator does. Writing never fails the caller: an event
for a namespace that is going away is dropped.
"""

from __future__ import annotations

import copy
import logging
import secrets
from typing import Any, Literal

from ..errors import ApiError
from ..kinds import by_qualified
from ..store.cluster import Cluster

logger = logging.getLogger(__name__)

Obj = dict[str, Any]
EVENTS = by_qualified("events")
_AGGREGATE_SECONDS = 600.0
# (namespace, uid, type, reason, message, component) -> (event name, first seen at)
_recent: dict[tuple[str, ...], tuple[str, float]] = {}


def record(
    cluster: Cluster,
    involved: Obj,
    type_: Literal["Normal", "Warning"],
    reason: str,
    message: str,
    component: str,
    field_path: str | None = None,
) -> None:
    """Write (or count again) an Event about ``involved``."""
    meta = involved.get("metadata") or {}
    namespace = meta.get("namespace") or "default"
    now = cluster.now()
    key = (namespace, str(meta.get("uid")), type_, reason, message, component)
    seen = _recent.get(key)
    try:
        if seen is not None and cluster.clock() - seen[1] < _AGGREGATE_SECONDS:
            existing = cluster.store.peek(cluster.key(EVENTS, namespace, seen[0]))
            if existing is not None:
                updated = copy.deepcopy(existing)
                updated["count"] = int(existing.get("count") or 1) + 1
                updated["lastTimestamp"] = now
                cluster.replace(EVENTS, namespace, seen[0], updated, component)
                return
        involved_ref: Obj = {
            "kind": involved.get("kind"),
            "apiVersion": involved.get("apiVersion"),
            "namespace": meta.get("namespace"),
            "name": meta.get("name"),
            "uid": meta.get("uid"),
            "resourceVersion": meta.get("resourceVersion"),
        }
        if field_path:
            involved_ref["fieldPath"] = field_path
        name = f"{meta.get('name')}.{secrets.token_hex(8)}"
        body = {
            "metadata": {"name": name, "namespace": namespace},
            "involvedObject": {k: v for k, v in involved_ref.items() if v is not None},
            "reason": reason,
            "message": message,
            "type": type_,
            "source": {"component": component},
            "firstTimestamp": now,
            "lastTimestamp": now,
            "count": 1,
            "reportingComponent": component,
            "reportingInstance": component,
        }
        cluster.create(EVENTS, namespace, body, component)
        _recent[key] = (name, cluster.clock())
        if len(_recent) > 10000:
            for old in list(_recent)[:5000]:
                del _recent[old]
    except ApiError as exc:
        logger.debug("event %s for %s/%s dropped: %s", reason, namespace, meta.get("name"), exc)
