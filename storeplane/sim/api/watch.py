"""Watch: change events fanned out from the object store to per-watch asyncio queues.

:class:`WatchHub` hangs on :meth:`Cluster.subscribe_changes` and is called synchronously,
on the server's event loop, for every stored change. It keeps, per resource, a bounded ring
of recent changes (the "watch cache" of a real API server) so a client can resume from a
``resourceVersion``, and offers each change to the watchers of that resource only. Nothing
polls: a watcher's stream sleeps on its own queue until a change, a bookmark or its timeout.

Semantics, as a real API server has them:

- No ``resourceVersion`` (or ``"0"``): synthetic ``ADDED`` events for every matching
  object, then changes. ``resourceVersion=N``: every kept change after N, then live ones.
  N older than the kept history of that resource: one ``ERROR`` event carrying a ``Status``
  with code 410 and reason ``Expired`` ("too old resource version: N (M)"), then the end of
  the stream; the client lists again and watches from the list's resourceVersion.
- Label selectors see transitions: an object modified *into* the selection arrives as
  ``ADDED``, one modified *out of* it as ``DELETED``.
- ``allowWatchBookmarks=true``: a ``BOOKMARK`` (an object carrying only
  ``metadata.resourceVersion``) after ``bookmark_interval`` seconds without events; with
  ``sendInitialEvents=true`` one more right after the initial events, annotated
  ``k8s.io/initial-events-end: "true"``.
- ``timeoutSeconds``: the stream ends cleanly after that long (default 30 minutes).
- A watcher that falls ``queue_size`` events behind is closed, as the API server closes a
  too-slow watcher; the client re-watches from its last resourceVersion.

The hub keeps references to the stored objects it is handed (the cluster never mutates an
object after emitting it) and serialises each change once, whatever the number of watchers.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from ..errors import ApiError
from ..kinds import Kind
from ..store.selectors import FieldRequirement, Requirement, fields_match, labels_match

logger = logging.getLogger(__name__)

Obj = dict[str, Any]

DEFAULT_TIMEOUT = 1800.0
INITIAL_EVENTS_END = "k8s.io/initial-events-end"


@dataclass(eq=False)
class Change:
    """One stored change. ``obj`` is the object as stored after it (shared, never mutated);
    ``old_labels`` the labels before it (None for ADDED)."""

    type: str
    rv: int
    namespace: str
    obj: Obj
    old_labels: dict[str, str] | None
    _lines: dict[str, bytes] = field(default_factory=dict)

    def line(self, event_type: str) -> bytes:
        """The event as one line of the stream (serialised once per type)."""
        cached = self._lines.get(event_type)
        if cached is None:
            cached = self._lines[event_type] = encode_event(event_type, self.obj)
        return cached


def encode_event(event_type: str, obj: Obj) -> bytes:
    return json.dumps({"type": event_type, "object": obj}, separators=(",", ":")).encode() + b"\n"


def expired(requested: int, oldest: int) -> ApiError:
    """The Status a real API server sends for a resourceVersion it no longer keeps."""
    return ApiError(410, "Expired", f"too old resource version: {requested} ({oldest})")


class Closed(Exception):
    """Raised into a watcher's stream when the server drops it (too slow, fault)."""


@dataclass(eq=False)
class Watcher:
    """One open watch: its filter and the queue its stream reads from."""

    resource: str
    namespace: str | None
    labels: list[Requirement]
    fields: list[FieldRequirement]
    queue: asyncio.Queue[bytes | None]
    queue_size: int
    overflowed: bool = False

    def _selects(self, change: Change, labels: dict[str, str] | None) -> bool:
        return labels_match(self.labels, labels) and fields_match(self.fields, change.obj)

    def event_type(self, change: Change) -> str | None:
        """What this watcher sees of ``change``: its type, a transition, or None."""
        if self.namespace is not None and change.namespace != self.namespace:
            return None
        now = self._selects(change, change.obj["metadata"].get("labels"))
        if change.type != "MODIFIED" or not self.labels:
            return change.type if now else None
        before = self._selects(change, change.old_labels)
        if now and before:
            return "MODIFIED"
        if now:
            return "ADDED"
        if before:
            return "DELETED"
        return None

    def offer(self, change: Change) -> None:
        event_type = self.event_type(change)
        if event_type is None or self.overflowed:
            return
        if self.queue.qsize() >= self.queue_size:
            self.overflowed = True
            self.queue.put_nowait(None)  # wakes the stream, which then ends
            return
        self.queue.put_nowait(change.line(event_type))


