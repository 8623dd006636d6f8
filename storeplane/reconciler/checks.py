"""``CheckRunner``: runs the order checks the API recorded, one replica per check.

Each control-plane process runs one runner beside its reconcile loop (``runtime.run``). It
looks for work every ``tick`` seconds, or at once after ``wake()`` (the API calls it through
the same hook that wakes a store). The multi-replica and crash story (see also
:mod:`storeplane.domain.checks`):

* ``CheckRepository.claim`` hands each new check to exactly one runner, with a lease.
* While a check runs, its runner saves each step and renews the lease at least every third
  of it. A runner that finds it no longer holds the check (it was declared interrupted)
  stops writing; its outcome is dropped.
* A check whose lease expired (its runner died), and at start every check still held under
  this process's owner id (``storeplane dev`` reuses its id after a restart), is finished
  ``Failed`` at step ``interrupted``. It is not re-run: the first attempt may have placed an
  order already. Asking again is one call.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import TypeVar

from storeplane.db.outage import as_outage
from storeplane.domain.checks import SmokeCheck
from storeplane.domain.conditions import Reason
from storeplane.domain.errors import StoreNotFoundError
from storeplane.domain.events import Event
from storeplane.domain.ports import CheckRepository, StoreRepository
from storeplane.observability.outages import DATABASE
from storeplane.reconciler.actions.smoke_check import run_smoke_check
from storeplane.reconciler.context import ReconcileContext

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass
class _Claim:
    """A running check as its runner last saved it, and whether the runner still holds it."""

    check: SmokeCheck
    held: bool = True


class CheckRunner:
    def __init__(
        self,
        checks: CheckRepository,
        stores: StoreRepository,
        ctx: ReconcileContext,
        *,
        owner: str,
        lease: timedelta = timedelta(seconds=30),
        concurrency: int = 2,
        tick: float = 1.0,
        timeout: float = 300.0,
    ) -> None:
        self._checks = checks
        self._stores = stores
        self._ctx = ctx
        self._owner = owner
        self._lease = lease
        self._concurrency = concurrency
        self._tick = tick
        self._timeout = timeout
        self._tasks: set[asyncio.Task[None]] = set()
        self._wakeup: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.finished = 0  # checks this runner finished, for tests

    def wake(self, _store_id: str | None = None) -> None:
        """Look for new checks now. Safe to call from any thread."""
        if self._loop is not None and self._wakeup is not None:
            self._loop.call_soon_threadsafe(self._wakeup.set)

    async def _db(self, fn: Callable[..., T], *args: object, **kwargs: object) -> T:
        return await asyncio.to_thread(fn, *args, **kwargs)

    async def run(self, stop: asyncio.Event) -> None:
        """Run until ``stop`` is set; running checks get ``timeout`` seconds to finish."""
        self._loop = asyncio.get_running_loop()
        self._wakeup = asyncio.Event()
        started = False  # the database may be down as the process starts
        while not stop.is_set():
            self._wakeup.clear()
            try:
                if not started:
                    await self._interrupt_stale(mine=True)
                    started = True
                await self._interrupt_stale(mine=False)
                free = self._concurrency - len(self._tasks)
                if free > 0:
                    until = self._ctx.clock() + self._lease
                    for check in await self._db(
                        self._checks.claim, owner=self._owner, until=until, limit=free
                    ):
                        task = asyncio.create_task(self._run(check), name=f"check {check.id}")
                        self._tasks.add(task)
                        task.add_done_callback(self._tasks.discard)
            except Exception as exc:  # keep trying; an outage is logged once, by DATABASE
                outage = as_outage(exc)
                if outage is None:
                    log.exception("looking for order checks failed; retrying")
                else:
                    DATABASE.failed(outage.cause)
            waiters = [
                asyncio.ensure_future(self._wakeup.wait()),
                asyncio.ensure_future(stop.wait()),
            ]
            _done, pending = await asyncio.wait(
                waiters,
                timeout=self._tick * random.uniform(0.8, 1.2),
                return_when=asyncio.FIRST_COMPLETED,
            )
            for waiter in pending:
                waiter.cancel()
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=self._timeout)

    async def _interrupt_stale(self, *, mine: bool) -> None:
        now = self._ctx.clock()
        stale = await self._db(self._checks.stale, now=now, owner=self._owner if mine else None)
        for check in stale:
            done = check.interrupted(now=now)
            event = Event.warning(
                check.store_id,
                Reason.SMOKE_TEST_FAILED,
                f"order check {check.id} failed at step {done.step!r}: {done.message}",
                time=now,
                generation=await self._generation(check.store_id),
            )
            if await self._db(self._checks.finish, done, runner=check.runner, events=[event]):
                log.warning("order check %s of %s was interrupted", check.id, check.store_id)

    async def _generation(self, store_id: str) -> int:
        try:
            return (await self._db(self._stores.get, store_id)).generation
        except StoreNotFoundError:
            return 0

    async def _run(self, check: SmokeCheck) -> None:
        """Run one claimed check to its outcome, renewing the claim while it runs."""
        claim = _Claim(check)
        steps: asyncio.Queue[str] = asyncio.Queue()

        async def keep_claim() -> None:
            # Save each step as it starts and renew the lease at least every third of it.
            while claim.held:
                try:
                    step: str | None = await asyncio.wait_for(
                        steps.get(), timeout=self._lease.total_seconds() / 3
                    )
                except TimeoutError:
                    step = None
                current = claim.check
                if step is not None:
                    current = current.at_step(step, f"step {step!r} under way")
                claim.check = replace(current, lease_expires_at=self._ctx.clock() + self._lease)
                if not await self._db(self._checks.save_progress, claim.check, runner=self._owner):
                    log.warning(
                        "order check %s is no longer ours; its outcome is dropped", check.id
                    )
                    claim.held = False

        keeper = asyncio.create_task(keep_claim(), name=f"claim {check.id}")
        try:
            store = await self._db(self._stores.get, check.store_id)
            done, event = await run_smoke_check(
                check, store, self._ctx, steps.put_nowait, timeout=self._timeout
            )
        except StoreNotFoundError:
            done = check.failed(
                "check the store", "the store no longer exists", now=self._ctx.clock()
            )
            event = Event.warning(
                check.store_id,
                Reason.SMOKE_TEST_FAILED,
                done.message,
                time=self._ctx.clock(),
                generation=0,
            )
        except Exception as exc:
            log.exception("order check %s crashed", check.id)
            done = check.failed("run", f"unexpected error: {exc}", now=self._ctx.clock())
            event = Event.warning(
                check.store_id,
                Reason.SMOKE_TEST_FAILED,
                f"order check {check.id} failed: {done.message}",
                time=self._ctx.clock(),
                generation=0,
            )
        finally:
            held = claim.held
            claim.held = False
            keeper.cancel()
        if held and await self._db(self._checks.finish, done, runner=self._owner, events=[event]):
            self.finished += 1
            log.info("%s: %s", event.reason, event.message)
            try:
                await self._ctx.cluster.record_event(
                    check.store_id, event.type.value, event.reason, event.message
                )
            except Exception as exc:  # best effort, as for the reconciler's events
                log.debug("could not post event %s: %s", event.reason, exc)
