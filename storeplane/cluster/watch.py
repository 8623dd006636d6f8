"""Watches on every kind storeplane owns, feeding the object cache and waking stores.

One task per kind lists the objects that carry a store label (all namespaces), then watches
from that list's resourceVersion. Every event updates :class:`ObjectCache` and calls
``on_change(store_id)`` so the reconciler looks at that store at once. A dropped connection
resumes from the last version seen; ``410 Gone`` (the server no longer has that version)
re-lists, and until then the kind counts as not synced, so readers fall back to live reads.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import AsyncIterator, Callable
from typing import cast

import httpx2
from lightkube import ApiError, AsyncClient
from lightkube.core.selector import build_selector
from lightkube.models import meta_v1
from lightkube.operators import exists

from storeplane.cluster.cache import STORE_ID_LABEL, Key, ObjectCache
from storeplane.cluster.client import raise_for_status
from storeplane.cluster.kinds import NAMESPACE, OWNED_KINDS, Kind
from storeplane.domain.ports import Manifest
from storeplane.observability.outages import CLUSTER

log = logging.getLogger(__name__)
WATCHED_KINDS: tuple[Kind, ...] = (NAMESPACE, *OWNED_KINDS)
LIST_CHUNK = 500  # objects per page of the first lists (client-go's reflector pages by 500)


class ClusterWatcher:
    def __init__(
        self,
        client: AsyncClient,
        cache: ObjectCache,
        on_change: Callable[[str], None],
        *,
        kinds: tuple[Kind, ...] = WATCHED_KINDS,
        server_timeout: int = 300,
        chunk: int = LIST_CHUNK,
    ) -> None:
        self._client = client
        self._cache = cache
        self._on_change = on_change
        self._kinds = kinds
        self._server_timeout = server_timeout
        self._chunk = chunk
        self._synced: set[Kind] = set()
        self.relists = 0  # how often a kind had to be listed again (410 Gone), for tests
        self.reconnects = 0
        self._started: float | None = None
        self._said_synced = False
        self._list_failed = False  # a first list failed to reach the server (see first_lists)
        self._progress = 0.0  # when the last page of a list was answered (loop time)

    @property
    def synced(self) -> bool:
        """True once every kind was listed and is being watched."""
        return len(self._synced) == len(self._kinds)

    async def wait_synced(self, timeout: float) -> bool:
        deadline = asyncio.get_running_loop().time() + timeout
        while not self.synced and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.05)
        return self.synced

    async def first_lists(self, timeout: float) -> bool:
        """Wait until every kind was listed once (True), or a list could not reach the API
        server or was refused by it, or ``timeout`` passed with no page answered (False):
        a big cluster's lists may take minutes, page after page. The reconcile loop waits
        on it before its first claim: a pass before the cache is synced reads every object
        live and cannot skip an unchanged store, so at 10,000 stores the passes of a restart
        would all have been full ones, with live lists, against a server busy with the first
        lists. An unreachable or refusing server ends the wait at once: passes then say what
        is wrong."""
        clock = asyncio.get_running_loop().time
        self._progress = max(self._progress, clock())
        while not (self.synced or self._list_failed):
            if clock() - self._progress >= timeout:
                break
            await asyncio.sleep(0.05)
        return self.synced

    async def run(self, stop: asyncio.Event) -> None:
        self._started = asyncio.get_running_loop().time()
        tasks = [
            asyncio.create_task(self._run_kind(k), name=f"watch {k.kind}") for k in self._kinds
        ]
        await stop.wait()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _notify(self, store: str | None) -> None:
        if store:
            self._on_change(store)

    async def _list(self, kind: Kind) -> str:
        """List the kind's labelled objects in pages of ``LIST_CHUNK`` (``limit``/``continue``,
        as client-go's reflector does), into the cache page by page; returns the list's
        resourceVersion, which a real API server gives every page of one list alike (the
        snapshot all pages come from), to watch from. One response for all the objects of a
        kind at 10,000 stores was tens of MB that a busy server could not send before the read
        timeout. An expired ``continue`` (410) raises: the caller lists again from the start.
        Pages are the JSON as sent, not lightkube's typed models (see ``_watch``)."""
        generic = self._client._client
        http = generic._client
        selector = build_selector({STORE_ID_LABEL: exists()})
        listed: set[Key] = set()
        touched: set[str] = set()
        version: str | None = None
        token: str | None = None
        while True:
            request = generic.prepare_request(
                "list",
                res=kind.resource,
                namespace="*" if kind.namespaced else None,
                params={"limit": self._chunk, "continue": token, "labelSelector": selector},
            )
            response = await http.send(
                http.build_request(request.method, request.url, params=request.params)
            )
            if response.status_code >= 400:
                raise_for_status(response)  # a Status: 410 (continue expired), 403...
            page = json.loads(response.content)
            self._progress = asyncio.get_running_loop().time()
            meta = page.get("metadata") or {}
            version = version or str(meta.get("resourceVersion") or "")
            for item in page.get("items") or ():
                item.setdefault("apiVersion", kind.api_version)
                item.setdefault("kind", kind.kind)
                listed.add(ObjectCache.key_of(item))
                if store := self._cache.upsert(item):
                    touched.add(store)
            token = meta.get("continue") or None
            if token is None:
                break
        touched |= self._cache.retain_kind(kind.api_version, kind.kind, listed)
        for store in touched:
            self._on_change(store)
        return version

    async def _watch(self, kind: Kind, version: str) -> AsyncIterator[tuple[str, Manifest]]:
        """One watch request's events as (type, object as the server sent it), until the
        server ends it (``timeoutSeconds``). The objects are the JSON as sent, not lightkube's
        typed models: decoding every event into a model and back to a dict was most of the
        watch's CPU, and the cache keeps dicts (the same JSON the apply answers put there).
        lightkube still builds the request (URL, selector, auth); an ``ERROR`` event or an
        HTTP error raises lightkube's ``ApiError`` (410 Gone: list again)."""
        generic = self._client._client
        request = generic.prepare_request(
            "list",
            res=kind.resource,
            namespace="*" if kind.namespaced else None,
            watch=True,
            params={
                "timeoutSeconds": self._server_timeout,
                "resourceVersion": version,
                "labelSelector": build_selector({STORE_ID_LABEL: exists()}),
            },
        )
        http = generic._client
        sent = http.build_request(
            request.method, request.url, params=request.params, timeout=generic._watch_timeout
        )
        response = await http.send(sent, stream=True)
        try:
            if response.status_code >= 400:
                await response.aread()
                raise_for_status(response)  # a Status: 410, 403...
            async for line in response.aiter_lines():
                if not line.strip():
                    continue
                event = json.loads(line)
                if event.get("type") == "ERROR":
                    status = cast(
                        meta_v1.Status, meta_v1.Status.from_dict(event.get("object") or {})
                    )
                    raise ApiError(status=status)
                yield str(event.get("type")), event["object"]
        finally:
            await response.aclose()

    async def _run_kind(self, kind: Kind) -> None:
        version: str | None = None
        failures = 0
        while True:
            try:
                if version is None:
                    version = await self._list(kind)
                    self._synced.add(kind)
                    CLUSTER.succeeded()
                    self._say_synced()
                async for event, data in self._watch(kind, version):
                    if failures:
                        CLUSTER.succeeded()
                    failures = 0
                    data.setdefault("apiVersion", kind.api_version)
                    data.setdefault("kind", kind.kind)
                    version = data["metadata"].get("resourceVersion", version)
                    if event == "DELETED":
                        self._notify(self._cache.remove(data))
                    elif event in ("ADDED", "MODIFIED"):
                        self._notify(self._cache.upsert(data))
            except asyncio.CancelledError:
                raise
            except ApiError as exc:
                if exc.status.code == 410:
                    log.info("watch on %s expired (410 Gone); listing again", kind.kind)
                    self._synced.discard(kind)
                    self.relists += 1
                    version = None
                    continue
                if version is None:  # the server refuses the list (403...): waiting won't help
                    self._list_failed = True
                failures += 1
                await self._pause(kind, failures, exc)
            except (httpx2.HTTPError, OSError, ValueError) as exc:
                # Refused (nothing listens): unreachable. A timeout is a busy server: wait on.
                if version is None and isinstance(exc, httpx2.ConnectError | OSError):
                    self._list_failed = True
                failures += 1
                await self._pause(kind, failures, exc)

    def _say_synced(self) -> None:
        """Log once, when every kind was first listed: how long the start's lists took (the
        restart benchmark reads this line)."""
        if self._said_synced or not self.synced or self._started is None:
            return
        self._said_synced = True
        took = asyncio.get_running_loop().time() - self._started
        log.info(
            "cluster watches synced: %d kinds listed, %d objects cached, in %.1fs",
            len(self._kinds),
            len(self._cache),
            took,
        )

    async def _pause(self, kind: Kind, failures: int, exc: Exception) -> None:
        self.reconnects += 1
        delay = min(10.0, 0.2 * 2 ** min(failures, 6)) * random.uniform(0.5, 1.0)
        if failures == 1:  # a dropped watch: common, and it usually resumes at once
            log.info("watch on %s interrupted (%s); resuming in %.1fs", kind.kind, exc, delay)
        else:
            # Reconnecting failed too: the cluster is unreachable. CLUSTER says so once for
            # the process (not once per kind and retry).
            CLUSTER.failed(f"watch on {kind.kind} cannot reconnect: {exc}")
            log.debug("watch on %s still interrupted (%s); retry in %.1fs", kind.kind, exc, delay)
        await asyncio.sleep(delay)
