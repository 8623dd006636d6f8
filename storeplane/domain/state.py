"""Observe with a pure function: ``determine_state`` compares a store's intent with what the
cluster shows and names the single next thing to do.

The reconciler gathers an :class:`Observation` (I/O), calls :func:`determine_state` (no I/O),
then runs the one action that the state maps to. Because the decision depends only on the
store and the observation, a pass interrupted at any line is simply decided again next time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum

from storeplane.domain.backups import RestoreStage
from storeplane.domain.conditions import (
    Condition,
    ConditionStatus,
    ConditionType,
    Reason,
    set_condition,
)
from storeplane.domain.domains import DomainStatus
from storeplane.domain.ports import NamespacePhase, NamespaceStatus, ObjectRef, ServiceAnswer
from storeplane.domain.store import Phase, Store, WorkloadRuntime
from storeplane.domain.teardown import TeardownStage, teardown_conditions
from storeplane.domain.upgrade import MigrationState, MigrationStatus


class ReconcileState(Enum):
    """The outcome of comparing intent with the cluster; each member's doc says what it means."""

    def __new__(cls, value: str, doc: str) -> ReconcileState:
        member = object.__new__(cls)
        member._value_ = value
        member.__doc__ = doc
        return member

    DELETED = ("Deleted", "Teardown was verified; nothing is left to do.")
    TEARDOWN = ("Teardown", "Deletion was requested and the namespace still exists.")
    AWAITING_TEARDOWN = ("AwaitingTeardown", "The namespace is terminating; wait until it is gone.")
    VERIFY_TEARDOWN = ("VerifyTeardown", "The namespace is gone; prove nothing else is left.")
    NAMESPACE_TERMINATING = (
        "NamespaceTerminating",
        "The namespace is terminating though the store is live (deleted by hand); wait, then recreate.",
    )
    NAMESPACE_MISSING = ("NamespaceMissing", "The namespace does not exist yet (or was removed).")
    POLICIES_OUT_OF_SYNC = (
        "PoliciesOutOfSync",
        "A quota, limit range, network policy, RBAC object or secret is missing or differs.",
    )
    UPGRADE_PENDING = (
        "UpgradePending",
        "The spec asks for another engine version: its migration Job must be applied first "
        "(server and worker wait).",
    )
    MIGRATION_RUNNING = (
        "MigrationRunning",
        "The new version's migration Job runs; the store still serves the old version.",
    )
    MIGRATION_FAILED = (
        "MigrationFailed",
        "The new version's migration Job failed: the store is Failed with its cause and "
        "still serves the old version; nothing is rolled back.",
    )
    MIGRATION_RETRY = (
        "MigrationRetry",
        "A retry was asked for after the migration Job failed: delete it so that it runs again.",
    )
    UPGRADE_ROLLOUT = (
        "UpgradeRollout",
        "The new version's migration Job succeeded: roll out server, worker and the rest.",
    )
    WORKLOADS_OUT_OF_SYNC = (
        "WorkloadsOutOfSync",
        "A chart object is missing or differs, or an object is no longer rendered (prune).",
    )
    WORKLOADS_NOT_READY = (
        "WorkloadsNotReady",
        "Everything is applied; some workload is not ready.",
    )
    UNREACHABLE = ("Unreachable", "Workloads are ready but the engine's health check fails.")
    SUSPENDING = (
        "Suspending",
        "Suspended in spec and everything is applied; some of the store's pods still run.",
    )
    SUSPENDED = (
        "Suspended",
        "Suspended as asked: workloads at zero, the maintenance backend ready behind the Ingress.",
    )
    RESUMED = (
        "Resumed",
        "In sync and answering its health check again after a suspension (record it once).",
    )
    RESTORE_FAILED = (
        "RestoreFailed",
        "The restore Job failed: its transaction rolled back, the data is as it was.",
    )
    RESTORE_WORKLOADS_STOPPED = (
        "RestoreWorkloadsStopped",
        "A restore is under way and the engine's workloads are stopped: load the database.",
    )
    RESTORE_DATABASE_LOADED = (
        "RestoreDatabaseLoaded",
        "The restore Job loaded the backup: start the workloads again.",
    )
    IN_SYNC = ("InSync", "Everything matches the spec and the store answers its health check.")


