"""``SqlBackupRepository``: backups of stores (:mod:`storeplane.domain.backups`) in SQL.

Used by the backup service (the API records a request, lists, deletes) and the backup runner
(claims, outcome, retention). Every method is one transaction. Unlike a smoke check, a backup
whose runner died is *taken over* (:meth:`claim` also hands out running backups whose lease
expired): its Job is named after the backup, so the new runner finds that Job and follows it
instead of dumping twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Engine, and_, case, delete, func, insert, or_, select, update

from storeplane.db.engine import write_transaction
from storeplane.db.leases import take_leases
from storeplane.db.mapping import backup_from_row, backup_to_row, event_to_row
from storeplane.db.tables import StoreBackupRow, store_backups, store_events
from storeplane.domain.backups import Backup, BackupKind, BackupStatus, ScheduleMark
from storeplane.domain.errors import BackupNotFoundError
from storeplane.domain.events import Event

_RUNNING = BackupStatus.RUNNING.value


class SqlBackupRepository:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def _events(self, connection: object, events: Sequence[Event]) -> None:
        if events:
            connection.execute(insert(store_events), [event_to_row(e) for e in events])  # type: ignore[attr-defined]

    def create(self, backup: Backup, events: Sequence[Event]) -> Backup:
        with write_transaction(self.engine) as connection:
            connection.execute(insert(store_backups).values(**backup_to_row(backup)))
            self._events(connection, events)
        return backup

    def get(self, store_id: str, backup_id: str) -> Backup:
        with self.engine.connect() as connection:
            row = connection.execute(
                select(store_backups).where(
                    StoreBackupRow.id == backup_id, StoreBackupRow.store_id == store_id
                )
            ).one_or_none()
        if row is None:
            raise BackupNotFoundError(store_id, backup_id)
        return backup_from_row(row._mapping)

    def list_for(self, store_id: str, *, limit: int = 100) -> list[Backup]:
        """The store's backups, newest first."""
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(store_backups)
                .where(StoreBackupRow.store_id == store_id)
                .order_by(StoreBackupRow.started_at.desc(), StoreBackupRow.id.desc())
                .limit(limit)
            ).all()
        return [backup_from_row(r._mapping) for r in rows]

    def schedule_marks(self) -> dict[str, ScheduleMark]:
        """Every store's :class:`ScheduleMark` in one query (a store without backups is not
        in it: the default mark). The schedule sweep reads this instead of each store's list."""
        scheduled = StoreBackupRow.kind == BackupKind.SCHEDULED.value
        running = StoreBackupRow.status == _RUNNING
        query = select(
            StoreBackupRow.store_id,
            func.max(
                case((scheduled, StoreBackupRow.started_at)), type_=StoreBackupRow.started_at.type
            ),
            func.max(case((running, 1), else_=0)),
        ).group_by(StoreBackupRow.store_id)
        with self.engine.connect() as connection:
            rows = connection.execute(query).all()
        return {store_id: ScheduleMark(last, bool(busy)) for store_id, last, busy in rows}

    def running_for(self, store_id: str) -> Backup | None:
        with self.engine.connect() as connection:
            row = connection.execute(
                select(store_backups).where(
                    StoreBackupRow.store_id == store_id, StoreBackupRow.status == _RUNNING
                )
            ).first()
        return backup_from_row(row._mapping) if row is not None else None

    def claim(
        self, *, owner: str, now: datetime, until: datetime, limit: int, restarted: bool = False
    ) -> list[Backup]:
        """Take up to ``limit`` running backups nobody drives: never claimed, lease expired,
        or (``restarted``) held under ``owner`` by this process's previous life."""
        if limit < 1:
            return []
        free = or_(StoreBackupRow.runner.is_(None), StoreBackupRow.lease_expires_at <= now)
        if restarted:
            free = or_(free, StoreBackupRow.runner == owner)
        claimable = and_(StoreBackupRow.status == _RUNNING, free)
        candidates = (
            select(StoreBackupRow.id)
            .where(claimable)
            .order_by(StoreBackupRow.started_at.asc())
            .limit(limit)
        )
        with write_transaction(self.engine) as connection:
            ids = take_leases(
                connection,
                candidates,
                claimable,
                table=store_backups,
                holder="runner",
                expires="lease_expires_at",
                owner=owner,
                until=until,
            )
            if not ids:
                return []
            rows = connection.execute(
                select(store_backups).where(
                    StoreBackupRow.id.in_(ids),
                    StoreBackupRow.runner == owner,
                    StoreBackupRow.status == _RUNNING,
                )
            ).all()
        return [backup_from_row(r._mapping) for r in rows]

    def save_progress(self, backup: Backup, *, runner: str) -> bool:
        """Renew the lease and write the message while ``runner`` still holds it."""
        with write_transaction(self.engine) as connection:
            result = connection.execute(
                update(store_backups)
                .where(
                    StoreBackupRow.id == backup.id,
                    StoreBackupRow.runner == runner,
                    StoreBackupRow.status == _RUNNING,
                )
                .values(message=backup.message, lease_expires_at=backup.lease_expires_at)
            )
            return result.rowcount == 1

    def finish(self, backup: Backup, *, runner: str, events: Sequence[Event]) -> bool:
        row = backup_to_row(backup)
        with write_transaction(self.engine) as connection:
            result = connection.execute(
                update(store_backups)
                .where(
                    StoreBackupRow.id == backup.id,
                    StoreBackupRow.runner == runner,
                    StoreBackupRow.status == _RUNNING,
                )
                .values(
                    {
                        c: row[c]
                        for c in (
                            "status",
                            "message",
                            "size_bytes",
                            "finished_at",
                            "expires_at",
                            "runner",
                            "lease_expires_at",
                        )
                    }
                )
            )
            if result.rowcount != 1:
                return False
            self._events(connection, events)
        return True

    def set_expiry(
        self, store_id: str, expires_at: datetime | None, events: Sequence[Event]
    ) -> None:
        """Give every succeeded backup of the store without an expiry this one (a Deleted
        store's backups are kept until then)."""
        with write_transaction(self.engine) as connection:
            connection.execute(
                update(store_backups)
                .where(
                    StoreBackupRow.store_id == store_id,
                    StoreBackupRow.expires_at.is_(None),
                )
                .values(expires_at=expires_at)
            )
            self._events(connection, events)

    def set_expiry_of(
        self, backup_id: str, expires_at: datetime | None, events: Sequence[Event]
    ) -> None:
        """Give one backup this expiry (a deletion asked for: the runner removes it)."""
        with write_transaction(self.engine) as connection:
            connection.execute(
                update(store_backups)
                .where(StoreBackupRow.id == backup_id)
                .values(expires_at=expires_at)
            )
            self._events(connection, events)

    def remove(self, backup: Backup, events: Sequence[Event]) -> bool:
        """Delete the row (its dump is already gone from the target); False if it was not there."""
        with write_transaction(self.engine) as connection:
            result = connection.execute(delete(store_backups).where(StoreBackupRow.id == backup.id))
            if result.rowcount != 1:
                return False
            self._events(connection, events)
        return True

    def expired(self, *, now: datetime, limit: int = 100) -> list[Backup]:
        """Finished backups whose expiry passed, oldest first."""
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(store_backups)
                .where(
                    StoreBackupRow.status != _RUNNING,
                    StoreBackupRow.expires_at.is_not(None),
                    StoreBackupRow.expires_at <= now,
                )
                .order_by(StoreBackupRow.expires_at.asc())
                .limit(limit)
            ).all()
        return [backup_from_row(r._mapping) for r in rows]
