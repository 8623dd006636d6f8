"""Explicit conversion between domain values and table rows (``to_row`` / ``from_row``).

Called only by the repository. Conditions are saved as plain JSON (``Condition.to_json``);
datetimes come back timezone-aware UTC from :class:`storeplane.db.tables.UtcDateTime`.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import RowMapping

from storeplane.domain.backups import (
    Backup,
    BackupKind,
    BackupPolicy,
    BackupStatus,
    RestoreOp,
)
from storeplane.domain.checks import CheckStatus, SmokeCheck
from storeplane.domain.conditions import Condition
from storeplane.domain.domains import DomainStatus
from storeplane.domain.events import Event, EventType
from storeplane.domain.plans import PlanName
from storeplane.domain.store import Engine, Phase, Store, StoreSpec, WorkloadRuntime
from storeplane.domain.users import ApiToken, Role, User

# The columns the reconciler owns: save_status writes these and nothing else.
STATUS_COLUMNS = (
    "phase",
    "conditions",
    "observed_generation",
    "url",
    "last_error",
    "updated_at",
    "deadline_at",
    "failures",
    "next_reconcile_at",
    "deleted_at",
    "workload_runtime",
    "suspended_at",
    "domain_status",
    "running_engine_version",
    "restore",
    "converged_key",
)

# The columns a change of intent writes (save_intent): the spec, the generation and the
# bookkeeping the domain's intent methods reset. Conditions, observed generation, url,
# last error and deleted_at belong to the reconciler and are never overwritten from an API
# caller's (possibly older) snapshot.
INTENT_COLUMNS = (
    "engine",
    "plan",
    "labels",
    "rollout_id",
    "engine_version",
    "generation",
    "phase",
    "updated_at",
    "deadline_at",
    "failures",
    "next_reconcile_at",
    "deletion_requested_at",
    "revision",
    "suspended",
    "domains",
    "final_backup",
    "backup_policy",
    "restore",
)


def store_to_row(store: Store) -> dict[str, Any]:
    """Every column of ``stores`` except the lease, as plain values."""
    return {
        "id": store.id,
        "name": store.spec.name,
        "engine": store.spec.engine.value,
        "plan": store.spec.plan.value,
        "labels": dict(store.spec.labels),
        "rollout_id": store.rollout_id,
        "managed_by": store.managed_by,
        "managed_uid": store.managed_uid,
        "generation": store.generation,
        "observed_generation": store.observed_generation,
        "phase": store.phase.value,
        "conditions": [c.to_json() for c in store.conditions],
        "url": store.url,
        "last_error": store.last_error,
        "created_at": store.created_at,
        "updated_at": store.updated_at,
        "deadline_at": store.deadline_at,
        "failures": store.failures,
        "next_reconcile_at": store.next_reconcile_at,
        "deletion_requested_at": store.deletion_requested_at,
        "deleted_at": store.deleted_at,
        "revision": store.revision,
        "owner_id": store.owner_id,
        "workload_runtime": store.workload_runtime.value if store.workload_runtime else None,
        "suspended": store.spec.suspended,
        "suspended_at": store.suspended_at,
        "domains": list(store.spec.domains),
        "domain_status": [d.to_json() for d in store.domain_status],
        "engine_version": store.spec.engine_version,
        "running_engine_version": store.running_engine_version,
        "converged_key": store.converged_key,
        "final_backup": store.spec.final_backup,
        "backup_policy": store.spec.backup_policy.to_json() if store.spec.backup_policy else None,
        "restore": store.restore.to_json() if store.restore else None,
    }


def store_from_row(row: RowMapping) -> Store:
    """A Store from a ``stores`` row (``Row._mapping``); the lease columns are ignored."""
    return Store(
        id=row["id"],
        spec=StoreSpec(
            name=row["name"],
            engine=Engine(row["engine"]),
            plan=PlanName(row["plan"]),
            labels=dict(row["labels"] or {}),
            suspended=bool(row["suspended"]),
            domains=tuple(row["domains"] or ()),
            engine_version=row["engine_version"],
            final_backup=bool(row["final_backup"]),
            backup_policy=(
                BackupPolicy.from_json(row["backup_policy"]) if row["backup_policy"] else None
            ),
        ),
        generation=row["generation"],
        observed_generation=row["observed_generation"],
        phase=Phase(row["phase"]),
        conditions=tuple(Condition.from_json(c) for c in row["conditions"]),
        url=row["url"],
        last_error=row["last_error"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        deadline_at=row["deadline_at"],
        failures=row["failures"],
        next_reconcile_at=row["next_reconcile_at"],
        deletion_requested_at=row["deletion_requested_at"],
        deleted_at=row["deleted_at"],
        revision=row["revision"],
        owner_id=row["owner_id"],
        managed_by=row["managed_by"],
        managed_uid=row["managed_uid"],
        workload_runtime=(
            WorkloadRuntime(row["workload_runtime"]) if row["workload_runtime"] else None
        ),
        rollout_id=row["rollout_id"],
        suspended_at=row["suspended_at"],
        domain_status=tuple(DomainStatus.from_json(d) for d in row["domain_status"] or ()),
        running_engine_version=row["running_engine_version"],
        converged_key=row["converged_key"],
        restore=RestoreOp.from_json(row["restore"]) if row["restore"] else None,
    )


def event_to_row(event: Event) -> dict[str, Any]:
    """Every column of ``store_events`` but the id, which the database assigns."""
    return {
        "store_id": event.store_id,
        "time": event.time,
        "type": event.type.value,
        "reason": event.reason,
        "message": event.message,
        "actor": event.actor,
        "generation": event.generation,
    }


def event_from_row(row: RowMapping) -> Event:
    return Event(
        store_id=row["store_id"],
        time=row["time"],
        type=EventType(row["type"]),
        reason=row["reason"],
        message=row["message"],
        actor=row["actor"],
        generation=row["generation"],
        id=row["id"],
    )


def check_to_row(check: SmokeCheck) -> dict[str, Any]:
    return {
        "id": check.id,
        "store_id": check.store_id,
        "status": check.status.value,
        "requested_by": check.requested_by,
        "step": check.step,
        "message": check.message,
        "order_id": check.order_id,
        "started_at": check.started_at,
        "finished_at": check.finished_at,
        "runner": check.runner,
        "lease_expires_at": check.lease_expires_at,
    }


def check_from_row(row: RowMapping) -> SmokeCheck:
    return SmokeCheck(
        id=row["id"],
        store_id=row["store_id"],
        status=CheckStatus(row["status"]),
        requested_by=row["requested_by"],
        started_at=row["started_at"],
        step=row["step"],
        message=row["message"],
        order_id=row["order_id"],
        finished_at=row["finished_at"],
        runner=row["runner"],
        lease_expires_at=row["lease_expires_at"],
    )


def user_to_row(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "name": user.name,
        "role": user.role.value,
        "max_live_stores": user.max_live_stores,
        "created_at": user.created_at,
    }


def user_from_row(row: RowMapping) -> User:
    return User(
        id=row["id"],
        name=row["name"],
        role=Role(row["role"]),
        created_at=row["created_at"],
        max_live_stores=row["max_live_stores"],
    )


def token_to_row(token: ApiToken) -> dict[str, Any]:
    return {
        "id": token.id,
        "user_id": token.user_id,
        "label": token.label,
        "token_hash": token.token_hash,
        "created_at": token.created_at,
        "revoked_at": token.revoked_at,
    }


def token_from_row(row: RowMapping) -> ApiToken:
    return ApiToken(
        id=row["id"],
        user_id=row["user_id"],
        label=row["label"],
        token_hash=row["token_hash"],
        created_at=row["created_at"],
        revoked_at=row["revoked_at"],
    )


def backup_to_row(backup: Backup) -> dict[str, Any]:
    return {
        "id": backup.id,
        "store_id": backup.store_id,
        "status": backup.status.value,
        "kind": backup.kind.value,
        "engine": backup.engine,
        "engine_version": backup.engine_version,
        "target": backup.target,
        "location": backup.location,
        "requested_by": backup.requested_by,
        "message": backup.message,
        "size_bytes": backup.size_bytes,
        "started_at": backup.started_at,
        "finished_at": backup.finished_at,
        "expires_at": backup.expires_at,
        "runner": backup.runner,
        "lease_expires_at": backup.lease_expires_at,
    }


def backup_from_row(row: RowMapping) -> Backup:
    return Backup(
        id=row["id"],
        store_id=row["store_id"],
        status=BackupStatus(row["status"]),
        kind=BackupKind(row["kind"]),
        engine=row["engine"],
        engine_version=row["engine_version"],
        target=row["target"],
        location=row["location"],
        requested_by=row["requested_by"],
        message=row["message"],
        size_bytes=row["size_bytes"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
        expires_at=row["expires_at"],
        runner=row["runner"],
        lease_expires_at=row["lease_expires_at"],
    )