@dataclass(frozen=True, slots=True)
class Observation:
    """What the cluster shows for one store. Later fields are only observed when the earlier
    ones are in order (no point listing workloads of a namespace that does not exist)."""

    namespace: NamespaceStatus
    policies_out_of_sync: tuple[ObjectRef, ...] = ()
    workloads_out_of_sync: tuple[ObjectRef, ...] = ()
    stale: tuple[ObjectRef, ...] = ()
    not_ready: tuple[str, ...] = ()
    reachable: bool | None = None
    reachability_message: str = ""
    # What answered the health check (None: the answer did not tell, keep what was known).
    workload_runtime: WorkloadRuntime | None = None
    # Pods of the store's own workloads that still run (not the maintenance backend's, not
    # finished Job pods): a suspended store is Suspended only once there are none.
    running_pods: tuple[str, ...] = ()
    # While the store upgrades to another engine version: its migration Job (None otherwise,
    # or when the engine has no migration Job). Until it succeeded, nothing else of the chart
    # is observed (or applied): server and worker stay at the running version.
    migration: MigrationStatus | None = None
    # A restore's Job that failed for good, in words (None: it did not, or there is none).
    restore_failure: str | None = None
    # Each custom domain as seen now (None: not looked at in this observation, keep the last).
    domains: tuple[DomainStatus, ...] | None = None


@dataclass(frozen=True, slots=True)
class Decision:
    state: ReconcileState
    reason: str
    message: str
    details: tuple[str, ...] = field(default=())
    # For IN_SYNC: what the health check said, which becomes StoreReachable's message (it
    # says so when the answer was simulated rather than the engine's own).
    reachability: str = ""


def workload_runtime_of(answer: ServiceAnswer, healthy: bool) -> WorkloadRuntime | None:
    """What runs the store, judged from its health answer (CONTRACTS A). The simulator's
    header says "local" or "simulated"; a healthy answer without it came from a real cluster.
    An unhealthy answer without it says nothing (an API server's own 503 carries no header
    on the simulator either), and an unknown header value is not guessed at."""
    if answer.runtime is not None:
        try:
            return WorkloadRuntime(answer.runtime.strip().lower())
        except ValueError:
            return None
    return WorkloadRuntime.CLUSTER if healthy else None


def simulated_note(answer: ServiceAnswer) -> str:
    """The words that tell a person a health answer was the simulator's, not the engine's."""
    if answer.simulated_images:
        images = ", ".join(answer.simulated_images)
        return (
            f"the answer was simulated: no local runtime for {images}, so nothing runs "
            "behind the store and there is no real shop to use"
        )
    return "the answer was simulated: nothing runs behind the store, there is no real shop to use"


def _names(refs: tuple[ObjectRef, ...], limit: int = 5) -> str:
    shown = ", ".join(str(r) for r in refs[:limit])
    more = len(refs) - limit
    return shown + (f" and {more} more" if more > 0 else "")


