"""``SqlFleetReader``: fleet-wide reads for the console, computed by the database.

Used by the fleet service (``GET /api/v1/fleet``) and by the change feed behind
``GET /api/v1/stream``. Every figure is a ``GROUP BY`` or a ``LIMIT``-ed read on an indexed
column, so nothing here grows with the number of stores except the counts the database keeps:

* counts: one ``GROUP BY`` per dimension (phase, engine, plan, engine version when the column
  exists), restricted to one owner for a member;
* provisioning durations: the newest ``sample`` stores (``ix_stores_created_at_id``), each with
  the time of its first ``PhaseChanged`` to Ready (a correlated ``MIN`` on
  ``ix_store_events_store_id_id``);
* failing stores: ``phase = 'Failed'`` (``ix_stores_phase_created_at_id``), newest change first;
* recent events and the change feed: ``store_events`` by descending / ascending id.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import Engine, Select, func, select
from sqlalchemy.engine import Connection

from storeplane.db.mapping import event_from_row
from storeplane.db.tables import StoreEventRow, StoreRow, store_events, stores
from storeplane.domain.conditions import Condition, ConditionType, Reason
from storeplane.domain.fleet import (
    MAX_SAMPLE,
    FailingStore,
    FleetEvent,
    FleetSummary,
    duration_stats,
)
from storeplane.domain.store import Phase

# The reconciler's event for a store's first Ready: "Provisioning → Ready: <why>".
_FIRST_READY = f"{Phase.PROVISIONING.value} → {Phase.READY.value}%"
AnySelect = TypeVar("AnySelect", bound=Select[*tuple[Any, ...]])
MAX_FAILING = 20
MAX_EVENTS = 100


class SqlFleetReader:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def summary(
        self, *, owner_id: str | None, sample: int = 100, failing: int = 10, events: int = 20
    ) -> FleetSummary:
        """The fleet (or one owner's part of it, with ``owner_id``) in one read transaction."""
        sample = max(1, min(sample, MAX_SAMPLE))
        with self.engine.connect() as connection:
            by_phase = self._counts(connection, StoreRow.phase, owner_id, live_only=False)
            by_engine = self._counts(connection, StoreRow.engine, owner_id)
            by_plan = self._counts(connection, StoreRow.plan, owner_id)
            version = stores.c.get("engine_version")
            by_version = self._counts(connection, version, owner_id) if version is not None else {}
            durations = self._durations(connection, owner_id, sample)
            failing_rows = self._failing(connection, owner_id, min(failing, MAX_FAILING))
            recent = self.recent_events(
                owner_id=owner_id, limit=min(events, MAX_EVENTS), connection=connection
            )
        return FleetSummary(
            total=sum(n for phase, n in by_phase.items() if phase != Phase.DELETED.value),
            by_phase=by_phase,
            by_engine=by_engine,
            by_plan=by_plan,
            by_engine_version=by_version,
            durations=duration_stats(durations),
            failing=tuple(failing_rows),
            recent_events=tuple(recent),
        )

    @staticmethod
    def _scoped(statement: AnySelect, owner_id: str | None) -> AnySelect:
        return statement if owner_id is None else statement.where(StoreRow.owner_id == owner_id)

    def _counts(
        self, connection: Connection, column: Any, owner_id: str | None, *, live_only: bool = True
    ) -> dict[str, int]:
        statement = select(column, func.count()).group_by(column)
        if live_only:
            statement = statement.where(StoreRow.deleted_at.is_(None))
        rows = connection.execute(self._scoped(statement, owner_id)).all()
        return {str(value): int(count) for value, count in rows if value is not None}

    def _durations(self, connection: Connection, owner_id: str | None, sample: int) -> list[float]:
        first_ready = (
            select(func.min(StoreEventRow.time))
            .where(
                StoreEventRow.store_id == StoreRow.id,
                StoreEventRow.reason == Reason.PHASE_CHANGED,
                StoreEventRow.message.like(_FIRST_READY),
            )
            .scalar_subquery()
        )
        statement = (
            select(StoreRow.created_at, first_ready.label("ready_at"))
            .order_by(StoreRow.created_at.desc(), StoreRow.id.desc())
            .limit(sample)
        )
        rows = connection.execute(self._scoped(statement, owner_id)).all()
        return [
            (_aware(ready) - _aware(created)).total_seconds()
            for created, ready in rows
            if ready is not None
        ]

    def _failing(
        self, connection: Connection, owner_id: str | None, limit: int
    ) -> list[FailingStore]:
        statement = (
            select(
                StoreRow.id,
                StoreRow.name,
                StoreRow.conditions,
                StoreRow.last_error,
                StoreRow.updated_at,
            )
            .where(StoreRow.phase == Phase.FAILED.value)
            .order_by(StoreRow.updated_at.desc(), StoreRow.id.desc())
            .limit(limit)
        )
        failing = []
        for row in connection.execute(self._scoped(statement, owner_id)).all():
            ready = next(
                (
                    Condition.from_json(c)
                    for c in row.conditions or []
                    if c.get("type") == ConditionType.READY.value
                ),
                None,
            )
            failing.append(
                FailingStore(
                    id=row.id,
                    name=row.name,
                    reason=ready.reason if ready else Phase.FAILED.value,
                    message=row.last_error or (ready.message if ready else ""),
                    since=_aware(row.updated_at),
                )
            )
        return failing

    def recent_events(
        self,
        *,
        owner_id: str | None,
        limit: int,
        after_id: int | None = None,
        connection: Connection | None = None,
    ) -> list[FleetEvent]:
        """The newest ``limit`` events (newest first); with ``after_id``, the oldest ``limit``
        events after that id (oldest first: the change feed's order)."""
        statement = select(store_events, StoreRow.name.label("store_name"), StoreRow.owner_id).join(
            StoreRow, StoreRow.id == StoreEventRow.store_id
        )
        if after_id is None:
            statement = statement.order_by(StoreEventRow.id.desc())
        else:
            statement = statement.where(StoreEventRow.id > after_id).order_by(StoreEventRow.id)
        statement = self._scoped(statement.limit(limit), owner_id)
        if connection is None:
            with self.engine.connect() as own:
                rows = own.execute(statement).all()
        else:
            rows = connection.execute(statement).all()
        return [FleetEvent(event_from_row(r._mapping), str(r.store_name), r.owner_id) for r in rows]

    def live_stores_by_owner(self) -> dict[str, int]:
        """How many live stores each user owns (one GROUP BY; for the accounts list)."""
        statement = (
            select(StoreRow.owner_id, func.count())
            .where(StoreRow.deleted_at.is_(None), StoreRow.owner_id.is_not(None))
            .group_by(StoreRow.owner_id)
        )
        with self.engine.connect() as connection:
            rows = connection.execute(statement).all()
        return {str(owner): int(count) for owner, count in rows}

    def latest_event_id(self) -> int:
        """The highest event id so far (0 on an empty database): where a new feed starts."""
        with self.engine.connect() as connection:
            value = connection.execute(select(func.max(StoreEventRow.id))).scalar_one()
        return int(value or 0)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
