"""``SqlCheckRepository``: smoke checks (:class:`storeplane.domain.ports.CheckRepository`) in SQL.

Used by the check service (the API records a request) and the check runner (claims, progress,
outcome). Every method is one transaction. The rules that make several replicas safe:

* At most one ``Running`` check per store (a partial unique index): :meth:`create` returns
  the running one instead of inserting a second, also when two requests race.
* :meth:`claim` hands a check that no runner has yet to exactly one caller (the UPDATE
  re-checks ``runner IS NULL``); :meth:`save_progress` and :meth:`finish` write only while the
  caller still is the check's runner and the check still runs, so a runner that lost its
  check (it was declared interrupted) cannot overwrite the outcome.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Engine, and_, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from storeplane.db.engine import write_transaction
from storeplane.db.leases import take_leases
from storeplane.db.mapping import check_from_row, check_to_row, event_to_row
from storeplane.db.tables import StoreCheckRow, store_checks, store_events
from storeplane.domain.checks import CheckStatus, SmokeCheck
from storeplane.domain.errors import CheckNotFoundError
from storeplane.domain.events import Event

_RUNNING = CheckStatus.RUNNING.value
# Columns a runner writes while a check runs, and when it ends.
_PROGRESS_COLUMNS = ("step", "message", "runner", "lease_expires_at")
_OUTCOME_COLUMNS = ("status", "step", "message", "order_id", "finished_at", "runner")


class SqlCheckRepository:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def create(self, check: SmokeCheck, events: Sequence[Event]) -> tuple[SmokeCheck, bool]:
        """Insert ``check`` with ``events``; (check, True). If the store already has a running
        check, nothing is written and that one comes back: (running check, False)."""
        for _ in range(2):
            try:
                with write_transaction(self.engine) as connection:
                    running = connection.execute(
                        select(store_checks).where(
                            StoreCheckRow.store_id == check.store_id,
                            StoreCheckRow.status == _RUNNING,
                        )
                    ).one_or_none()
                    if running is not None:
                        return check_from_row(running._mapping), False
                    connection.execute(insert(store_checks).values(**check_to_row(check)))
                    if events:
                        connection.execute(insert(store_events), [event_to_row(e) for e in events])
                return check, True
            except IntegrityError:
                # Another request inserted its running check between our read and insert
                # (PostgreSQL; SQLite serialises writers): read that one on the next round.
                continue
        raise RuntimeError(f"could not record a check for {check.store_id}")  # pragma: no cover

    def get(self, store_id: str, check_id: str) -> SmokeCheck:
        with self.engine.connect() as connection:
            row = connection.execute(
                select(store_checks).where(
                    StoreCheckRow.id == check_id, StoreCheckRow.store_id == store_id
                )
            ).one_or_none()
        if row is None:
            raise CheckNotFoundError(store_id, check_id)
        return check_from_row(row._mapping)

    def list_for(self, store_id: str, *, limit: int = 20) -> list[SmokeCheck]:
        """The store's checks, newest first."""
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(store_checks)
                .where(StoreCheckRow.store_id == store_id)
                .order_by(StoreCheckRow.started_at.desc(), StoreCheckRow.id.desc())
                .limit(limit)
            ).all()
        return [check_from_row(r._mapping) for r in rows]

    def claim(self, *, owner: str, until: datetime, limit: int) -> list[SmokeCheck]:
        """Take up to ``limit`` running checks that no runner has yet, oldest first."""
        if limit < 1:
            return []
        unclaimed = and_(StoreCheckRow.status == _RUNNING, StoreCheckRow.runner.is_(None))
        candidates = (
            select(StoreCheckRow.id)
            .where(unclaimed)
            .order_by(StoreCheckRow.started_at.asc())
            .limit(limit)
        )
        with write_transaction(self.engine) as connection:
            ids = take_leases(
                connection,
                candidates,
                unclaimed,
                table=store_checks,
                holder="runner",
                expires="lease_expires_at",
                owner=owner,
                until=until,
            )
            if not ids:
                return []
            rows = connection.execute(
                select(store_checks).where(
                    StoreCheckRow.id.in_(ids),
                    StoreCheckRow.runner == owner,
                    StoreCheckRow.status == _RUNNING,
                )
            ).all()
        return [check_from_row(r._mapping) for r in rows]

    def stale(self, *, now: datetime, owner: str | None = None) -> list[SmokeCheck]:
        """Running checks whose runner is gone: a lease that expired, or (``owner``) ones held
        under the caller's own owner id, which a process that just started cannot be running."""
        gone = StoreCheckRow.lease_expires_at <= now
        if owner is not None:
            gone = or_(gone, StoreCheckRow.runner == owner)
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(store_checks).where(
                    StoreCheckRow.status == _RUNNING, StoreCheckRow.runner.is_not(None), gone
                )
            ).all()
        return [check_from_row(r._mapping) for r in rows]

    def save_progress(self, check: SmokeCheck, *, runner: str) -> bool:
        """Write the step, message and lease while ``runner`` still runs the check."""
        row = check_to_row(check)
        with write_transaction(self.engine) as connection:
            result = connection.execute(
                update(store_checks)
                .where(
                    StoreCheckRow.id == check.id,
                    StoreCheckRow.runner == runner,
                    StoreCheckRow.status == _RUNNING,
                )
                .values({c: row[c] for c in _PROGRESS_COLUMNS})
            )
            return result.rowcount == 1

    def finish(self, check: SmokeCheck, *, runner: str | None, events: Sequence[Event]) -> bool:
        """Write the outcome and its events if the check still runs under ``runner`` (None:
        no runner ever claimed it); False (nothing written) otherwise."""
        row = check_to_row(check)
        held = StoreCheckRow.runner.is_(None) if runner is None else StoreCheckRow.runner == runner
        with write_transaction(self.engine) as connection:
            result = connection.execute(
                update(store_checks)
                .where(StoreCheckRow.id == check.id, StoreCheckRow.status == _RUNNING, held)
                .values({**{c: row[c] for c in _OUTCOME_COLUMNS}, "lease_expires_at": None})
            )
            if result.rowcount != 1:
                return False
            if events:
                connection.execute(insert(store_events), [event_to_row(e) for e in events])
        return True