def determine_state(store: Store, observed: Observation) -> Decision:
    """Name the next move for ``store`` given ``observed``. Pure: no I/O, no clock."""
    ns = observed.namespace
    if store.phase == Phase.DELETED:
        return Decision(ReconcileState.DELETED, Reason.TEARDOWN_VERIFIED, "store is deleted")
    if store.is_deleting:
        match ns.phase:
            case NamespacePhase.ACTIVE:
                return Decision(
                    ReconcileState.TEARDOWN,
                    Reason.TEARDOWN_STARTED,
                    f"namespace {store.namespace} must be deleted",
                )
            case NamespacePhase.TERMINATING:
                blocking = f": {ns.message}" if ns.message else ""
                return Decision(
                    ReconcileState.AWAITING_TEARDOWN,
                    Reason.NAMESPACE_TERMINATING,
                    f"namespace {store.namespace} is terminating{blocking}",
                )
            case NamespacePhase.ABSENT:
                return Decision(
                    ReconcileState.VERIFY_TEARDOWN,
                    Reason.TEARDOWN_STARTED,
                    f"namespace {store.namespace} is gone; checking for residue",
                )
    if ns.phase == NamespacePhase.TERMINATING:
        return Decision(
            ReconcileState.NAMESPACE_TERMINATING,
            Reason.NAMESPACE_TERMINATING,
            f"namespace {store.namespace} is terminating although the store is live; "
            "it will be recreated once it is gone",
        )
    if ns.phase == NamespacePhase.ABSENT:
        return Decision(
            ReconcileState.NAMESPACE_MISSING,
            Reason.PROGRESSING,
            f"namespace {store.namespace} does not exist",
        )
    if observed.policies_out_of_sync:
        return Decision(
            ReconcileState.POLICIES_OUT_OF_SYNC,
            Reason.PROGRESSING,
            f"policies to apply: {_names(observed.policies_out_of_sync)}",
        )
    upgrade = _upgrade_decision(store, observed)
    if upgrade is not None:
        return upgrade
    if observed.workloads_out_of_sync or observed.stale:
        parts = []
        if observed.workloads_out_of_sync:
            parts.append(f"to apply: {_names(observed.workloads_out_of_sync)}")
        if observed.stale:
            parts.append(f"to prune: {_names(observed.stale)}")
        return Decision(ReconcileState.WORKLOADS_OUT_OF_SYNC, Reason.PROGRESSING, "; ".join(parts))
    restore = store.restore if store.restoring else None
    if restore is not None and observed.restore_failure:
        return Decision(
            ReconcileState.RESTORE_FAILED,
            Reason.RESTORE_FAILED,
            f"restore of backup {restore.backup_id} failed: {observed.restore_failure}; the "
            "restore runs in one transaction, so the database is as it was before",
        )
    if observed.not_ready:
        return Decision(
            ReconcileState.WORKLOADS_NOT_READY,
            Reason.WORKLOADS_NOT_READY,
            "; ".join(observed.not_ready[:5]),
            details=observed.not_ready,
        )
    if restore is not None and restore.stage is RestoreStage.STOPPING:
        return Decision(
            ReconcileState.RESTORE_WORKLOADS_STOPPED,
            Reason.RESTORE_PROGRESSING,
            f"workloads stopped; loading backup {restore.backup_id} into the database",
        )
    if restore is not None and restore.stage is RestoreStage.RESTORING:
        return Decision(
            ReconcileState.RESTORE_DATABASE_LOADED,
            Reason.RESTORE_PROGRESSING,
            f"backup {restore.backup_id} loaded; starting the workloads",
        )
    if store.spec.suspended:
        return _suspended(store, observed)
    if not observed.reachable:
        return Decision(
            ReconcileState.UNREACHABLE,
            Reason.STORE_UNREACHABLE,
            observed.reachability_message or "the engine's health check has not answered yet",
        )
    if store.suspended_at is not None:
        return Decision(
            ReconcileState.RESUMED,
            Reason.RECONCILE_SUCCEEDED,
            "store is ready again after its suspension",
            reachability=observed.reachability_message,
        )
    return Decision(
        ReconcileState.IN_SYNC,
        Reason.RECONCILE_SUCCEEDED,
        "store is ready",
        reachability=observed.reachability_message,
    )


def _suspended(store: Store, observed: Observation) -> Decision:
    """A suspended store is not health-checked (nothing of the engine runs): it is Suspended
    once its own pods are gone and the maintenance backend is ready (a workload like any)."""
    if observed.running_pods:
        return Decision(
            ReconcileState.SUSPENDING,
            Reason.SUSPENDING,
            f"waiting for pods to stop: {', '.join(observed.running_pods[:5])}",
            details=observed.running_pods,
        )
    return Decision(
        ReconcileState.SUSPENDED,
        Reason.SUSPENDED,
        "store is suspended: its workloads are scaled to zero (volumes and secrets kept) and "
        "its Ingress answers the maintenance page with 503",
    )


