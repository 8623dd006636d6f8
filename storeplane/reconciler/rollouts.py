"""``RolloutDriver``: moves the active rollouts forward, one replica per rollout.

Each control-plane process runs one driver beside its reconcile loop and check runner
(``runtime.run``). Every ``tick`` seconds (or at once after ``wake()``) it leases the active
rollouts no other replica holds (``RolloutRepository.claim``, renewing its own) and, for each,
makes one move:

1. read the rollout and look at its stores (every member of the current wave and every one
   under way) and their order checks;
2. ask :func:`storeplane.domain.rollouts.step` for the next move;
3. carry out its actions through the store services (a version change is the same call as
   ``PATCH {"engine_version"}``, acting as ``rollout:<id>``), recording first the event that
   says why;
4. save the new rollout, guarded by revision and lease, then record the other events.

The crash story: actions come before the save and are idempotent, so a driver killed between
them leaves a store that already asks for the target; the next pass (this replica after a
restart, or another once the lease expired) sees that and only records ``Upgrading``. No store
is asked twice, and nothing the driver knows lives only in memory.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta

from storeplane.db.outage import note_outage
from storeplane.domain.checks import not_checkable
from storeplane.domain.errors import (
    CheckNotFoundError,
    InvalidRequestError,
    RolloutNotFoundError,
    StoreNotFoundError,
    StoreplaneError,
)
from storeplane.domain.events import Event
from storeplane.domain.ports import CheckRepository, RolloutRepository, StoreRepository
from storeplane.domain.rollouts import (
    STORE_RETRIED,
    WAVE_STARTED,
    ActionKind,
    CheckView,
    Member,
    MemberStatus,
    Note,
    Observed,
    Rollout,
    rollout_actor,
    step,
)
from storeplane.domain.store import Store
from storeplane.services import checks as check_service
from storeplane.services import rollouts as service
from storeplane.settings import Settings

log = logging.getLogger(__name__)

# Notes that say why an action is taken: recorded before it, so the store's timeline reads
# "wave 2 started" before the version change it causes.
_BEFORE_ACTION = frozenset({WAVE_STARTED, STORE_RETRIED})


class RolloutDriver:
    def __init__(
        self,
        rollouts: RolloutRepository,
        stores: StoreRepository,
        checks: CheckRepository | None,
        settings: Settings,
        *,
        owner: str,
        clock: Callable[[], datetime],
        lease: timedelta = timedelta(seconds=30),
        tick: float = 1.0,
        on_change: Callable[[str], None] | None = None,
    ) -> None:
        self._rollouts = rollouts
        self._stores = stores
        self._checks = checks
        self._settings = settings
        self._owner = owner
        self._clock = clock
        self._lease = lease
        self._tick = tick
        self._on_change = on_change
        self._wakeup: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.moves = 0  # rollout saves this driver made, for tests

    def wake(self, _key: str | None = None) -> None:
        """Look at the rollouts now. Safe to call from any thread."""
        if self._loop is not None and self._wakeup is not None:
            self._loop.call_soon_threadsafe(self._wakeup.set)

    async def run(self, stop: asyncio.Event) -> None:
        """Drive rollouts until ``stop`` is set."""
        self._loop = asyncio.get_running_loop()
        self._wakeup = asyncio.Event()
        while not stop.is_set():
            self._wakeup.clear()
            try:
                await asyncio.to_thread(self.drive_once)
            except Exception as exc:  # keep trying; an outage is logged once (db/outage.py)
                if not note_outage(exc):
                    log.exception("driving rollouts failed; retrying")
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

    def drive_once(self) -> int:
        """One move of every rollout this replica holds (or can take); how many moved."""
        ids = self._rollouts.claim(
            owner=self._owner, now=self._clock(), lease=self._lease, limit=20
        )
        moved = 0
        for rollout_id in ids:
            try:
                moved += self.drive(rollout_id)
            except RolloutNotFoundError:
                continue
        return moved

    def drive(self, rollout_id: str) -> int:
        """One move of one rollout; 1 if it saved a change, 0 if nothing changed (or another
        writer saved first: the next pass decides again from a fresh read)."""
        rollout = self._rollouts.get(rollout_id)
        if not rollout.is_active:
            return 0
        now = self._clock()
        observed = self._observe(rollout)
        result = step(rollout, observed, now=now)
        if result.rollout == rollout:
            return 0
        decided = result.rollout
        before = [n for n in result.notes if n.reason in _BEFORE_ACTION]
        events_after = [n for n in result.notes if n.reason not in _BEFORE_ACTION]
        starting = {a.store_id for a in result.actions if a.kind == ActionKind.UPGRADE}
        if events_after and starting:
            # A wave ended and the next one starts in this move: save the end first and say
            # so, so that every store's "upgraded" event comes before the next wave's start.
            was = {m.store_id: m for m in rollout.members}
            ended = replace(
                decided,
                members=tuple(
                    was[m.store_id] if m.store_id in starting else m for m in decided.members
                ),
            )
            saved_end = self._rollouts.save(ended, owner=self._owner)
            if saved_end is None:
                return 0
            self._record(rollout, events_after, observed)
            events_after = []
            decided = replace(decided, revision=saved_end.revision)
        self._record(rollout, before, observed)
        for action in result.actions:
            decided = self._act(decided, action.kind, action.store_id)
        saved = self._rollouts.save(decided, owner=self._owner)
        if saved is None:
            log.info("rollout %s changed meanwhile; deciding again next pass", rollout_id)
            return 0
        self._record(rollout, events_after, observed)
        self.moves += 1
        if saved.phase != rollout.phase:
            log.info("rollout %s: %s (%s)", rollout_id, saved.phase.value, saved.message)
        if not saved.is_active:
            self._rollouts.release(rollout_id, owner=self._owner)
        return 1

    def _observe(self, rollout: Rollout) -> dict[str, Observed]:
        """The members the step needs to see, as they are now (deleted ones left out)."""
        seen: dict[str, Observed] = {}
        for m in rollout.members:
            if m.status in (MemberStatus.DONE, MemberStatus.FAILED):
                continue
            if m.status == MemberStatus.PENDING and m.wave > rollout.current_wave:
                continue
            try:
                store = self._stores.get(m.store_id)
            except StoreNotFoundError:
                continue
            seen[m.store_id] = _observed(store, self._check_of(m))
        return seen

    def _check_of(self, m: Member) -> CheckView | None:
        if m.status != MemberStatus.CHECKING or m.check_id is None or self._checks is None:
            return None
        try:
            check = self._checks.get(m.store_id, m.check_id)
        except CheckNotFoundError:
            return None
        return CheckView(check.id, check.status.value, check.message)

    def _act(self, rollout: Rollout, kind: ActionKind, store_id: str) -> Rollout:
        """Carry out one action; a store that refuses (deleted, incompatible now) fails its
        place with the refusal's words instead of stopping the rollout's driver."""
        try:
            if kind == ActionKind.UPGRADE:
                service.upgrade_store(self._stores, rollout, store_id, self._settings)
            elif kind == ActionKind.RETRY:
                service.retry_store(self._stores, rollout, store_id, self._settings)
            elif kind == ActionKind.CHECK:
                rollout = self._start_check(rollout, store_id)
        except (StoreNotFoundError, InvalidRequestError) as exc:
            return _fail(rollout, store_id, str(exc), self._clock())
        if self._on_change is not None:
            self._on_change(store_id)
        return rollout

    def _start_check(self, rollout: Rollout, store_id: str) -> Rollout:
        if self._checks is None:
            return _fail(rollout, store_id, "this server keeps no order checks", self._clock())
        check, _created = check_service.request_check(
            self._stores, self._checks, store_id, service.rollout_user(rollout)
        )
        members = tuple(
            replace(m, check_id=check.id) if m.store_id == store_id else m for m in rollout.members
        )
        return replace(rollout, members=members)

    def _record(self, rollout: Rollout, notes: list[Note], observed: dict[str, Observed]) -> None:
        if not notes:
            return
        now = self._clock()
        events = []
        for note in notes:
            seen = observed.get(note.store_id)
            generation = seen.generation if seen is not None else 0
            make = Event.warning if note.warning else Event.normal
            events.append(
                make(
                    note.store_id,
                    note.reason,
                    note.message,
                    time=now,
                    generation=generation,
                    actor=rollout_actor(rollout.id),
                )
            )
        try:
            self._stores.append_events(events)
        except StoreplaneError:  # pragma: no cover - a deleted store's events are still kept
            log.exception("could not record rollout events for %s", rollout.id)


def _observed(store: Store, check: CheckView | None) -> Observed:
    return Observed(
        store_id=store.id,
        live=not store.is_deleting and store.deleted_at is None,
        phase=store.phase,
        engine_version=store.spec.engine_version,
        running_engine_version=store.running_engine_version,
        generation=store.generation,
        observed_generation=store.observed_generation,
        last_error=store.last_error,
        check=check,
        checkable=not_checkable(store),
    )


def _fail(rollout: Rollout, store_id: str, cause: str, now: datetime) -> Rollout:
    members = tuple(
        replace(m, status=MemberStatus.FAILED, cause=cause, finished_at=now)
        if m.store_id == store_id
        else m
        for m in rollout.members
    )
    return replace(rollout, members=members)
