"""The reconcile loop: claim due stores through database leases and reconcile them.

Each process runs one :class:`ReconcileLoop` with an owner id. Stores are claimed in batches
(``StoreRepository.claim_due``: a store is leased to one owner at a time, and an expired lease
— a crashed replica — is taken over), reconciled concurrently up to ``workers`` at once and
one pass per store at a time, then saved and released. ``wake()`` (thread-safe) makes the loop
look for due work now instead of at its next tick: the API calls it after a change of intent.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta
from typing import TypeVar

from storeplane.db.outage import as_outage
from storeplane.domain.conditions import Reason
from storeplane.domain.events import Event, EventType
from storeplane.domain.ports import StoreRepository
from storeplane.domain.store import Phase, Store
from storeplane.observability.logging import RECONCILE_ID, STORE_ID
from storeplane.observability.metrics import (
    INFLIGHT,
    PROVISIONING_DURATION,
    RECONCILE_DURATION,
    RECONCILE_ERRORS,
    RECONCILE_TOTAL,
)
from storeplane.observability.outages import DATABASE
from storeplane.reconciler.context import ReconcileContext
from storeplane.reconciler.event_mirror import EventMirror
from storeplane.reconciler.reconcile import Outcome, PassResult, reconcile_store

log = logging.getLogger(__name__)
IN_FLIGHT_PHASES = (Phase.PENDING, Phase.PROVISIONING, Phase.UPDATING, Phase.DELETING)
T = TypeVar("T")


def _outage(exc: BaseException) -> bool:
    """True (and the database marked down, which logs once) if ``exc`` is a database outage."""
    outage = as_outage(exc)
    if outage is None:
        return False
    DATABASE.failed(outage.cause)
    return True


class ReconcileLoop:
    def __init__(
        self,
        repo: StoreRepository,
        ctx: ReconcileContext,
        *,
        owner: str,
        workers: int = 4,
        lease: timedelta = timedelta(seconds=30),
        tick: float = 0.5,
        on_saved: Callable[[Store, Sequence[Event]], None] | None = None,
        before_first_claim: Callable[[], Awaitable[object]] | None = None,
    ) -> None:
        self._repo = repo
        # Awaited once before the first claim (runtime.py: the watcher's first lists, so
        # that a restart's passes read a synced cache and can skip unchanged stores).
        self._before_first_claim = before_first_claim
        # Told of every pass whose status was saved, with its events (runtime.py asks for the
        # smoke check that follows a restore this way).
        self._on_saved = on_saved
        self._ctx = ctx
        self._owner = owner
        self._workers = workers
        self._lease = lease
        self._tick = tick
        self._inflight: set[str] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._wakeup: asyncio.Event | None = None
        # Stores woken and not yet claimed, oldest wake first (a dict keeps insertion order):
        # served in that order, so that no woken store waits behind later ones.
        self._woken: dict[str, None] = {}
        # True while the last claim filled every free worker: more may be due, so a worker
        # that frees up looks at once; otherwise the next tick gathers what came due.
        self._backlog = False
        # Claimed stores the step journal was just read to hold nothing for (once per claim);
        # any other store's pass reads the journal itself.
        self._journal_clear: set[str] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self.passes = 0  # completed passes, for tests and metrics
        # Kubernetes Events mirroring the passes' events, a store's passes batched into one.
        self.events = EventMirror(ctx.cluster)

    @property
    def queue_depth(self) -> int:
        """Passes running plus stores woken and waiting for a worker."""
        return len(self._inflight) + sum(1 for s in self._woken if s not in self._inflight)

    def wake(self, store_id: str | None = None) -> None:
        """Look at ``store_id`` (or for any due work) now. Safe to call from any thread: the
        API calls it after a change of intent, the cluster watcher when a store's objects change."""
        if self._loop is None or self._wakeup is None:
            return
        if store_id is not None:
            self._loop.call_soon_threadsafe(self._mark, store_id)
        else:
            self._loop.call_soon_threadsafe(self._wakeup.set)

    def _mark(self, store_id: str) -> None:
        self._woken.setdefault(store_id, None)
        if self._wakeup is not None:
            self._wakeup.set()

    async def _claim_woken(self, free: int) -> list[Store]:
        # A store woken while its pass runs stays marked: it gets another pass right after.
        ready = [s for s in self._woken if s not in self._inflight][:free]
        if not ready:
            return []
        for store_id in ready:
            del self._woken[store_id]
        return await self._db(
            self._repo.claim_ids, ready, owner=self._owner, now=self._ctx.clock(), lease=self._lease
        )

    async def _db(self, fn: Callable[..., T], *args: object, **kwargs: object) -> T:
        # The repository is synchronous (short transactions); keep it off the event loop.
        return await asyncio.to_thread(fn, *args, **kwargs)

    async def run(self, stop: asyncio.Event) -> None:
        """Run until ``stop`` is set; in-flight passes are allowed to finish."""
        self._loop = asyncio.get_running_loop()
        self._wakeup = asyncio.Event()
        log.info("reconciler %s started with %d workers", self._owner, self._workers)
        if self._before_first_claim is not None:  # wakes meanwhile are kept in _woken
            first = asyncio.ensure_future(self._before_first_claim())
            stopping = asyncio.ensure_future(stop.wait())
            await asyncio.wait({first, stopping}, return_when=asyncio.FIRST_COMPLETED)
            for waiter in (first, stopping):
                waiter.cancel()
            if first.done() and not first.cancelled() and first.exception() is not None:
                log.warning("waiting for the first lists failed: %s", first.exception())
        resumed = False
        while not stop.is_set():
            self._wakeup.clear()  # before claiming: a wake-up during the claim is not lost
            if not resumed:
                resumed = await self._try_announce_resume()
            free = self._workers - len(self._inflight)
            if free > 0 and resumed:
                claim_started = time.monotonic()
                claimed: list[Store] = []
                try:
                    claimed = await self._claim_woken(free)
                    if len(claimed) < free:
                        claimed += await self._db(
                            self._repo.claim_due,
                            owner=self._owner,
                            now=self._ctx.clock(),
                            lease=self._lease,
                            limit=free - len(claimed),
                            # A pass ending during the claim releases the lease the claim
                            # renewed; starting another pass then would run without one.
                            running=frozenset(self._inflight),
                        )
                    self._backlog = len(claimed) >= free
                    await self._read_journal(claimed)
                    DATABASE.succeeded()
                except Exception as exc:
                    # An outage is said once per change of state (DATABASE logs it); anything
                    # else is a bug, with its traceback. Either way: keep trying.
                    if not _outage(exc):
                        log.exception("claiming stores failed; retrying")
                for store in claimed:
                    if store.id not in self._inflight:
                        self._start(store, claim_started)
            waiters = [
                asyncio.ensure_future(self._wakeup.wait()),
                asyncio.ensure_future(stop.wait()),
            ]
            jitter = self._tick * random.uniform(0.8, 1.2)
            _done, pending = await asyncio.wait(
                waiters, timeout=jitter, return_when=asyncio.FIRST_COMPLETED
            )
            for waiter in pending:
                waiter.cancel()
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=30)
        await self.events.close()
        log.info("reconciler %s stopped", self._owner)

    async def _read_journal(self, claimed: list[Store]) -> None:
        """Which of the claimed stores have steps an interrupted pass left half-recorded: one
        query per claim rather than one per pass (the journal is almost always empty). Read
        after the claim, so a previous holder's intents are already there; while we hold the
        lease nobody else adds any."""
        journal = self._ctx.journal
        if not claimed or journal is None:
            return
        pending = set(await self._db(journal.pending_stores))
        self._journal_clear |= {s.id for s in claimed if s.id not in pending}

    async def _try_announce_resume(self) -> bool:
        """Announce the resume once the database answers (it may be down as the process
        starts); claims wait for it, so the Resumed events come before the passes' own."""
        try:
            await self._announce_resume()
        except Exception as exc:
            if not _outage(exc):
                log.exception("announcing the resume failed; retrying")
            return False
        return True

    async def _announce_resume(self) -> None:
        """Tell the timeline of every store caught mid-change that a (re)started control plane
        picks it up: after a crash, this is the event that explains the gap."""
        now = self._ctx.clock()
        events: list[Event] = []
        for phase in IN_FLIGHT_PHASES:
            cursor: str | None = None
            while True:
                page = await self._db(self._repo.list_page, phase=phase, limit=200, cursor=cursor)
                events += [
                    Event.normal(
                        s.id,
                        Reason.RESUMED,
                        f"control plane {self._owner} started; continuing from what the cluster shows "
                        f"(phase {s.phase.value})",
                        time=now,
                        generation=s.generation,
                    )
                    for s in page.items
                ]
                cursor = page.next_cursor
                if cursor is None:
                    break
        if events:
            await self._db(self._repo.append_events, events)

    def _start(self, store: Store, claimed_at: float) -> None:
        self._inflight.add(store.id)
        task = asyncio.create_task(self._process(store, claimed_at), name=f"reconcile {store.id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _process(self, store: Store, claimed_at: float) -> None:
        # Every log line of this pass carries the store and pass ids (task-local context).
        STORE_ID.set(store.id)
        RECONCILE_ID.set(uuid.uuid4().hex[:12])
        INFLIGHT.inc()
        started = time.perf_counter()
        result: PassResult | None = None
        released = said_finished = False
        # "pass started"/"pass finished" bracket the work done under the lease (tests use them
        # to prove that no two replicas ever work on one store at once).
        log.debug("pass started (owner %s)", self._owner)
        try:
            # The pass must end well inside the lease, counted from the claim (a busy process may
            # start it late): past the lease, another replica may take the store.
            budget = self._lease.total_seconds() * 0.8 - (time.monotonic() - claimed_at)
            if budget <= 0:
                raise TimeoutError
            settle = store.id not in self._journal_clear
            result = await asyncio.wait_for(
                reconcile_store(store, self._ctx, settle=settle), timeout=budget
            )
            if not result.events:
                # The status write ends the work under the lease and gives the lease up (see
                # _save): said before it, as the bracket promises, since another replica may
                # start the store's next pass the moment it commits.
                log.debug("pass finished (owner %s)", self._owner)
                said_finished = True
            released = await self._save(result.store, result.events, release=said_finished)
        except TimeoutError:
            log.warning("pass abandoned: 80% of the lease ran out before it ended; nothing saved")
            RECONCILE_TOTAL.labels("timeout").inc()
        except Exception as exc:
            if _outage(exc):
                # The database went away during the pass: nothing more was written to the
                # cluster after the last recorded step (reconciler/steps.py); the store is
                # looked at again once the database is back. DATABASE says it once.
                log.debug("pass stopped: the database is unavailable")
                RECONCILE_TOTAL.labels("database_unavailable").inc()
            else:
                # A bug, not a cluster problem (those become status): log it, look again later.
                log.exception("reconcile of %s crashed", store.id)
                RECONCILE_TOTAL.labels("crash").inc()
        finally:
            if not said_finished:
                log.debug("pass finished (owner %s)", self._owner)
            if not released:
                try:
                    await self._db(self._repo.release, store.id, owner=self._owner)
                except Exception as exc:
                    if not _outage(exc):
                        log.exception(
                            "releasing the lease of %s failed; it expires by itself", store.id
                        )
            self._inflight.discard(store.id)
            self._journal_clear.discard(store.id)
            INFLIGHT.dec()
            self.passes += 1
            if self._wakeup is not None and (self._backlog or self._woken):
                self._wakeup.set()  # a worker is free and work waits for one
        # After the lease is released: bookkeeping that needs no exclusivity.
        if result is not None:
            self._observe(store, result, time.perf_counter() - started)
            if not (result.store.is_deleting or result.store.phase == Phase.DELETED):
                await self._post_events(result.store, result.events)

    def _observe(self, before: Store, result: PassResult, seconds: float) -> None:
        RECONCILE_DURATION.observe(seconds)
        RECONCILE_TOTAL.labels(result.outcome.value).inc()
        if result.outcome is Outcome.ERROR:
            RECONCILE_ERRORS.labels(result.error_reason or "Unknown").inc()
        after = result.store
        if before.observed_generation == 0 and after.phase == Phase.READY:
            took = (self._ctx.clock() - after.created_at).total_seconds()
            PROVISIONING_DURATION.labels(after.spec.engine.value).observe(max(took, 0.0))
        for event in result.events:
            level = logging.WARNING if event.type == EventType.WARNING else logging.INFO
            log.log(level, "%s: %s", event.reason, event.message)
        log.debug(
            "pass ended %s in %.3fs (phase %s)", result.outcome.value, seconds, after.phase.value
        )

    async def _post_events(self, store: Store, events: Sequence[Event]) -> None:
        """Mirror the pass's events as Kubernetes Events in the store's namespace (best effort:
        the database timeline is the record). A store's passes on the way to Ready are batched
        into one Event (reconciler/event_mirror.py): the API has no batch create, and one Event
        per pass was a tenth of a new store's cluster requests."""
        await self.events.add(store, events)

    async def _save(self, store: Store, events: Sequence[Event], *, release: bool) -> bool:
        """Save the pass's status and events; with ``release`` (a pass with no events: the
        resync of an unchanged store) the lease goes in the same write, one write instead of
        two. Returns True if the lease was given up; otherwise the caller releases it (after
        the after-pass hook, for a pass with events)."""
        # Events describe what already happened in the cluster: keep them even if the status
        # write is refused because the intent changed meanwhile (the store is then due again).
        # Steps recorded their own events as they went (those have ids): save the rest.
        unsaved = [e for e in events if e.id is None]
        if unsaved:
            await self._db(self._repo.append_events, unsaved)
        saved = await self._db(self._repo.save_status, store, owner=self._owner, release=release)
        if not saved:
            log.info("status of %s not saved: its intent changed during the pass", store.id)
        elif self._on_saved is not None and events:
            try:
                self._on_saved(store, events)
            except Exception:
                log.exception("after-pass hook failed for %s", store.id)
        return saved and release
