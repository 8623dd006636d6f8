"""Answer the hot reads (a store, a page of stores) on the event loop when the repository's
read cache holds them, and in the thread pool otherwise.

Called by the ``GET /api/v1/stores`` and ``GET /api/v1/stores/{id}`` routes. The service
function runs unchanged against :class:`CachedReads`, a view of the repository that answers
``get`` and ``list_page`` from ``storeplane.db.readcache`` only (no query, so no blocking) and
raises :class:`NotCached` on a miss; the call is then made again, with the real repository, in
the thread pool. A hit saves the trip through the pool (a queue hand-off and a thread switch
under the GIL) on top of the queries.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

from starlette.concurrency import run_in_threadpool

from storeplane.domain.ports import StorePage, StoreRepository
from storeplane.domain.store import Store

T = TypeVar("T")


class NotCached(Exception):
    """The read cache does not hold this answer (or the repository has no cache)."""


class CachedReads:
    """``get`` and ``list_page`` of a repository with ``cached_get``/``cached_page``, from
    its cache only."""

    def __init__(self, repo: Any) -> None:
        self._repo = repo

    def get(self, store_id: str) -> Store:
        found: Store | None = self._repo.cached_get(store_id)
        if found is None:
            raise NotCached(store_id)
        return found

    def list_page(self, **filters: Any) -> StorePage:
        found: StorePage | None = self._repo.cached_page(**filters)
        if found is None:
            raise NotCached(filters)
        return found


async def read(call: Callable[..., T], repo: StoreRepository, *args: Any, **kwargs: Any) -> T:
    """``call(repo, *args, **kwargs)``: on the event loop from the cache, else in the pool."""
    if hasattr(repo, "cached_get") and hasattr(repo, "cached_page"):
        try:
            return call(cast(StoreRepository, CachedReads(repo)), *args, **kwargs)
        except NotCached:
            pass
    return await run_in_threadpool(call, repo, *args, **kwargs)
