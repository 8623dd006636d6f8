"""``SqlRolloutRepository``: rollouts and their stores (:class:`storeplane.domain.ports.RolloutRepository`).

Used by the rollout service (create, read, pause/resume/abort) and the rollout driver
(``reconciler/rollouts.py``: claim, save). Every method is one transaction. The rules that make
several replicas and a crash safe:

* :meth:`save` writes only if the rollout still has the revision the caller read (and, for the
  driver, only while it holds the lease), then bumps the revision: the API's pause and the
  driver's next step never overwrite each other; the loser re-reads.
* :meth:`claim` leases active rollouts to one driver at a time (``FOR UPDATE SKIP LOCKED`` on
  PostgreSQL; SQLite serialises writers); the UPDATE re-checks the lease, so two replicas
  never both hold one.
* :meth:`create` refuses (409) a rollout that would take a store another active rollout holds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, and_, delete, insert, or_, select, update

from storeplane.db.engine import write_transaction
from storeplane.db.leases import take_leases
from storeplane.db.tables import (
    RolloutRow,
    RolloutStoreRow,
    StoreRow,
    rollout_stores,
    rollouts,
    stores,
)
from storeplane.domain.errors import InvalidTransitionError, RolloutNotFoundError
from storeplane.domain.rollouts import (
    ACTIVE_PHASES,
    Gate,
    Member,
    MemberStatus,
    Rollout,
    RolloutPhase,
    Selector,
)

_ACTIVE = [p.value for p in ACTIVE_PHASES]


def rollout_to_row(rollout: Rollout) -> dict[str, Any]:
    return {
        "id": rollout.id,
        "engine": rollout.engine,
        "to_version": rollout.to_version,
        "selector": rollout.selector.to_json(),
        "waves": list(rollout.waves),
        "max_failures": rollout.max_failures,
        "gate": rollout.gate.value,
        "phase": rollout.phase.value,
        "current_wave": rollout.current_wave,
        "message": rollout.message,
        "created_by": rollout.created_by,
        "created_at": rollout.created_at,
        "updated_at": rollout.updated_at,
        "finished_at": rollout.finished_at,
        "revision": rollout.revision,
    }


def member_to_row(rollout_id: str, m: Member) -> dict[str, Any]:
    return {
        "rollout_id": rollout_id,
        "store_id": m.store_id,
        "store_name": m.store_name,
        "wave": m.wave,
        "position": m.position,
        "from_version": m.from_version,
        "status": m.status.value,
        "cause": m.cause,
        "check_id": m.check_id,
        "started_at": m.started_at,
        "finished_at": m.finished_at,
    }


def _member(row: Any) -> Member:
    return Member(
        store_id=row["store_id"],
        store_name=row["store_name"],
        wave=row["wave"],
        position=row["position"],
        from_version=row["from_version"],
        status=MemberStatus(row["status"]),
        cause=row["cause"],
        check_id=row["check_id"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
    )


def _rollout(row: Any, members: Sequence[Member]) -> Rollout:
    return Rollout(
        id=row["id"],
        engine=row["engine"],
        to_version=row["to_version"],
        selector=Selector.from_json(row["selector"]),
        waves=tuple(row["waves"]),
        max_failures=row["max_failures"],
        gate=Gate(row["gate"]),
        phase=RolloutPhase(row["phase"]),
        current_wave=row["current_wave"],
        message=row["message"],
        created_by=row["created_by"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        finished_at=row["finished_at"],
        members=tuple(members),
        revision=row["revision"],
    )


class SqlRolloutRepository:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def create(self, rollout: Rollout) -> Rollout:
        """Insert the rollout and its members; InvalidTransitionError (409) naming the stores
        an active rollout already holds."""
        ids = [m.store_id for m in rollout.members]
        with write_transaction(self.engine) as connection:
            held = connection.execute(
                select(RolloutStoreRow.store_id, RolloutStoreRow.store_name, RolloutRow.id)
                .join(RolloutRow, RolloutRow.id == RolloutStoreRow.rollout_id)
                .where(RolloutStoreRow.store_id.in_(ids), RolloutRow.phase.in_(_ACTIVE))
                .order_by(RolloutStoreRow.store_name)
            ).all()
            if held:
                names = ", ".join(f"{name} ({rid})" for _sid, name, rid in held)
                raise InvalidTransitionError(
                    f"these stores are in a rollout that is not finished: {names}; wait for it, "
                    "or abort it, before starting another"
                )
            connection.execute(insert(rollouts).values(**rollout_to_row(rollout)))
            connection.execute(
                insert(rollout_stores), [member_to_row(rollout.id, m) for m in rollout.members]
            )
        return rollout

    def get(self, rollout_id: str) -> Rollout:
        with self.engine.connect() as connection:
            row = connection.execute(
                select(rollouts).where(RolloutRow.id == rollout_id)
            ).one_or_none()
            if row is None:
                raise RolloutNotFoundError(rollout_id)
            return _rollout(row._mapping, _members(connection, rollout_id))

    def list_recent(self, *, limit: int = 50) -> list[Rollout]:
        """Newest first."""
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(rollouts)
                .order_by(RolloutRow.created_at.desc(), RolloutRow.id.asc())
                .limit(limit)
            ).all()
            return [_rollout(r._mapping, _members(connection, r.id)) for r in rows]

    def save(self, rollout: Rollout, *, owner: str | None = None) -> Rollout | None:
        """Write ``rollout`` (phase, message, wave, members) if its revision is still current
        (and ``owner``, when given, holds its lease); the saved value with the next revision,
        or None when someone saved first (re-read and decide again). A rollout that ends
        frees its stores' ``rollout_id`` in the same transaction."""
        row = rollout_to_row(rollout)
        row["revision"] = rollout.revision + 1
        guard = [RolloutRow.id == rollout.id, RolloutRow.revision == rollout.revision]
        if owner is not None:
            guard.append(RolloutRow.lease_owner == owner)
        with write_transaction(self.engine) as connection:
            result = connection.execute(update(rollouts).where(*guard).values(**row))
            if result.rowcount != 1:
                return None
            connection.execute(
                delete(rollout_stores).where(RolloutStoreRow.rollout_id == rollout.id)
            )
            connection.execute(
                insert(rollout_stores), [member_to_row(rollout.id, m) for m in rollout.members]
            )
            if not rollout.is_active:
                connection.execute(
                    update(stores).where(StoreRow.rollout_id == rollout.id).values(rollout_id=None)
                )
        return replace(rollout, revision=rollout.revision + 1)

    def claim(self, *, owner: str, now: datetime, lease: timedelta, limit: int) -> list[str]:
        """Lease up to ``limit`` active rollouts whose lease is free, expired or ``owner``'s
        (renewing it); their ids."""
        claimable = and_(
            RolloutRow.phase.in_(_ACTIVE),
            or_(
                RolloutRow.lease_owner.is_(None),
                RolloutRow.lease_expires_at.is_(None),
                RolloutRow.lease_expires_at <= now,
                RolloutRow.lease_owner == owner,
            ),
        )
        candidates = (
            select(RolloutRow.id)
            .where(claimable)
            .order_by(RolloutRow.created_at.asc())
            .limit(limit)
        )
        with write_transaction(self.engine) as connection:
            ids = take_leases(
                connection,
                candidates,
                claimable,
                table=rollouts,
                holder="lease_owner",
                expires="lease_expires_at",
                owner=owner,
                until=now + lease,
            )
            if not ids:
                return []
            return list(
                connection.execute(
                    select(RolloutRow.id).where(
                        RolloutRow.id.in_(ids), RolloutRow.lease_owner == owner
                    )
                ).scalars()
            )

    def release(self, rollout_id: str, *, owner: str) -> None:
        with write_transaction(self.engine) as connection:
            connection.execute(
                update(rollouts)
                .where(RolloutRow.id == rollout_id, RolloutRow.lease_owner == owner)
                .values(lease_owner=None, lease_expires_at=None)
            )

    def lease_of(self, rollout_id: str) -> tuple[str | None, datetime | None]:
        """Who drives the rollout and until when (tests, diagnostics)."""
        with self.engine.connect() as connection:
            row = connection.execute(
                select(RolloutRow.lease_owner, RolloutRow.lease_expires_at).where(
                    RolloutRow.id == rollout_id
                )
            ).one_or_none()
        if row is None:
            raise RolloutNotFoundError(rollout_id)
        return row[0], row[1]


def _members(connection: Connection, rollout_id: str) -> list[Member]:
    rows = connection.execute(
        select(rollout_stores)
        .where(RolloutStoreRow.rollout_id == rollout_id)
        .order_by(RolloutStoreRow.position.asc())
    ).all()
    return [_member(r._mapping) for r in rows]