class WatchHub:
    """Ring of recent changes per resource plus the open watchers, indexed by resource."""

    def __init__(self, history: int, start_rv: int) -> None:
        self.history = max(1, history)
        self._rings: dict[str, deque[Change]] = {}
        # Per resource: the newest resourceVersion no longer in the ring. Everything before
        # the hub started (e.g. loaded from a state file) counts as evicted.
        self._floors: dict[str, int] = {}
        self._start_rv = start_rv
        # resource -> namespace (None: all namespaces) -> watchers, so a change is offered
        # only to the watchers that can see it.
        self._watchers: dict[str, dict[str | None, set[Watcher]]] = {}
        self.last_rv = start_rv

    # --- fed by the cluster ---

    def on_change(self, event: str, kind: Kind, obj: Obj, old: Obj | None) -> None:
        metadata = obj["metadata"]
        rv = int(metadata["resourceVersion"])
        self.last_rv = max(self.last_rv, rv)
        old_labels = (old or {}).get("metadata", {}).get("labels") if old is not None else None
        change = Change(event, rv, metadata.get("namespace", ""), obj, old_labels)
        ring = self._rings.get(kind.qualified)
        if ring is None:
            ring = self._rings[kind.qualified] = deque()
        if len(ring) >= self.history:
            self._floors[kind.qualified] = ring.popleft().rv
        ring.append(change)
        by_namespace = self._watchers.get(kind.qualified)
        if by_namespace:
            for scope in (change.namespace, None):
                for watcher in by_namespace.get(scope, ()):
                    watcher.offer(change)

    # --- used by the watch endpoint ---

    def floor(self, resource: str) -> int:
        return self._floors.get(resource, self._start_rv)

    def open(
        self,
        kind: Kind,
        namespace: str | None,
        labels: list[Requirement],
        fields: list[FieldRequirement],
        since: int | None,
        initial: list[Obj],
        queue_size: int,
    ) -> Watcher:
        """Register a watcher and queue what it must see first: ``initial`` objects as
        ADDED (``since`` None), or the kept changes after ``since``. Raises :func:`expired`
        (410) when ``since`` is older than the kept history. Synchronous, so no change can
        slip between the replay and the live events."""
        queue: asyncio.Queue[bytes | None] = asyncio.Queue()
        watcher = Watcher(kind.qualified, namespace, labels, fields, queue, queue_size)
        if since is not None:
            oldest = self.floor(kind.qualified)
            if since < oldest:
                raise expired(since, oldest)
            for change in self._rings.get(kind.qualified, ()):
                if change.rv > since:
                    event_type = watcher.event_type(change)
                    if event_type is not None:
                        queue.put_nowait(change.line(event_type))
        else:
            for obj in initial:
                queue.put_nowait(encode_event("ADDED", obj))
        by_namespace = self._watchers.setdefault(kind.qualified, {})
        by_namespace.setdefault(namespace, set()).add(watcher)
        return watcher

    def close(self, watcher: Watcher) -> None:
        by_namespace = self._watchers.get(watcher.resource, {})
        watchers = by_namespace.get(watcher.namespace)
        if watchers is not None:
            watchers.discard(watcher)
            if not watchers:
                del by_namespace[watcher.namespace]
            if not by_namespace:
                del self._watchers[watcher.resource]

    def watcher_count(self) -> int:
        return sum(len(w) for spaces in self._watchers.values() for w in spaces.values())


@dataclass
class StreamOptions:
    """How one watch stream runs (from the query string and the fault settings)."""

    kind: Kind
    timeout: float
    bookmarks: bool
    bookmark_interval: float
    initial_events_end: bool
    drop_after: float | None
    error: ApiError | None = None
    # Rewrites each change line before it is sent (Table watches from kubectl get -w).
    transform: Callable[[bytes], bytes] | None = None


class WatchStream(Response):
    """A response streaming a watcher's events as newline-delimited JSON. It listens for
    the client's disconnect at the same time, so a closed connection unregisters its
    watcher at once, not at the next event."""

    def __init__(self, hub: WatchHub, watcher: Watcher | None, options: StreamOptions) -> None:
        super().__init__(status_code=200, media_type="application/json")
        self.hub = hub
        self.watcher = watcher
        self.options = options

    def _bookmark(self, initial_end: bool = False) -> bytes:
        kind = self.options.kind
        metadata: Obj = {"resourceVersion": str(self.hub.last_rv)}
        if initial_end:
            metadata["annotations"] = {INITIAL_EVENTS_END: "true"}
        return encode_event(
            "BOOKMARK", {"kind": kind.kind, "apiVersion": kind.api_version, "metadata": metadata}
        )

    async def _transformed(self) -> AsyncIterator[bytes]:
        transform = self.options.transform
        async for line in self._lines():
            yield transform(line) if transform is not None else line

    async def _lines(self) -> AsyncIterator[bytes]:
        options = self.options
        if options.error is not None:
            yield encode_event("ERROR", options.error.status_body())
            return
        watcher = self.watcher
        assert watcher is not None
        loop = asyncio.get_running_loop()
        start = loop.time()
        end = start + options.timeout
        if options.drop_after is not None:
            end = min(end, start + options.drop_after)
        if options.initial_events_end and options.bookmarks:
            while not watcher.queue.empty():
                line = watcher.queue.get_nowait()
                if line is None:
                    return
                yield line
            yield self._bookmark(initial_end=True)
        next_bookmark = loop.time() + options.bookmark_interval
        while True:
            now = loop.time()
            if now >= end:
                if options.drop_after is not None and now - start >= options.drop_after:
                    raise Closed("watch connection dropped by fault injection")
                return
            wake = min(end, next_bookmark) if options.bookmarks else end
            try:
                line = await asyncio.wait_for(watcher.queue.get(), wake - now)
            except TimeoutError:
                if options.bookmarks and loop.time() >= next_bookmark:
                    yield self._bookmark()
                    next_bookmark = loop.time() + options.bookmark_interval
                continue
            if line is None:
                logger.info("closing a watch on %s that fell behind", watcher.resource)
                return
            yield line
            if watcher.queue.empty():
                next_bookmark = loop.time() + options.bookmark_interval

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"cache-control", b"no-cache, private"),
                ],
            }
        )

        async def pump() -> None:
            async for line in self._transformed():
                await send({"type": "http.response.body", "body": line, "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})

        async def disconnected() -> None:
            while (await receive())["type"] != "http.disconnect":
                pass

        pump_task = asyncio.ensure_future(pump())
        wait_task = asyncio.ensure_future(disconnected())
        try:
            done, _ = await asyncio.wait(
                {pump_task, wait_task}, return_when=asyncio.FIRST_COMPLETED
            )
            if pump_task in done:
                pump_task.result()  # re-raises Closed: the server drops the connection
        finally:
            for task in (pump_task, wait_task):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            if self.watcher is not None:
                self.hub.close(self.watcher)
