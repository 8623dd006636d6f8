"""Small helpers shared by the actions to word their events."""

from __future__ import annotations

from storeplane.domain.events import Event
from storeplane.domain.store import Store
from storeplane.reconciler.context import ReconcileContext
from storeplane.reconciler.steps import describe

__all__ = ["describe", "normal", "warning"]


def normal(store: Store, ctx: ReconcileContext, reason: str, message: str) -> Event:
    return Event.normal(store.id, reason, message, time=ctx.clock(), generation=store.generation)


def warning(store: Store, ctx: ReconcileContext, reason: str, message: str) -> Event:
    return Event.warning(store.id, reason, message, time=ctx.clock(), generation=store.generation)
