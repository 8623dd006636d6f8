"""Condition types, reasons and the pure helpers that update a store's conditions.

A condition is what a program reads (a person reads the phase): type, status, a CamelCase
reason, a message a person can act on, the generation it describes and when it last changed.
``Ready`` summarises the others.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any


class ConditionType(StrEnum):
    NAMESPACE_READY = "NamespaceReady"
    POLICIES_APPLIED = "PoliciesApplied"
    WORKLOADS_APPLIED = "WorkloadsApplied"
    WORKLOADS_READY = "WorkloadsReady"
    STORE_REACHABLE = "StoreReachable"
    READY = "Ready"


# The order in which provisioning satisfies them; Ready comes last and summarises.
STEP_CONDITIONS: tuple[ConditionType, ...] = (
    ConditionType.NAMESPACE_READY,
    ConditionType.POLICIES_APPLIED,
    ConditionType.WORKLOADS_APPLIED,
    ConditionType.WORKLOADS_READY,
    ConditionType.STORE_REACHABLE,
)


class ConditionStatus(StrEnum):
    TRUE = "True"
    FALSE = "False"
    UNKNOWN = "Unknown"


class Reason:
    """CamelCase reasons shared by conditions and events."""

    CREATED = "Created"
    PROGRESSING = "Progressing"
    NAMESPACE_CREATED = "NamespaceCreated"
    NAMESPACE_ACTIVE = "NamespaceActive"
    NAMESPACE_TERMINATING = "NamespaceTerminating"
    POLICIES_APPLIED = "PoliciesApplied"
    WORKLOADS_APPLIED = "WorkloadsApplied"
    WORKLOADS_PRUNED = "WorkloadsPruned"
    WORKLOADS_NOT_READY = "WorkloadsNotReady"
    WORKLOADS_READY = "WorkloadsReady"
    STORE_REACHABLE = "StoreReachable"
    STORE_UNREACHABLE = "StoreUnreachable"
    RECONCILE_SUCCEEDED = "ReconcileSucceeded"
    SPEC_CHANGED = "SpecChanged"
    UPDATE_REQUESTED = "UpdateRequested"
    DELETION_REQUESTED = "DeletionRequested"
    RETRY_REQUESTED = "RetryRequested"
    DELETING = "Deleting"
    NAMESPACE_DELETED = "NamespaceDeleted"
    TEARDOWN_STARTED = "TeardownStarted"
    TEARDOWN_VERIFIED = "TeardownVerified"
    RESIDUE_FOUND = "ResidueFound"
    DEADLINE_EXCEEDED = "DeadlineExceeded"
    PHASE_CHANGED = "PhaseChanged"
    RETRYING = "Retrying"
    RENDER_FAILED = "RenderFailed"
    CLUSTER_UNAVAILABLE = "ClusterUnavailable"
    RESUMED = "Resumed"
    DOMAINS_CHANGED = "DomainsChanged"  # event: the owner changed the custom domains
    DOMAIN_ACTIVE = "DomainActive"  # event: a custom domain is served (its certificate exists)
    DOMAIN_PENDING = "DomainPending"  # event: a custom domain waits (for its certificate)
    SUSPEND_REQUESTED = "SuspendRequested"
    RESUME_REQUESTED = "ResumeRequested"
    SUSPENDING = "Suspending"  # suspended in spec; waiting for the store's pods to stop
    SUSPENDED = "Suspended"  # StoreReachable/Ready while suspended: the maintenance page answers
    STORE_SUSPENDED = "StoreSuspended"  # event: the reconciler reached Suspended
    STORE_RESUMED = "StoreResumed"  # event: Ready again after a suspension
    SMOKE_TEST_REQUESTED = "SmokeTestRequested"
    SMOKE_TEST_PASSED = "SmokeTestPassed"
    SMOKE_TEST_FAILED = "SmokeTestFailed"
    # labels and rollouts (domain/labels.py, domain/rollouts.py)
    LABELS_CHANGED = "LabelsChanged"
    ROLLOUT_WAVE_STARTED = "RolloutWaveStarted"
    ROLLOUT_STORE_UPGRADED = "RolloutStoreUpgraded"
    ROLLOUT_STORE_FAILED = "RolloutStoreFailed"
    ROLLOUT_STORE_RETRIED = "RolloutStoreRetried"
    ROLLOUT_HALTED = "RolloutHalted"
    # An engine version upgrade (reconciler/actions/start_upgrade.py and friends).
    UPGRADE_STARTED = "UpgradeStarted"
    MIGRATION_RUNNING = "MigrationRunning"
    MIGRATION_SUCCEEDED = "MigrationSucceeded"
    MIGRATION_FAILED = "MigrationFailed"
    MIGRATION_RETRIED = "MigrationRetried"
    UPGRADE_COMPLETED = "UpgradeCompleted"
    BACKUP_REQUESTED = "BackupRequested"
    BACKUP_STARTED = "BackupStarted"
    BACKUP_SUCCEEDED = "BackupSucceeded"
    BACKUP_FAILED = "BackupFailed"
    BACKUP_DELETED = "BackupDeleted"
    BACKUP_EXPIRED = "BackupExpired"
    WAITING_FOR_BACKUP = "WaitingForBackup"
    RESTORE_REQUESTED = "RestoreRequested"
    RESTORE_PROGRESSING = "RestoreProgressing"
    RESTORE_SUCCEEDED = "RestoreSucceeded"
    RESTORE_FAILED = "RestoreFailed"


@dataclass(frozen=True, slots=True)
class Condition:
    type: ConditionType
    status: ConditionStatus
    reason: str
    message: str
    last_transition_time: datetime
    observed_generation: int

    def to_json(self) -> dict[str, Any]:
        return {
            "type": self.type.value,
            "status": self.status.value,
            "reason": self.reason,
            "message": self.message,
            "last_transition_time": self.last_transition_time.isoformat(),
            "observed_generation": self.observed_generation,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Condition:
        return cls(
            type=ConditionType(data["type"]),
            status=ConditionStatus(data["status"]),
            reason=str(data["reason"]),
            message=str(data["message"]),
            last_transition_time=datetime.fromisoformat(data["last_transition_time"]),
            observed_generation=int(data["observed_generation"]),
        )


def initial_conditions(now: datetime, generation: int) -> tuple[Condition, ...]:
    """Every condition starts Unknown: nothing has been observed yet."""
    return tuple(
        Condition(
            t, ConditionStatus.UNKNOWN, Reason.PROGRESSING, "not observed yet", now, generation
        )
        for t in (*STEP_CONDITIONS, ConditionType.READY)
    )


def get_condition(conditions: tuple[Condition, ...], type_: ConditionType) -> Condition | None:
    return next((c for c in conditions if c.type == type_), None)


def set_condition(
    conditions: tuple[Condition, ...],
    type_: ConditionType,
    status: ConditionStatus,
    reason: str,
    message: str,
    *,
    now: datetime,
    generation: int,
) -> tuple[Condition, ...]:
    """Return ``conditions`` with ``type_`` set; the transition time moves only on a status change."""
    current = get_condition(conditions, type_)
    if current is None:
        new = Condition(type_, status, reason, message, now, generation)
        return (*conditions, new)
    changed_at = now if current.status != status else current.last_transition_time
    new = replace(
        current,
        status=status,
        reason=reason,
        message=message,
        last_transition_time=changed_at,
        observed_generation=generation,
    )
    return tuple(new if c.type == type_ else c for c in conditions)


def is_true(conditions: tuple[Condition, ...], type_: ConditionType) -> bool:
    found = get_condition(conditions, type_)
    return found is not None and found.status == ConditionStatus.TRUE
