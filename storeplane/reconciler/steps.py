"""Record every cluster write as a step of the store's timeline, whatever fails and when.

A *step* is one move of an action (apply the namespace, apply the workloads, prune, delete the
namespace...) and becomes one event. Actions write to the cluster only through a step::

    async with ctx.steps.step(store, Reason.WORKLOADS_APPLIED, "applied {objects}",
                              applies=refs) as step:
        for manifest in manifests:
            await step.apply(manifest)
    return step.events

The protocol (write-ahead, then completion, then settling by the next pass):

1. **Before** the first write, ``begin`` records in one transaction the pass's events so far,
   the store's phase and an *intent*: the event-to-be and the planned writes. If the database
   cannot take it, the step raises before touching the cluster: storeplane never changes the
   cluster without a durable note that it is about to. A pass whose lease is gone stops here
   too (``LeaseLostError``).
2. **After** the writes, ``complete`` deletes the intent and inserts the event (naming the
   objects that took effect) in one transaction. Nothing took effect: the intent is dropped.
3. If anything cuts between 1 and 2 (SIGKILL, the database going away, a cluster error, the
   pass's time budget), the intent stays. The next pass of the store, by any replica,
   :meth:`PassSteps.settle`\\ s it first: it reads each planned object from the API server
   and counts a write as done when storeplane's field manager wrote the object at or after the
   intent (``managedFields`` time, or creation time) - or, for a delete, when the object is
   gone or terminating - and completes the intent into its event from what it found (with the
   intent's time, so the timeline says when it happened), or drops it when nothing took
   effect (the pass will then do it again, under a new intent).

So every write storeplane makes becomes exactly one event: in the pass that made it, or in
the next pass, never in both (``complete`` only inserts when it deletes the intent). Steps are
recorded in the order they were begun. Without a journal (unit tests that call
``reconcile_store`` directly) a step just builds its event in memory, as before.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import TracebackType
from typing import Any

from storeplane.domain.events import SYSTEM_ACTOR, Event, EventType
from storeplane.domain.ports import (
    FIELD_MANAGER,
    ClusterPort,
    Manifest,
    ObjectRef,
    PlannedWrite,
    StepIntent,
    StepJournal,
    WriteKind,
)
from storeplane.domain.store import Store

OBJECTS = "{objects}"  # placeholder in a step's message: the objects that took effect
STEP_OBJECTS_NAMED = 100
# Fault hook for tests/scenarios/test_outages.py only: with this environment variable set to p
# (0..1), the process SIGKILLs itself with probability p after a step's writes and before it
# records them - the worst moment, which the next pass must repair.
KILL_AFTER_WRITE_ENV = "STOREPLANE_FAULT_SIGKILL_AFTER_WRITE"
# managedFields times have whole seconds; allow that, and a second of clock skew.
_SLACK = timedelta(seconds=1)
SETTLED_NOTE = (
    " (recorded by the next pass: the pass that made this change was interrupted before it "
    "could record it)"
)


def describe(refs: Sequence[ObjectRef], limit: int = 8) -> str:
    shown = ", ".join(f"{r.kind} {r.name}" for r in refs[:limit])
    more = len(refs) - limit
    return shown + (f" and {more} more" if more > 0 else "")


def _event(intent: StepIntent, done: Sequence[ObjectRef], time: datetime, note: str = "") -> Event:
    # The audit record names every object the step wrote (a chart has a few dozen at most).
    message = intent.message.replace(OBJECTS, describe(done, limit=STEP_OBJECTS_NAMED)) + note
    return Event(
        intent.store_id,
        time,
        EventType(intent.type),
        intent.reason,
        message,
        intent.actor,
        intent.generation,
    )


class Step:
    """One step of a pass: the gateway for its cluster writes (see the module doc)."""

    def __init__(self, steps: PassSteps, store: Store, intent: StepIntent) -> None:
        self._steps = steps
        self._store = store
        self.intent = intent
        self._planned = {w.ref: w.kind for w in intent.writes}
        self.done: list[ObjectRef] = []
        self.events: list[Event] = []  # the step's event once it completed ([] if no effect)

    def _check(self, ref: ObjectRef, kind: WriteKind) -> None:
        if self._planned.get(ref) is not kind:
            raise ValueError(f"{kind.value} of {ref} was not declared when the step began")

    async def apply(self, manifest: Manifest) -> Manifest:
        ref = ObjectRef.of(manifest)
        self._check(ref, WriteKind.APPLY)
        stored = await self._steps.cluster.apply(manifest)
        self.done.append(ref)
        return stored

    async def create_if_absent(self, manifest: Manifest) -> bool:
        ref = ObjectRef.of(manifest)
        self._check(ref, WriteKind.CREATE)
        created = await self._steps.cluster.create_if_absent(manifest)
        if created:
            self.done.append(ref)
        return created

    async def delete(self, ref: ObjectRef) -> None:
        self._check(ref, WriteKind.DELETE)
        await self._steps.cluster.delete(ref)
        self.done.append(ref)

    async def __aenter__(self) -> Step:
        await self._steps.begin(self._store, self.intent)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc is not None:
            # A write may have happened (or be in flight) whatever the error says: leave the
            # intent for the next pass, which asks the cluster what took effect.
            return
        if self.done:
            _maybe_die()
        event = _event(self.intent, self.done, self._steps.clock()) if self.done else None
        completed = await self._steps.complete(self.intent, event)
        self.events = [completed] if completed is not None else []


@dataclass
class PassSteps:
    """The steps of one pass: ``ctx.steps``, bound by ``reconcile_store`` to the pass's event
    list and the process's journal (``ReconcileContext.journal``)."""

    journal: StepJournal | None
    cluster: ClusterPort
    clock: Callable[[], datetime]
    events: list[Event]  # the pass's event list: begin records its unsaved events first

    def step(
        self,
        store: Store,
        reason: str,
        message: str,
        *,
        applies: Sequence[ObjectRef] = (),
        creates: Sequence[ObjectRef] = (),
        deletes: Sequence[ObjectRef] = (),
        warning: bool = False,
        actor: str = SYSTEM_ACTOR,
    ) -> Step:
        """A step that writes exactly the declared objects; ``message`` may contain
        ``{objects}`` (the objects that took effect, in words)."""
        writes = (
            *(PlannedWrite(WriteKind.APPLY, r) for r in applies),
            *(PlannedWrite(WriteKind.CREATE, r) for r in creates),
            *(PlannedWrite(WriteKind.DELETE, r) for r in deletes),
        )
        intent = StepIntent(
            id=uuid.uuid4().hex,
            store_id=store.id,
            time=self.clock(),
            type=(EventType.WARNING if warning else EventType.NORMAL).value,
            reason=reason,
            message=message,
            actor=actor,
            generation=store.generation,
            writes=writes,
        )
        return Step(self, store, intent)

    async def begin(self, store: Store, intent: StepIntent) -> None:
        if self.journal is None:
            return
        unsaved = [i for i, e in enumerate(self.events) if e.id is None]
        saved = await asyncio.to_thread(
            self.journal.begin, store, intent, [self.events[i] for i in unsaved]
        )
        for i, event in zip(unsaved, saved, strict=True):
            self.events[i] = event

    async def complete(self, intent: StepIntent, event: Event | None) -> Event | None:
        if self.journal is None:
            return event
        return await asyncio.to_thread(self.journal.complete, intent.id, event)

    async def settle(self, store: Store) -> list[Event]:
        """Complete the store's intents left by an interrupted pass (see the module doc) and
        return their events (already recorded). Raises what the cluster or database raise."""
        if self.journal is None:
            return []
        settled: list[Event] = []
        for intent in await asyncio.to_thread(self.journal.pending, store.id):
            done = [w.ref for w in intent.writes if await self._took_effect(w, intent.time)]
            event = _event(intent, done, intent.time, SETTLED_NOTE) if done else None
            completed = await self.complete(intent, event)
            if completed is not None:
                settled.append(completed)
        return settled

    async def _took_effect(self, write: PlannedWrite, since: datetime) -> bool:
        live = await self.cluster.get(write.ref)
        if write.kind is WriteKind.DELETE:
            return live is None or bool(live.get("metadata", {}).get("deletionTimestamp"))
        return live is not None and written_since(live, since - _SLACK)


def _maybe_die() -> None:
    chance = float(os.environ.get(KILL_AFTER_WRITE_ENV) or 0)
    if chance and random.random() < chance:
        os.kill(os.getpid(), signal.SIGKILL)


def written_since(live: Manifest, since: datetime) -> bool:
    """True if storeplane's field manager wrote (or created) ``live`` at or after ``since``."""
    meta: dict[str, Any] = live.get("metadata", {})
    times = [
        entry.get("time")
        for entry in meta.get("managedFields") or []
        if entry.get("manager") == FIELD_MANAGER
    ]
    return any(_at_or_after(t, since) for t in times if t)


def _at_or_after(stamp: str, since: datetime) -> bool:
    try:
        when = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return False
    return when >= since.replace(microsecond=0)
