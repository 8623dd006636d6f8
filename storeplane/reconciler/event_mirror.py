"""Mirror the reconciler's events as Kubernetes Events, a store's passes batched into one.

The database timeline is the record; these Events are for people using ``kubectl get events``
(best effort: a failed post is logged at debug and dropped). The Kubernetes API has no batch
create, so requests are saved by posting fewer, larger Events: the loop hands each pass's
events to :meth:`EventMirror.add`, which holds them while the store is still on its way
(Pending, Provisioning, Updating, Restoring) and posts everything held for the store as one Event when

- a pass leaves the store settled (Ready, Failed, Suspended...: what a person waits for),
- a pass warned (a person should see a problem without delay), or
- ``hold`` seconds passed since the first event held (a slow provisioning still shows progress),

and when the loop stops (:meth:`close`). A new store's Pending → Provisioning → Ready is one
Event instead of one per pass (~2 for a store with no trouble). The Event carries the last
event's reason, Warning if any event warned, and every event as ``Reason: message`` in order.
Called by :class:`storeplane.reconciler.loop.ReconcileLoop` only.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from storeplane.domain.events import Event, EventType
from storeplane.domain.ports import ClusterPort
from storeplane.domain.store import Phase, Store

log = logging.getLogger(__name__)
ON_THE_WAY = frozenset({Phase.PENDING, Phase.PROVISIONING, Phase.UPDATING, Phase.RESTORING})
# A new store among a thousand waits its turn between its first pass and its Ready pass (the
# queue): 5 s flushed most of them twice at 1,000 stores (1.75 Events per store); a minute
# keeps it one, and kubectl still shows progress within a minute.
DEFAULT_HOLD = 60.0
MESSAGE_LIMIT = 1024  # what the cluster adapter keeps of an Event's message


@dataclass
class _Held:
    events: list[Event] = field(default_factory=list)
    timer: asyncio.Task[None] | None = None


def summary(events: Sequence[Event]) -> tuple[str, str, str]:
    """(type, reason, message) of the one Kubernetes Event that stands for ``events``."""
    last = events[-1]
    if len(events) == 1:
        return last.type.value, last.reason, last.message
    warned = any(e.type == EventType.WARNING for e in events)
    type_ = EventType.WARNING.value if warned else last.type.value
    message = "; ".join(f"{e.reason}: {e.message}" for e in events)
    if len(message) > MESSAGE_LIMIT:
        # Too long for one Event: shorten each part to its share rather than cut the end off
        # (the last parts say where the store got to).
        share = max(16, MESSAGE_LIMIT // len(events) - 2)
        message = "; ".join(_shorten(f"{e.reason}: {e.message}", share) for e in events)
    return type_, last.reason, message


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


class EventMirror:
    def __init__(self, cluster: ClusterPort, *, hold: float = DEFAULT_HOLD) -> None:
        self._cluster = cluster
        self._hold = hold
        self._held: dict[str, _Held] = {}  # by namespace
        self.posted = 0  # Events posted (requests made), for tests

    async def add(self, store: Store, events: Sequence[Event]) -> None:
        """Take a finished pass's events (``store`` as the pass left it); post now or hold."""
        if not events:
            return
        held = self._held.setdefault(store.namespace, _Held())
        held.events.extend(events)
        settled = store.phase not in ON_THE_WAY
        if settled or any(e.type == EventType.WARNING for e in events):
            await self.flush(store.namespace)
        elif held.timer is None:
            held.timer = asyncio.create_task(
                self._flush_later(store.namespace), name=f"events of {store.namespace}"
            )

    async def _flush_later(self, namespace: str) -> None:
        await asyncio.sleep(self._hold)
        held = self._held.get(namespace)
        if held is not None:
            held.timer = None  # this task is ending: flush must not cancel it
        await self.flush(namespace)

    async def flush(self, namespace: str) -> None:
        """Post what is held for ``namespace`` now, as one Event."""
        held = self._held.pop(namespace, None)
        if held is None or not held.events:
            return
        if held.timer is not None:
            held.timer.cancel()
        type_, reason, message = summary(held.events)
        self.posted += 1
        try:
            await self._cluster.record_event(namespace, type_, reason, message)
        except Exception as exc:
            log.debug("could not post event %s in %s: %s", reason, namespace, exc)

    async def close(self) -> None:
        """Post everything held (the loop is stopping)."""
        for namespace in list(self._held):
            await self.flush(namespace)
