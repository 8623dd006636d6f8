"""Events: the append-only audit timeline of a store.

Every phase change and every step outcome becomes one event. Events are never updated or
deleted while their store's record exists (a deleted store keeps them as its tombstone).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

SYSTEM_ACTOR = "system"


class EventType(StrEnum):
    NORMAL = "Normal"
    WARNING = "Warning"


@dataclass(frozen=True, slots=True)
class Event:
    store_id: str
    time: datetime
    type: EventType
    reason: str
    message: str
    actor: str
    generation: int
    id: int | None = None  # assigned by the database

    @classmethod
    def normal(
        cls,
        store_id: str,
        reason: str,
        message: str,
        *,
        time: datetime,
        generation: int,
        actor: str = SYSTEM_ACTOR,
    ) -> Event:
        return cls(store_id, time, EventType.NORMAL, reason, message, actor, generation)

    @classmethod
    def warning(
        cls,
        store_id: str,
        reason: str,
        message: str,
        *,
        time: datetime,
        generation: int,
        actor: str = SYSTEM_ACTOR,
    ) -> Event:
        return cls(store_id, time, EventType.WARNING, reason, message, actor, generation)
