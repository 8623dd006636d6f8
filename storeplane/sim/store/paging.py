"""List pages (``limit``/``continue``) as a real API server serves them: every page of one
list comes from the snapshot its first page was cut from, and carries that snapshot's
resourceVersion, so a client that watches from it (client-go's reflector, storeplane's
watcher) misses no change made while it paged.

Used by :meth:`storeplane.sim.store.cluster.Cluster.list_objects`. Stored objects are never
changed in place (the store keeps a new dict per write), so a snapshot is only the list of
the objects that matched, in order: no copy. Snapshots are kept ``SNAPSHOT_SECONDS`` after
their last page was served (the API server's etcd compaction interval is 5 minutes; here a
list still being paged is never compacted under its client, however slow a big cluster on
a busy machine makes it) and at most ``SNAPSHOTS`` of them.

The continue token is the API server's own shape: URL-safe base64 (no padding) of
``{"v":"meta.k8s.io/v1","rv":N,"start":"<namespace>/<name>\\u0000"}`` (``"<name>\\u0000"``
when the list is of one namespace or a cluster-scoped kind). A token whose snapshot is gone:

- at the resourceVersion the cluster is still at (nothing was written since: a restarted
  simulator, say) is served from the objects as they are, which is the same snapshot;
- otherwise ``410 Expired`` with the API server's message and, in the Status's
  ``metadata.continue``, a token with ``rv`` -1 that goes on from the same place in the
  current objects (an inconsistent list, as the message says), as ``kubectl`` can use.
"""

from __future__ import annotations

import base64
import bisect
import json
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from ..errors import ApiError, bad_request

Obj = dict[str, Any]
Position = tuple[str, str]  # (namespace, name): the order lists are in

SNAPSHOTS = 64
SNAPSHOT_SECONDS = 300.0
INCONSISTENT = -1  # the rv of a token that continues in the current objects

EXPIRED_MESSAGE = (
    "The provided continue parameter is too old to display a consistent list result. You can "
    "start a new list without the continue parameter, or use the continue token in this "
    "response to retrieve the remainder of the results. Continuing with the provided token "
    "results in an inconsistent list - objects that were created, modified, or deleted "
    "between the time the first chunk was returned and now may show up in the list."
)


@dataclass(frozen=True)
class Continue:
    """A decoded continue token: the list's resourceVersion and the last position served."""

    rv: int
    after: Position


def _position(obj: Obj) -> Position:
    meta = obj["metadata"]
    return (meta.get("namespace", ""), meta["name"])


def encode(rv: int, after: Position, across_namespaces: bool) -> str:
    namespace, name = after
    start = f"{namespace}/{name}\x00" if across_namespaces else f"{name}\x00"
    body = json.dumps({"v": "meta.k8s.io/v1", "rv": rv, "start": start}, separators=(",", ":"))
    return base64.urlsafe_b64encode(body.encode()).decode().rstrip("=")


def decode(token: str, across_namespaces: bool, namespace: str) -> Continue:
    """The token's content; ``400`` (the API server's words) if it is not one of ours.
    ``namespace`` is the list's own (``""`` across namespaces or cluster-scoped)."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        data = json.loads(raw)
        if data.get("v") != "meta.k8s.io/v1":
            raise ValueError("unsupported version")
        rv, start = int(data["rv"]), str(data["start"]).rstrip("\x00")
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise bad_request(f"continue key is not valid: {exc}") from exc
    if across_namespaces:
        ns, _, name = start.partition("/")
        return Continue(rv, (ns, name))
    return Continue(rv, (namespace, start))


@dataclass
class _Snapshot:
    items: list[Obj]
    positions: list[Position]
    taken: float = field(default_factory=time.monotonic)  # when its last page was served


class Snapshots:
    """The lists whose later pages may still be asked for, by query and resourceVersion."""

    def __init__(self, keep: int = SNAPSHOTS, seconds: float = SNAPSHOT_SECONDS) -> None:
        self._keep = keep
        self._seconds = seconds
        self._lists: OrderedDict[tuple[Any, ...], _Snapshot] = OrderedDict()

    def __len__(self) -> int:
        return len(self._lists)

    def _expire(self) -> None:
        now = time.monotonic()
        while self._lists:
            oldest = next(iter(self._lists.values()))
            if len(self._lists) <= self._keep and now - oldest.taken < self._seconds:
                break
            self._lists.popitem(last=False)

    def page(
        self,
        query: tuple[Any, ...],
        rv: int,
        limit: int | None,
        items: list[Obj],
        after: Position | None = None,
    ) -> tuple[list[Obj], Position | None, int]:
        """The page after ``after`` of ``items`` (the snapshot at ``rv``; all of the list's
        objects, in order), and the position to continue from (None: the last page) with how
        many items remain after the page. Keeps the snapshot while pages remain."""
        positions = [_position(o) for o in items]
        return self._cut(query, rv, limit, _Snapshot(items, positions), after)

    def resume(
        self, query: tuple[Any, ...], token: Continue, limit: int | None
    ) -> tuple[list[Obj], Position | None, int] | None:
        """The next page of a kept snapshot, or None when it is no longer kept."""
        self._expire()
        snapshot = self._lists.get((*query, token.rv))
        if snapshot is None:
            return None
        return self._cut(query, token.rv, limit, snapshot, token.after)

    def _cut(
        self,
        query: tuple[Any, ...],
        rv: int,
        limit: int | None,
        snapshot: _Snapshot,
        after: Position | None,
    ) -> tuple[list[Obj], Position | None, int]:
        snapshot.taken = time.monotonic()  # kept while a client pages through it
        start = 0 if after is None else bisect.bisect_right(snapshot.positions, after)
        end = len(snapshot.items) if not limit else min(len(snapshot.items), start + limit)
        page = snapshot.items[start:end]
        key = (*query, rv)
        if end >= len(snapshot.items):
            self._lists.pop(key, None)  # the last page: nobody continues this list
            return page, None, 0
        if key in self._lists:
            self._lists.move_to_end(key)  # least recently paged first: the first to go
        else:
            self._lists[key] = snapshot
            self._expire()
        return page, snapshot.positions[end - 1], len(snapshot.items) - end


def expired(after: Position, across_namespaces: bool) -> ApiError:
    """``410 Expired`` for a continue token whose snapshot is gone, with a token that goes on
    in the current objects (``rv`` -1) in the Status's ``metadata.continue``."""
    return ApiError(
        410,
        "Expired",
        EXPIRED_MESSAGE,
        metadata={"continue": encode(INCONSISTENT, after, across_namespaces)},
    )
