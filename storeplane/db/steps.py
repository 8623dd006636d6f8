"""``SqlStepJournal``: the :class:`storeplane.domain.ports.StepJournal` on SQLAlchemy.

Used by :mod:`storeplane.reconciler.steps` (one journal per process, holding its lease owner
id). ``begin`` runs before a step's cluster writes and ``complete`` after them; see that module
for the whole protocol and docs/architecture.md for why.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Engine, case, delete, insert, select, update

from storeplane.db.engine import write_transaction
from storeplane.db.mapping import event_to_row
from storeplane.db.tables import StepIntentRow, StoreRow, step_intents, store_events, stores
from storeplane.domain.errors import LeaseLostError
from storeplane.domain.events import Event
from storeplane.domain.ports import ObjectRef, PlannedWrite, StepIntent, WriteKind
from storeplane.domain.store import Store


def _writes_to_json(writes: Sequence[PlannedWrite]) -> list[dict[str, Any]]:
    return [
        {
            "kind": w.kind.value,
            "api_version": w.ref.api_version,
            "object_kind": w.ref.kind,
            "name": w.ref.name,
            "namespace": w.ref.namespace,
        }
        for w in writes
    ]


def _writes_from_json(data: Sequence[dict[str, Any]]) -> tuple[PlannedWrite, ...]:
    return tuple(
        PlannedWrite(
            WriteKind(d["kind"]),
            ObjectRef(d["api_version"], d["object_kind"], d["name"], d.get("namespace")),
        )
        for d in data
    )


def _insert_event(connection: Connection, event: Event) -> Event:
    result = connection.execute(insert(store_events).values(**event_to_row(event)))
    key = result.inserted_primary_key
    assert key is not None
    return _with_id(event, int(key[0]))


def _with_id(event: Event, event_id: int) -> Event:
    return Event(
        event.store_id,
        event.time,
        event.type,
        event.reason,
        event.message,
        event.actor,
        event.generation,
        id=event_id,
    )


class SqlStepJournal:
    """Step intents in the same database as the stores; ``owner`` is this process's lease id."""

    def __init__(self, engine: Engine, *, owner: str) -> None:
        self.engine = engine
        self.owner = owner

    def begin(self, store: Store, intent: StepIntent, unsaved: Sequence[Event]) -> list[Event]:
        with write_transaction(self.engine) as connection:
            # The lease check and the phase in one statement: a pass that lost its lease must
            # not write to the cluster, and a phase already reached (Provisioning) must survive
            # the pass dying, or the next pass would announce it again. The phase is written
            # only while the intent is the one the pass read (as save_status does).
            result = connection.execute(
                update(stores)
                .where(StoreRow.id == store.id, StoreRow.lease_owner == self.owner)
                .values(
                    phase=case(
                        (StoreRow.revision == store.revision, store.phase.value),
                        else_=StoreRow.phase,
                    )
                )
            )
            if result.rowcount != 1:
                raise LeaseLostError(store.id)
            saved = [_insert_event(connection, e) for e in unsaved]
            connection.execute(
                insert(step_intents).values(
                    id=intent.id,
                    store_id=intent.store_id,
                    time=intent.time,
                    type=intent.type,
                    reason=intent.reason,
                    message=intent.message,
                    actor=intent.actor,
                    generation=intent.generation,
                    writes=_writes_to_json(intent.writes),
                )
            )
        return saved

    def complete(self, intent_id: str, event: Event | None) -> Event | None:
        with write_transaction(self.engine) as connection:
            gone = connection.execute(delete(step_intents).where(StepIntentRow.id == intent_id))
            if gone.rowcount != 1 or event is None:
                return None  # already settled elsewhere, or nothing took effect
            return _insert_event(connection, event)

    def pending(self, store_id: str) -> list[StepIntent]:
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(step_intents)
                .where(StepIntentRow.store_id == store_id)
                .order_by(StepIntentRow.time.asc(), StepIntentRow.id.asc())
            ).all()
        return [
            StepIntent(
                id=r.id,
                store_id=r.store_id,
                time=r.time,
                type=r.type,
                reason=r.reason,
                message=r.message,
                actor=r.actor,
                generation=r.generation,
                writes=_writes_from_json(r.writes),
            )
            for r in rows
        ]

    def pending_stores(self) -> list[str]:
        with self.engine.connect() as connection:
            return list(
                connection.execute(select(StepIntentRow.store_id).distinct()).scalars().all()
            )