def migration_failure(store: Store, migration: MigrationStatus) -> str:
    """The words a failed migration leaves in ``last_error`` (and the MigrationFailed event):
    both versions, the Job's cause, what still serves and what to do."""
    rollout = f" (rollout {store.rollout_id})" if store.rollout_id else ""
    return (
        f"upgrade of {store.spec.engine.value} from {store.upgrading_from} to "
        f"{store.spec.engine_version}{rollout} stopped: {migration.cause}. The store still serves "
        f"{store.upgrading_from} (server and worker untouched, nothing rolled back); fix the "
        "cause, then retry to run the migration again"
    )


def _upgrade_decision(store: Store, observed: Observation) -> Decision | None:
    """The upgrade's next move while its migration Job gates the rollout, else None."""
    migration = observed.migration
    running = store.upgrading_from
    if migration is None or running is None:
        return None
    move = f"{store.spec.engine.value} {running} → {store.spec.engine_version}"
    match migration.state:
        case MigrationState.ABSENT:
            return Decision(
                ReconcileState.UPGRADE_PENDING,
                Reason.UPGRADE_STARTED,
                f"upgrade {move}: migration Job {migration.job} runs first; server and worker "
                f"stay at {running} until it succeeds",
            )
        case MigrationState.RUNNING:
            return Decision(
                ReconcileState.MIGRATION_RUNNING,
                Reason.MIGRATION_RUNNING,
                f"upgrade {move}: waiting for migration Job {migration.job}; the store serves "
                f"{running} meanwhile",
            )
        case MigrationState.FAILED:
            message = migration_failure(store, migration)
            # Reported already (last_error says so) and the store is no longer Failed: someone
            # asked for a retry (or changed the spec), so the Job runs again.
            if store.phase != Phase.FAILED and store.last_error == message:
                return Decision(
                    ReconcileState.MIGRATION_RETRY,
                    Reason.MIGRATION_RETRIED,
                    f"upgrade {move}: retrying; the failed migration Job {migration.job} is "
                    "deleted so that it runs again",
                )
            return Decision(ReconcileState.MIGRATION_FAILED, Reason.MIGRATION_FAILED, message)
        case MigrationState.SUCCEEDED:
            # Only what is held back (server, worker...) is this state's; pruning what is left
            # of the old version is the ordinary WORKLOADS_OUT_OF_SYNC.
            if observed.workloads_out_of_sync:
                return Decision(
                    ReconcileState.UPGRADE_ROLLOUT,
                    Reason.MIGRATION_SUCCEEDED,
                    f"upgrade {move}: migration Job {migration.job} succeeded; rolling out "
                    f"server and worker at {store.spec.engine_version}",
                )
    return None


# Which step conditions a state proves True, and which step it is blocked on.
_PROGRESS: dict[ReconcileState, tuple[int, ConditionType | None]] = {
    ReconcileState.NAMESPACE_TERMINATING: (0, ConditionType.NAMESPACE_READY),
    ReconcileState.NAMESPACE_MISSING: (0, ConditionType.NAMESPACE_READY),
    ReconcileState.POLICIES_OUT_OF_SYNC: (1, ConditionType.POLICIES_APPLIED),
    ReconcileState.UPGRADE_PENDING: (2, ConditionType.WORKLOADS_APPLIED),
    ReconcileState.MIGRATION_RUNNING: (2, ConditionType.WORKLOADS_APPLIED),
    ReconcileState.MIGRATION_FAILED: (2, ConditionType.WORKLOADS_APPLIED),
    ReconcileState.MIGRATION_RETRY: (2, ConditionType.WORKLOADS_APPLIED),
    ReconcileState.UPGRADE_ROLLOUT: (2, ConditionType.WORKLOADS_APPLIED),
    ReconcileState.WORKLOADS_OUT_OF_SYNC: (2, ConditionType.WORKLOADS_APPLIED),
    ReconcileState.WORKLOADS_NOT_READY: (3, ConditionType.WORKLOADS_READY),
    ReconcileState.RESTORE_FAILED: (3, ConditionType.WORKLOADS_READY),
    ReconcileState.RESTORE_WORKLOADS_STOPPED: (4, ConditionType.STORE_REACHABLE),
    ReconcileState.RESTORE_DATABASE_LOADED: (4, ConditionType.STORE_REACHABLE),
    ReconcileState.UNREACHABLE: (4, ConditionType.STORE_REACHABLE),
    # Suspended: not reachable on purpose; StoreReachable and Ready say why.
    ReconcileState.SUSPENDING: (3, ConditionType.WORKLOADS_READY),
    ReconcileState.SUSPENDED: (4, ConditionType.STORE_REACHABLE),
    ReconcileState.RESUMED: (5, None),
    ReconcileState.IN_SYNC: (5, None),
}

