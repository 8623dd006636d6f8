"""The database tables, as SQLAlchemy 2 typed declarative classes.

These rows are not the domain's classes: :mod:`storeplane.db.mapping` converts between the two,
so the domain stays free of SQLAlchemy. Alembic migrations (``migrations/versions``) create
exactly these tables; change both together.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

# The partial unique index that keeps names unique among live stores; NameTakenError is
# raised when an insert trips it (see repository._is_name_conflict).
LIVE_NAME_INDEX = "uq_stores_live_name"
MANAGED_UID_INDEX = "uq_stores_managed_uid"


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every backend.

    PostgreSQL stores ``timestamptz``; SQLite has no time zones, so values are stored as naive
    UTC and given back their UTC zone on the way out. Normalising at the column type (not only
    in the row mapping) keeps ``WHERE next_reconcile_at <= :now`` correct on SQLite, which
    compares the stored text.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"refusing to store a naive datetime ({value!r}); pass UTC")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


JsonDocument = JSON().with_variant(JSONB(), "postgresql")
# SQLite only auto-increments an INTEGER PRIMARY KEY, so event ids are BIGINT elsewhere only.
EventId = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    pass


class StoreRow(Base):
    __tablename__ = "stores"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    engine: Mapped[str] = mapped_column(String(32))
    plan: Mapped[str] = mapped_column(String(32))
    generation: Mapped[int] = mapped_column(Integer)
    observed_generation: Mapped[int] = mapped_column(Integer)
    phase: Mapped[str] = mapped_column(String(16))
    conditions: Mapped[list[dict[str, Any]]] = mapped_column(JsonDocument)
    url: Mapped[str | None] = mapped_column(String(255))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    deadline_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    failures: Mapped[int] = mapped_column(Integer)
    next_reconcile_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    deletion_requested_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    deleted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    revision: Mapped[int] = mapped_column(Integer)
    # Work lease: which control-plane replica reconciles this store, and until when.
    lease_owner: Mapped[str | None] = mapped_column(String(255))
    lease_expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # The user who created the store; NULL for stores from before there were users.
    owner_id: Mapped[str | None] = mapped_column(String(32), ForeignKey("users.id"))
    # What runs its workloads (cluster | local | simulated), as observed; NULL until known.
    workload_runtime: Mapped[str | None] = mapped_column(String(16))
    # The store's labels (a JSON object of strings); ``?label=k=v`` filters on them.
    labels: Mapped[dict[str, str]] = mapped_column(JsonDocument, server_default=text("'{}'"))
    # The rollout that changed the store's version and still drives it (see domain/rollouts).
    rollout_id: Mapped[str | None] = mapped_column(String(32))
    # Suspended by its owner (spec), and when the reconciler reached Suspended (status).
    suspended: Mapped[bool] = mapped_column(Boolean, default=False)
    suspended_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # Custom domains (spec, a JSON list of names; store_domains keeps them unique) and what
    # the reconciler saw of each (status, a JSON list of {name, status, message}).
    domains: Mapped[list[str]] = mapped_column(JsonDocument, default=list)
    domain_status: Mapped[list[dict[str, str]] | None] = mapped_column(JsonDocument)
    # The engine version asked for (a catalogue version) and the one whose rollout converged
    # (NULL until the store first became Ready).
    engine_version: Mapped[str] = mapped_column(String(64))
    running_engine_version: Mapped[str | None] = mapped_column(String(64))
    # The converged memo of the last pass that found every object in sync and ready
    # (reconciler/converged.py: code, desired state and live resourceVersions digests);
    # NULL when the last pass did not, so a restarted control plane compares it in full.
    converged_key: Mapped[str | None] = mapped_column(String(255))
    # The Store object that owns the store (``Store ns/name``) and its uid (unique: one
    # store per object, whatever the retries); NULL for stores made through the API.
    managed_by: Mapped[str | None] = mapped_column(String(320))
    managed_uid: Mapped[str | None] = mapped_column(String(64))
    # Deletion policy: take a final backup before the namespace goes.
    final_backup: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    # A restore in progress (or the last one, if it failed): RestoreOp.to_json(); NULL: none.
    restore: Mapped[dict[str, Any] | None] = mapped_column(JsonDocument)
    # The store's own backup schedule {"every_hours", "keep"}; NULL: its plan's.
    backup_policy: Mapped[dict[str, Any] | None] = mapped_column(JsonDocument)

    __table_args__ = (
        Index(
            LIVE_NAME_INDEX,
            "name",
            unique=True,
            sqlite_where=text("deleted_at IS NULL"),
            postgresql_where=text("deleted_at IS NULL"),
        ),
        Index("ix_stores_created_at_id", "created_at", "id"),
        Index("ix_stores_phase_created_at_id", "phase", "created_at", "id"),
        Index("ix_stores_next_reconcile_at", "next_reconcile_at"),
        Index("ix_stores_owner_id_created_at_id", "owner_id", "created_at", "id"),
        Index(MANAGED_UID_INDEX, "managed_uid", unique=True),
    )


class StoreDomainRow(Base):
    """One custom domain claimed by one store: the primary key is what makes a domain belong to
    one store at most (a second claim is an IntegrityError, DomainTakenError). A store's rows
    change with its ``domains`` in the same transaction and go when it is Deleted."""

    __tablename__ = "store_domains"

    name: Mapped[str] = mapped_column(String(253), primary_key=True)
    store_id: Mapped[str] = mapped_column(String(32), ForeignKey("stores.id"), index=True)
    claimed_at: Mapped[datetime] = mapped_column(UtcDateTime)


class StoreEventRow(Base):
    __tablename__ = "store_events"

    id: Mapped[int] = mapped_column(EventId, primary_key=True, autoincrement=True)
    store_id: Mapped[str] = mapped_column(String(32), ForeignKey("stores.id"))
    time: Mapped[datetime] = mapped_column(UtcDateTime)
    type: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(64))
    message: Mapped[str] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(255))
    generation: Mapped[int] = mapped_column(Integer)

    __table_args__ = (Index("ix_store_events_store_id_id", "store_id", "id"),)


class StepIntentRow(Base):
    """A reconcile step recorded before its cluster writes and deleted when its event is
    written (see :mod:`storeplane.reconciler.steps`). A row that outlives its pass is a step
    whose outcome the next pass reads from the cluster."""

    __tablename__ = "step_intents"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    store_id: Mapped[str] = mapped_column(String(32), ForeignKey("stores.id"))
    time: Mapped[datetime] = mapped_column(UtcDateTime)
    type: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(64))
    message: Mapped[str] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(255))
    generation: Mapped[int] = mapped_column(Integer)
    writes: Mapped[Any] = mapped_column(
        JSON
    )  # [{"kind", "api_version", "object_kind", "name", "namespace"}]

    __table_args__ = (Index("ix_step_intents_store_id_time", "store_id", "time"),)


# At most one Running check per store: a second request while one runs gets that one back.
RUNNING_CHECK_INDEX = "uq_store_checks_running"


class StoreCheckRow(Base):
    """A smoke check of a store (see :mod:`storeplane.domain.checks`)."""

    __tablename__ = "store_checks"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    store_id: Mapped[str] = mapped_column(String(32), ForeignKey("stores.id"))
    status: Mapped[str] = mapped_column(String(16))
    requested_by: Mapped[str] = mapped_column(String(255))
    step: Mapped[str | None] = mapped_column(String(64))
    message: Mapped[str] = mapped_column(Text)
    order_id: Mapped[str | None] = mapped_column(String(128))
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    runner: Mapped[str | None] = mapped_column(String(255))
    lease_expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    __table_args__ = (
        Index("ix_store_checks_store_id_started_at", "store_id", "started_at"),
        Index("ix_store_checks_status", "status"),
        Index(
            RUNNING_CHECK_INDEX,
            "store_id",
            unique=True,
            sqlite_where=text("status = 'Running'"),
            postgresql_where=text("status = 'Running'"),
        ),
    )


class StoreBackupRow(Base):
    """A backup of a store's database (see :mod:`storeplane.domain.backups`)."""

    __tablename__ = "store_backups"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    store_id: Mapped[str] = mapped_column(String(32), ForeignKey("stores.id"))
    status: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(16))
    engine: Mapped[str] = mapped_column(String(32))
    engine_version: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(16))
    location: Mapped[str] = mapped_column(String(255))
    requested_by: Mapped[str] = mapped_column(String(255))
    message: Mapped[str] = mapped_column(Text)
    size_bytes: Mapped[int | None] = mapped_column(BigInteger)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    runner: Mapped[str | None] = mapped_column(String(255))
    lease_expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    __table_args__ = (
        Index("ix_store_backups_store_id_started_at", "store_id", "started_at"),
        Index("ix_store_backups_status", "status"),
    )


