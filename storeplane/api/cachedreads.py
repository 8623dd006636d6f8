"""Answer the hot reads (a store, a page of stores) on the event loop: from the repository's
read cache when it holds them, else with an awaited read where the repository has one
(PostgreSQL), and in the thread pool otherwise.

Called by the ``GET /api/v1/stores`` and ``GET /api/v1/stores/{id}`` routes. The service
function runs unchanged against :class:`CachedReads`, a view of the repository that answers
``get`` and ``list_page`` from its cache only (no query, so no blocking) and raises
:class:`NotCached` (naming the read it wanted) on a miss. Then:

- on PostgreSQL (``repo.reads_async``) that read is awaited (``get_async`` /
  ``list_page_async``, one statement on the event loop, ``storeplane.db.pgreads``) and the
  service function runs once more against :class:`Answered`, which hands it that answer;
- elsewhere the call is made again, with the real repository, in the thread pool.

A hit, or an awaited read, saves the trip through the pool (a queue hand-off and a thread
switch under the GIL). The service function is the one definition of permissions and
arguments either way: it is pure apart from the repository call.
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

    def __init__(self, method: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        super().__init__(method, args, kwargs)
        self.method = method
        self.args_ = args
        self.kwargs = kwargs


class CachedReads:
    """``get`` and ``list_page`` of a repository with ``cached_get``/``cached_page``, from
    its cache only."""

    def __init__(self, repo: Any) -> None:
        self._repo = repo

    def get(self, store_id: str) -> Store:
        found: Store | None = self._repo.cached_get(store_id)
        if found is None:
            raise NotCached("get", (store_id,), {})
        return found

    def list_page(self, **filters: Any) -> StorePage:
        found: StorePage | None = self._repo.cached_page(**filters)
        if found is None:
            raise NotCached("list_page", (), filters)
        return found


class Answered:
    """``get`` and ``list_page`` answering the one read that was awaited for them."""

    def __init__(self, wanted: NotCached, answer: Any) -> None:
        self._wanted = wanted
        self._answer = answer

    def _give(self, method: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        wanted = self._wanted
        if (method, args, kwargs) != (wanted.method, wanted.args_, wanted.kwargs):
            raise NotCached(method, args, kwargs)  # pragma: no cover - the service is pure
        return self._answer

    def get(self, store_id: str) -> Store:
        return cast(Store, self._give("get", (store_id,), {}))

    def list_page(self, **filters: Any) -> StorePage:
        return cast(StorePage, self._give("list_page", (), filters))


async def read(call: Callable[..., T], repo: StoreRepository, *args: Any, **kwargs: Any) -> T:
    """``call(repo, *args, **kwargs)``: on the event loop from the cache or an awaited read,
    else in the pool."""
    if hasattr(repo, "cached_get") and hasattr(repo, "cached_page"):
        try:
            return call(cast(StoreRepository, CachedReads(repo)), *args, **kwargs)
        except NotCached as miss:
            if getattr(repo, "reads_async", False):
                awaited = getattr(repo, f"{miss.method}_async")
                answer = await awaited(*miss.args_, **miss.kwargs)
                answered = cast(StoreRepository, Answered(miss, answer))
                try:
                    return call(answered, *args, **kwargs)
                except NotCached:  # pragma: no cover - the service asked for another read
                    pass
    return await run_in_threadpool(call, repo, *args, **kwargs)
