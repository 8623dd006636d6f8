"""The change feed behind ``GET /api/v1/stream``: new events of every store, pushed to the open
pages of the console instead of each page polling.

Called by the stream route. One :class:`ChangeFeed` per API process polls the database for
events after the last id it saw (``stream_poll_seconds``, one indexed query however many pages
are open) and hands each batch to every subscriber, filtered to the stores the subscriber may
see. Because it reads the database and not an in-process signal, an event written by any
process (another API replica, the reconciler elsewhere, ``storeplane`` commands) reaches every
open page of every replica; the price is up to one poll interval of delay. The poller runs
only while someone is subscribed. A subscriber that reconnects with the last event id it saw
first gets what it missed (bounded by ``BACKLOG``), then the live feed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from storeplane.domain.fleet import FleetEvent
from storeplane.domain.ports import FleetReader
from storeplane.domain.users import User

log = logging.getLogger(__name__)

BATCH = 500  # events read per poll; a longer burst is read over the next polls
BACKLOG = 500  # events replayed to a reconnecting subscriber; more: it should reload
QUEUE = 64  # batches a slow subscriber may fall behind before it is dropped (it reconnects)


def may_see(user: User, event: FleetEvent) -> bool:
    return user.is_admin or (event.owner_id is not None and event.owner_id == user.id)


@dataclass(eq=False)
class _Subscriber:
    user: User
    backlog: list[FleetEvent] = field(default_factory=list)  # missed before it joined
    queue: asyncio.Queue[list[FleetEvent] | None] = field(
        default_factory=lambda: asyncio.Queue(QUEUE)
    )


class StreamEnded(Exception):
    """The subscriber fell too far behind and was dropped; it should reconnect."""


class Subscription:
    """What one open stream reads from."""

    def __init__(self, subscriber: _Subscriber) -> None:
        self._subscriber = subscriber

    async def next(self, timeout: float) -> list[FleetEvent]:
        """The next batch the user may see (oldest first), or ``[]`` after ``timeout`` seconds
        of quiet (the caller then sends a heartbeat). Raises StreamEnded when dropped."""
        if self._subscriber.backlog:
            missed, self._subscriber.backlog = self._subscriber.backlog, []
            return missed
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            left = deadline - loop.time()
            if left <= 0:
                return []
            try:
                batch = await asyncio.wait_for(self._subscriber.queue.get(), left)
            except TimeoutError:
                return []
            if batch is None:
                raise StreamEnded()
            visible = [e for e in batch if may_see(self._subscriber.user, e)]
            if visible:
                return visible


class ChangeFeed:
    """One per API process (``create_app`` makes it); subscribers come and go."""

    def __init__(self, fleet: FleetReader, *, interval: float) -> None:
        self._fleet = fleet
        self._interval = interval
        self._subscribers: set[_Subscriber] = set()
        self._task: asyncio.Task[None] | None = None
        self._last_id: int | None = None
        self.polls = 0  # queries made, for tests and the docs' figures

    @property
    def subscribers(self) -> int:
        return len(self._subscribers)

    async def latest_id(self) -> int:
        if self._last_id is None:
            self._last_id = await asyncio.to_thread(self._fleet.latest_event_id)
        return self._last_id

    @contextlib.asynccontextmanager
    async def subscription(self, user: User, after_id: int | None) -> AsyncIterator[Subscription]:
        """Subscribe ``user`` while the block runs. With ``after_id``, the first batch holds the
        events after it that were missed (up to ``BACKLOG``)."""
        await self.latest_id()
        # Join before reading the backlog, with no await in between reading the feed's
        # position and joining: every later event then arrives through the queue, every
        # earlier one through the backlog, and none is lost between the two.
        assert self._last_id is not None
        start = self._last_id
        subscriber = _Subscriber(user)
        self._subscribers.add(subscriber)
        self._ensure_running()
        try:
            if after_id is not None and after_id < start:
                missed = await asyncio.to_thread(
                    self._fleet.recent_events,
                    owner_id=None if user.is_admin else user.id,
                    limit=BACKLOG,
                    after_id=after_id,
                )
                subscriber.backlog = [e for e in missed if (e.event.id or 0) <= start]
            yield Subscription(subscriber)
        finally:
            self._subscribers.discard(subscriber)

    def _ensure_running(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="change-feed")

    async def _run(self) -> None:
        failing = False
        while self._subscribers:
            await asyncio.sleep(self._interval)
            try:
                after = await self.latest_id()
                self.polls += 1
                batch = await asyncio.to_thread(
                    self._fleet.recent_events, owner_id=None, limit=BATCH, after_id=after
                )
            except Exception as exc:  # the database is down: keep the streams, try again
                if not failing:
                    log.warning("change feed: cannot read new events (%s); retrying", exc)
                failing = True
                continue
            if failing:
                log.info("change feed: reading events again")
                failing = False
            if not batch:
                continue
            self._last_id = batch[-1].event.id or after
            for subscriber in list(self._subscribers):
                try:
                    subscriber.queue.put_nowait(batch)
                except asyncio.QueueFull:
                    self._drop(subscriber)

    def _drop(self, subscriber: _Subscriber) -> None:
        self._subscribers.discard(subscriber)
        with contextlib.suppress(asyncio.QueueEmpty):
            subscriber.queue.get_nowait()
        subscriber.queue.put_nowait(None)

    async def close(self) -> None:
        """Stop the poller (at app shutdown)."""
        self._subscribers.clear()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