class UserRow(Base):
    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    max_live_stores: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ApiTokenRow(Base):
    """An API token's record: the SHA-256 digest of its value, never the value."""

    __tablename__ = "api_tokens"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(32), ForeignKey("users.id"), index=True)
    label: Mapped[str] = mapped_column(String(64))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class IdempotencyKeyRow(Base):
    """Which store a user's ``Idempotency-Key`` created, and a digest of that request."""

    __tablename__ = "idempotency_keys"

    user_id: Mapped[str] = mapped_column(String(32), ForeignKey("users.id"))
    key: Mapped[str] = mapped_column(String(255))
    request_hash: Mapped[str] = mapped_column(String(64))
    store_id: Mapped[str] = mapped_column(String(32), ForeignKey("stores.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)

    __table_args__ = (PrimaryKeyConstraint("user_id", "key"),)


metadata = Base.metadata

# Core handles for the repository, which works with plain statements rather than a Session.
stores: Table = StoreRow.__table__  # type: ignore[assignment]
store_events: Table = StoreEventRow.__table__  # type: ignore[assignment]
users: Table = UserRow.__table__  # type: ignore[assignment]
api_tokens: Table = ApiTokenRow.__table__  # type: ignore[assignment]
idempotency_keys: Table = IdempotencyKeyRow.__table__  # type: ignore[assignment]
store_checks: Table = StoreCheckRow.__table__  # type: ignore[assignment]


class RolloutRow(Base):
    """A rollout of an engine version across stores (see :mod:`storeplane.domain.rollouts`)."""

    __tablename__ = "rollouts"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    engine: Mapped[str] = mapped_column(String(32))
    to_version: Mapped[str] = mapped_column(String(64))
    selector: Mapped[dict[str, Any]] = mapped_column(JsonDocument)
    # The waves as asked for (ints and "N%" strings); the stores of each are in rollout_stores.
    waves: Mapped[list[Any]] = mapped_column(JsonDocument)
    max_failures: Mapped[int] = mapped_column(Integer)
    gate: Mapped[str] = mapped_column(String(16))
    phase: Mapped[str] = mapped_column(String(16))
    current_wave: Mapped[int] = mapped_column(Integer)
    message: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # Bumped by every save: the API's pause/resume/abort and the driver never overwrite each
    # other's newer state.
    revision: Mapped[int] = mapped_column(Integer)
    # Which control-plane replica drives it, and until when (reconciler/rollouts.py).
    lease_owner: Mapped[str | None] = mapped_column(String(255))
    lease_expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    __table_args__ = (
        Index("ix_rollouts_created_at_id", "created_at", "id"),
        Index("ix_rollouts_phase", "phase"),
    )


class RolloutStoreRow(Base):
    """One store of a rollout: its wave, where it stands, and why it failed if it did."""

    __tablename__ = "rollout_stores"

    rollout_id: Mapped[str] = mapped_column(String(32), ForeignKey("rollouts.id"))
    store_id: Mapped[str] = mapped_column(String(32), ForeignKey("stores.id"))
    store_name: Mapped[str] = mapped_column(String(64))
    wave: Mapped[int] = mapped_column(Integer)
    position: Mapped[int] = mapped_column(Integer)
    from_version: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    cause: Mapped[str | None] = mapped_column(Text)
    check_id: Mapped[str | None] = mapped_column(String(32))
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    __table_args__ = (
        PrimaryKeyConstraint("rollout_id", "store_id"),
        Index("ix_rollout_stores_store_id", "store_id"),
    )


rollouts: Table = RolloutRow.__table__  # type: ignore[assignment]
rollout_stores: Table = RolloutStoreRow.__table__  # type: ignore[assignment]
step_intents: Table = StepIntentRow.__table__  # type: ignore[assignment]
store_domains: Table = StoreDomainRow.__table__  # type: ignore[assignment]
store_backups: Table = StoreBackupRow.__table__  # type: ignore[assignment]