_TRUE_REASONS: dict[ConditionType, tuple[str, str]] = {
    ConditionType.NAMESPACE_READY: (Reason.NAMESPACE_ACTIVE, "namespace is active"),
    ConditionType.POLICIES_APPLIED: (
        Reason.POLICIES_APPLIED,
        "quota, limit range, network policies, service account and secrets are applied",
    ),
    ConditionType.WORKLOADS_APPLIED: (Reason.WORKLOADS_APPLIED, "every chart object is applied"),
    ConditionType.WORKLOADS_READY: (Reason.WORKLOADS_READY, "every workload is ready"),
    ConditionType.STORE_REACHABLE: (
        Reason.STORE_REACHABLE,
        "the engine answers its health check",
    ),
}

_ORDER: tuple[ConditionType, ...] = tuple(_TRUE_REASONS)

# Where the teardown stands in each deletion state (what the step conditions then say).
_TEARDOWN_STAGES: dict[ReconcileState, TeardownStage] = {
    ReconcileState.TEARDOWN: TeardownStage.REQUESTED,
    ReconcileState.AWAITING_TEARDOWN: TeardownStage.TERMINATING,
    ReconcileState.VERIFY_TEARDOWN: TeardownStage.GONE,
}


def derive_conditions(
    store: Store, decision: Decision, *, now: datetime, error: str | None = None
) -> tuple[Condition, ...]:
    """Conditions after ``decision``: steps before the blocking one are True, the blocking one
    is False with the decision's words (or ``error``, the real cause, when the step failed),
    later ones Unknown; ``Ready`` summarises. Deletion states describe the teardown (see
    :mod:`storeplane.domain.teardown`)."""
    conditions = store.conditions
    progress = _PROGRESS.get(decision.state)
    gen = store.generation
    if decision.state in _TEARDOWN_STAGES:
        reason = decision.reason if error is None else Reason.RETRYING
        message = decision.message if error is None else error
        return teardown_conditions(
            conditions,
            store.namespace,
            _TEARDOWN_STAGES[decision.state],
            now=now,
            generation=gen,
            ready=(reason, message),
        )
    if progress is None:
        reason = decision.reason if error is None else Reason.RETRYING
        message = decision.message if error is None else error
        return set_condition(
            conditions,
            ConditionType.READY,
            ConditionStatus.FALSE,
            reason,
            message,
            now=now,
            generation=gen,
        )
    done, blocked_on = progress
    blocked_reason = decision.reason if error is None else Reason.RETRYING
    blocked_message = decision.message if error is None else error
    for index, type_ in enumerate(_ORDER):
        if index < done:
            reason, message = _TRUE_REASONS[type_]
            if type_ == ConditionType.STORE_REACHABLE and decision.reachability:
                message = decision.reachability
            status = ConditionStatus.TRUE
        elif type_ == blocked_on:
            status, reason, message = ConditionStatus.FALSE, blocked_reason, blocked_message
        else:
            status, reason, message = (
                ConditionStatus.UNKNOWN,
                Reason.PROGRESSING,
                "waiting on an earlier step",
            )
        conditions = set_condition(
            conditions, type_, status, reason, message, now=now, generation=gen
        )
    if blocked_on is None:
        ready = (ConditionStatus.TRUE, Reason.RECONCILE_SUCCEEDED, "store is ready")
    elif decision.state is ReconcileState.SUSPENDED and error is None:
        ready = (ConditionStatus.FALSE, Reason.SUSPENDED, decision.message)
    else:
        ready = (ConditionStatus.FALSE, blocked_reason, f"{blocked_on.value}: {blocked_message}")
    return set_condition(
        conditions, ConditionType.READY, ready[0], ready[1], ready[2], now=now, generation=gen
    )
