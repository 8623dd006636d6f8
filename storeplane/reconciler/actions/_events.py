"""Small helpers shared by the actions to word their events."""

from __future__ import annotations

from collections.abc import Sequence

from storeplane.domain.events import Event
from storeplane.domain.ports import ObjectRef
from storeplane.domain.store import Store
from storeplane.reconciler.context import ReconcileContext


def describe(refs: Sequence[ObjectRef], limit: int = 8) -> str:
    shown = ", ".join(f"{r.kind} {r.name}" for r in refs[:limit])
    more = len(refs) - limit
    return shown + (f" and {more} more" if more > 0 else "")


def normal(store: Store, ctx: ReconcileContext, reason: str, message: str) -> Event:
    return Event.normal(store.id, reason, message, time=ctx.clock(), generation=store.generation)


def warning(store: Store, ctx: ReconcileContext, reason: str, message: str) -> Event:
    return Event.warning(store.id, reason, message, time=ctx.clock(), generation=store.generation)
