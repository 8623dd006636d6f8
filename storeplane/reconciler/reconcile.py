"""One reconcile pass over one store: observe, decide, act, repeat while progress is immediate.

The pass never raises for a cluster problem: failures become status (``last_error``, the
blocked condition), a Warning event and a backoff, and a passed deadline turns the store
``Failed`` with the last real cause. The caller saves the returned store and the events that
have no id yet (steps record their own events, see ``reconciler/steps.py``). A database
outage is raised (``DatabaseUnavailableError``): no step writes to the cluster without it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import Enum

from storeplane.domain.conditions import (
    ConditionStatus,
    ConditionType,
    Reason,
    get_condition,
    set_condition,
)
from storeplane.domain.domains import DomainState
from storeplane.domain.errors import ReconcileError, RetryableError, TerminalError
from storeplane.domain.events import Event
from storeplane.domain.ports import NamespacePhase
from storeplane.domain.reachability import (
    CLUSTER_UNREACHABLE,
    SETTLED_PHASES,
    already_unknown,
    unreachable_conditions,
    unreachable_message,
)
from storeplane.domain.state import (
    Decision,
    Observation,
    ReconcileState,
    derive_conditions,
    determine_state,
)
from storeplane.domain.store import Phase, Store
from storeplane.observability.outages import CLUSTER
from storeplane.reconciler.actions._events import normal, warning
from storeplane.reconciler.actions.apply_policies import apply_policies
from storeplane.reconciler.actions.apply_workloads import apply_workloads
from storeplane.reconciler.actions.ensure_namespace import ensure_namespace
from storeplane.reconciler.actions.fail_migration import fail_migration
from storeplane.reconciler.actions.rerun_migration import rerun_migration
from storeplane.reconciler.actions.restore_database import (
    begin_load,
    fail_restore,
    finish_load,
    finish_restore,
)
from storeplane.reconciler.actions.resume import settle_resumed
from storeplane.reconciler.actions.roll_out_upgrade import roll_out_upgrade
from storeplane.reconciler.actions.start_upgrade import start_upgrade
from storeplane.reconciler.actions.suspend import settle_suspended
from storeplane.reconciler.actions.teardown import teardown
from storeplane.reconciler.actions.track_domains import track_domains
from storeplane.reconciler.actions.verify_no_residue import verify_no_residue
from storeplane.reconciler.backoff import backoff_delay
from storeplane.reconciler.context import ReconcileContext
from storeplane.reconciler.converged import live_versions, may_skip, persisted_key
from storeplane.reconciler.desired import (
    DesiredState,
    desired_inputs,
    desired_key,
    render_desired,
)
from storeplane.reconciler.observe import observe, observe_engine

# While the cluster is unreachable a settled store is looked at again at least this often
# (seconds), however many passes failed: it must turn back to Ready soon after the outage.
UNREACHABLE_RETRY_CAP = 10.0
# Enough for namespace -> policies -> workloads -> check, with room for a retry of one step.
MAX_STEPS = 6
DOMAIN_RECHECK = timedelta(seconds=30)
# Waits that end with a change of the store's own (watched, labelled) objects, and how often a
# store in one is looked at anyway while the cluster adapter's cache is watch-fed.
_WATCHED_WAITS = frozenset({ReconcileState.WORKLOADS_NOT_READY, ReconcileState.MIGRATION_RUNNING})
_WATCHED_WAIT_POLL = timedelta(seconds=5)
_IN_PROGRESS = frozenset({Phase.PENDING, Phase.PROVISIONING, Phase.UPDATING, Phase.RESTORING})


class Next(Enum):
    """What the pass does after an action."""

    CONTINUE = "continue"  # the action changed the cluster: observe again right away
    WAIT = "wait"  # the cluster is working (rollout, termination): look again soon
    CONVERGED = "converged"  # in sync: look again at the resync interval
    DELETED = "deleted"  # teardown verified: never look again


class Outcome(Enum):
    """How a pass ended, for metrics and logs."""

    CONVERGED = "converged"
    WAITING = "waiting"
    ERROR = "error"
    DELETED = "deleted"


@dataclass(frozen=True)
class PassResult:
    store: Store
    events: list[Event]
    requeue_after: timedelta | None  # None: nothing more to do for this store, ever
    outcome: Outcome = Outcome.WAITING
    error_reason: str | None = None


async def _act(
    store: Store,
    decision: Decision,
    desired: DesiredState | None,
    observed: Observation,
    ctx: ReconcileContext,
    events: list[Event],
) -> Next:
    """The one ``match`` that maps the observed state to the next move."""
    match decision.state:
        case ReconcileState.DELETED:
            return Next.DELETED
        case ReconcileState.TEARDOWN:
            if ctx.teardown_hold is not None and await ctx.teardown_hold(store.id):
                return Next.WAIT  # its final backup is still being taken
            events += await teardown(store, ctx)
            return Next.CONTINUE
        case ReconcileState.VERIFY_TEARDOWN:
            clean, found = await verify_no_residue(store, ctx)
            events += found
            return Next.DELETED if clean else Next.WAIT
        case ReconcileState.AWAITING_TEARDOWN | ReconcileState.NAMESPACE_TERMINATING:
            return Next.WAIT
        case ReconcileState.NAMESPACE_MISSING:
            assert desired is not None
            events += await ensure_namespace(store, desired, ctx)
            return Next.CONTINUE
        case ReconcileState.POLICIES_OUT_OF_SYNC:
            assert desired is not None
            events += await apply_policies(store, desired, observed, ctx)
            return Next.CONTINUE
        case ReconcileState.UPGRADE_PENDING:
            assert desired is not None
            events += await start_upgrade(store, desired, decision, ctx)
            return Next.CONTINUE
        case ReconcileState.MIGRATION_RUNNING:
            return Next.WAIT
        case ReconcileState.MIGRATION_FAILED:
            events += await fail_migration(store, decision)
            return Next.WAIT
        case ReconcileState.MIGRATION_RETRY:
            assert desired is not None
            events += await rerun_migration(store, desired, decision, ctx)
            return Next.CONTINUE
        case ReconcileState.UPGRADE_ROLLOUT:
            assert desired is not None
            events += await roll_out_upgrade(store, desired, observed, decision, ctx)
            return Next.CONTINUE
        case ReconcileState.WORKLOADS_OUT_OF_SYNC:
            assert desired is not None
            events += await apply_workloads(store, desired, observed, ctx)
            return Next.CONTINUE
        case (
            ReconcileState.WORKLOADS_NOT_READY
            | ReconcileState.UNREACHABLE
            | ReconcileState.SUSPENDING
        ):
            return Next.WAIT
        case ReconcileState.SUSPENDED:
            assert desired is not None
            events += await settle_suspended(store, desired, ctx)
            return Next.CONVERGED
        case ReconcileState.RESUMED:
            events += await settle_resumed(store, decision, ctx)
            return Next.CONVERGED
        case ReconcileState.IN_SYNC:
            return Next.CONVERGED
        case (
            ReconcileState.RESTORE_WORKLOADS_STOPPED
            | ReconcileState.RESTORE_DATABASE_LOADED
            | ReconcileState.RESTORE_FAILED
        ):
            return Next.WAIT  # never here: reconcile_store hands them to _restore_move


_RESTORE_MOVES = frozenset(
    {
        ReconcileState.RESTORE_WORKLOADS_STOPPED,
        ReconcileState.RESTORE_DATABASE_LOADED,
        ReconcileState.RESTORE_FAILED,
    }
)


async def _restore_move(
    store: Store, decision: Decision, ctx: ReconcileContext, events: list[Event]
) -> tuple[Store, Next]:
    """A restore's stage changes the store itself (its saved intent drives the next
    render), so these moves return the changed store (reconciler/actions/restore_database)."""
    match decision.state:
        case ReconcileState.RESTORE_WORKLOADS_STOPPED:
            store, done = await begin_load(store, ctx)
        case ReconcileState.RESTORE_DATABASE_LOADED:
            store, done = finish_load(store, ctx)
        case ReconcileState.RESTORE_FAILED:
            store, done = fail_restore(store, decision.message, ctx)
        case _:  # in sync at StartingWorkloads: the restore is over
            store, done = finish_restore(store, ctx)
            events += done
            return store, Next.CONVERGED
    events += done
    return store, Next.CONTINUE


def _with_phase(
    store: Store, phase: Phase, now: datetime, events: list[Event], ctx: ReconcileContext, why: str
) -> Store:
    if store.phase == phase:
        return store
    events.append(
        normal(store, ctx, Reason.PHASE_CHANGED, f"{store.phase.value} → {phase.value}: {why}")
    )
    return replace(store, phase=phase, updated_at=now)


def _note_wait(
    before: Store, after: Store, decision: Decision, events: list[Event], ctx: ReconcileContext
) -> None:
    """Record a waiting state once, when what the store waits on changes (not every poll)."""
    old = get_condition(before.conditions, ConditionType.READY)
    new = get_condition(after.conditions, ConditionType.READY)
    if new is not None and (old is None or (old.reason, old.message) != (new.reason, new.message)):
        events.append(normal(after, ctx, decision.reason, decision.message))


def _check_deadline(
    store: Store, now: datetime, cause: str, events: list[Event], ctx: ReconcileContext
) -> Store:
    if store.phase not in _IN_PROGRESS or store.deadline_at is None or now < store.deadline_at:
        return store
    message = f"not ready by its deadline ({store.deadline_at.isoformat()}); last cause: {cause}"
    events.append(warning(store, ctx, Reason.DEADLINE_EXCEEDED, message))
    failed = _with_phase(store, Phase.FAILED, now, events, ctx, "deadline exceeded")
    return replace(failed, last_error=message)


async def reconcile_store(
    store: Store, ctx: ReconcileContext, *, settle: bool = True
) -> PassResult:
    """Run one pass; always returns (never raises a ReconcileError). ``settle=False``: the
    caller read the step journal and it holds nothing for this store (ReconcileLoop reads it
    once per claim), so the pass does not ask it again."""
    now = ctx.clock()
    events: list[Event] = []
    # Every cluster write goes through ctx.steps, which records it before and after
    # (reconciler/steps.py); it shares this pass's event list so earlier events go first.
    ctx = replace(ctx, pass_steps=ctx.steps_for_pass(events))
    start = store
    if any(d.name not in store.spec.domains for d in store.domain_status):
        # Domains removed from the spec have no status any more (saved with this pass).
        kept = tuple(d for d in store.domain_status if d.name in store.spec.domains)
        store = replace(store, domain_status=kept)
    decision: Decision | None = None
    try:
        # Steps an interrupted pass left half-recorded come first, as what happened first.
        if settle:
            events += await ctx.steps.settle(store)
        if store.phase == Phase.PENDING:
            store = _with_phase(store, Phase.PROVISIONING, now, events, ctx, "reconcile started")
        nxt = Next.CONTINUE
        for _ in range(MAX_STEPS):
            desired, observed, memo_key = await _look(store, ctx)
            # Saved with the status: a restarted process finds the memo there.
            store = replace(store, converged_key=memo_key)
            if observed.workload_runtime is not None:
                store = replace(store, workload_runtime=observed.workload_runtime)
            if observed.domains is not None:
                events += track_domains(store, observed.domains, ctx)
                store = replace(store, domain_status=observed.domains)
            decision = determine_state(store, observed)
            if decision.state is ReconcileState.TEARDOWN and ctx.teardown_hold is not None:
                held = await ctx.teardown_hold(store.id)
                if held:  # the wait says why, once (not "namespace must be deleted")
                    decision = replace(
                        decision,
                        reason=Reason.WAITING_FOR_BACKUP,
                        message=f"{held}; namespace {store.namespace} is deleted once it finished",
                    )
            if decision.state in _RESTORE_MOVES or (
                decision.state is ReconcileState.IN_SYNC and store.restoring
            ):
                store, nxt = await _restore_move(store, decision, ctx, events)
            else:
                nxt = await _act(store, decision, desired, observed, ctx, events)
            if nxt is not Next.CONTINUE:
                break
    except ReconcileError as exc:
        if _cluster_unreachable(exc):
            CLUSTER.failed(exc.message)
            if start.phase in SETTLED_PHASES and not start.is_deleting:
                return _unknown(start, exc, events, ctx)
        else:
            CLUSTER.succeeded()  # the API server answered, even if it said no
        return _failed(start, store, decision, exc, events, ctx)
    except ValueError as exc:  # a chart rendered something storeplane refuses to apply
        return _failed(
            start,
            store,
            decision,
            TerminalError(str(exc), reason=Reason.RENDER_FAILED),
            events,
            ctx,
        )
    assert decision is not None
    CLUSTER.succeeded()
    return _settle(start, store, decision, nxt, events, ctx)


async def _look(
    store: Store, ctx: ReconcileContext
) -> tuple[DesiredState | None, Observation, str | None]:
    """The desired state (None for a store being deleted, or when it is not needed), the
    observation of one step, and the store's converged memo to keep (``converged_key``: None
    unless this observation found it converged). Skips the render and the object comparison
    when the store's intent and live objects are exactly as the last time they were found
    converged, by this process or, through the store's ``converged_key``, by another
    (reconciler/converged.py); the health check is made either way."""
    memo = ctx.converged
    if store.is_deleting:
        memo.forget(store.id)
        return None, await observe(store, None, ctx), None
    inputs = await desired_inputs(store, ctx)
    key = None
    if may_skip(store):
        # The live versions first: a change seen after them only makes the next pass compare.
        versions = live_versions(ctx.cluster, store)
        desired_digest = desired_key(store, inputs, ctx)
        if versions is not None and desired_digest is not None:
            key = (desired_digest, versions)
        if memo.unchanged(store.id, key, store.converged_key):
            ns = await ctx.cluster.namespace_status(store.namespace)
            if key is not None and ns.phase is NamespacePhase.ACTIVE:  # always so: see key
                return None, await observe_engine(store, ns, ctx), persisted_key(key)
    desired = await render_desired(store, inputs, ctx)
    observed = await observe(store, desired, ctx)
    if key is not None and observed.reachable is not None:
        # observe checks the engine's health only once every object is in sync and ready.
        memo.record(store.id, key)
        return desired, observed, persisted_key(key)
    memo.forget(store.id)
    return desired, observed, None


def _cluster_unreachable(exc: ReconcileError) -> bool:
    """The Kubernetes API itself did not answer (a transport error: refused, reset, timeout)."""
    return isinstance(exc, RetryableError) and exc.reason == Reason.CLUSTER_UNAVAILABLE


def _unknown(
    start: Store, exc: ReconcileError, events: list[Event], ctx: ReconcileContext
) -> PassResult:
    """A settled store whose observation could not reach the cluster: phase kept, StoreReachable
    and Ready Unknown (domain/reachability.py), said once; looked at again soon, so it recovers
    by itself within seconds of the cluster coming back."""
    now = ctx.clock()
    message = unreachable_message(start, exc.message, now)
    if not already_unknown(start):
        events.append(warning(start, ctx, CLUSTER_UNREACHABLE, message))
    failures = start.failures + 1
    delay = min(
        backoff_delay(failures, base=ctx.timing.backoff_base, cap=ctx.timing.backoff_cap),
        UNREACHABLE_RETRY_CAP,
    )
    store = replace(
        start,
        conditions=unreachable_conditions(start, message, now),
        last_error=exc.message,
        failures=failures,
        next_reconcile_at=now + timedelta(seconds=delay),
    )
    return PassResult(store, events, timedelta(seconds=delay), Outcome.ERROR, exc.reason)


def _settle(
    start: Store,
    store: Store,
    decision: Decision,
    nxt: Next,
    events: list[Event],
    ctx: ReconcileContext,
) -> PassResult:
    now = ctx.clock()
    timing = ctx.timing
    if nxt is Next.DELETED:
        store = _with_phase(store, Phase.DELETED, now, events, ctx, "teardown verified")
        gone = tuple(
            replace(
                c,
                status=ConditionStatus.FALSE,
                reason=Reason.TEARDOWN_VERIFIED,
                message="the store was deleted and nothing of it remains in the cluster",
                last_transition_time=now,
            )
            for c in store.conditions
        )
        store = replace(
            store,
            conditions=gone,
            deleted_at=now,
            last_error=None,
            failures=0,
            next_reconcile_at=None,
        )
        return PassResult(store, events, None, Outcome.DELETED)
    conditions = derive_conditions(store, decision, now=now)
    store = replace(store, conditions=conditions)
    if nxt is Next.CONVERGED:
        # Watches wake a store when its objects change; the resync is the safety net, jittered
        # so that stores created together do not all come due together.
        resync = timing.resync * random.uniform(0.9, 1.1)
        if any(d.status is DomainState.PENDING for d in store.domain_status):
            # Nothing wakes the store when cert-manager writes a certificate Secret (it does
            # not carry the store's labels): look again soon while a domain waits for one.
            resync = min(resync, DOMAIN_RECHECK)
        if start.failures or start.last_error:
            events.append(
                normal(store, ctx, Reason.RECONCILE_SUCCEEDED, "recovered: every step succeeded")
            )
        failed_restore = store.restore is not None and not store.restore.active
        if failed_restore:
            # Serving the data it had, but the restore that was asked for did not happen:
            # that stays visible until a retry (or another restore) is asked for.
            store = replace(store, phase=Phase.FAILED)
        elif store.spec.suspended:
            store = _with_phase(
                store, Phase.SUSPENDED, now, events, ctx, "workloads at zero, maintenance page up"
            )
            store = replace(store, suspended_at=store.suspended_at or now)
        else:
            store = _with_phase(store, Phase.READY, now, events, ctx, "every condition is True")
            store = replace(store, suspended_at=None)
        store = replace(
            store,
            running_engine_version=_converged_version(store, ctx, events),
            observed_generation=store.generation,
            last_error=store.restore.message if failed_restore and store.restore else None,
            failures=0,
            deadline_at=None,
            next_reconcile_at=now + resync,
            updated_at=now,
        )
        return PassResult(store, events, resync, Outcome.CONVERGED)
    # Waiting on the cluster (or out of steps): not a failure, but the deadline still runs.
    if store.phase == Phase.READY:
        store = _with_phase(store, Phase.UPDATING, now, events, ctx, f"drift: {decision.message}")
        store = replace(store, deadline_at=now + timing.deadline)
    _note_wait(start, store, decision, events, ctx)
    store = replace(store, failures=0, last_error=None) if not store.is_deleting else store
    store = _check_deadline(store, now, decision.message, events, ctx)
    delay = timing.poll if store.phase != Phase.FAILED else timedelta(seconds=timing.backoff_cap)
    if (
        decision.state in _WATCHED_WAITS
        and store.phase != Phase.FAILED
        and live_versions(ctx.cluster, store) is not None
    ):
        # The watch wakes the store as soon as one of its objects changes (a workload turns
        # ready, the Job completes): polling is only the safety net, and at 1 s it was most of
        # the passes of a fleet being provisioned. The deadline is still looked at on time.
        until_deadline = (
            store.deadline_at - now if store.deadline_at is not None else _WATCHED_WAIT_POLL
        )
        delay = max(delay, min(_WATCHED_WAIT_POLL, until_deadline))
    store = replace(store, next_reconcile_at=now + delay, updated_at=now)
    return PassResult(store, events, delay, Outcome.WAITING)


def _converged_version(store: Store, ctx: ReconcileContext, events: list[Event]) -> str:
    """The version the store now runs (its spec's, now that every step is True), and
    ``UpgradeCompleted`` naming both versions when it moved from another one."""
    version = ctx.catalogue.resolve(store.spec.engine, store.spec.engine_version).version
    before = store.running_engine_version
    if before is not None and before != version:
        events.append(
            normal(
                store,
                ctx,
                Reason.UPGRADE_COMPLETED,
                f"{store.spec.engine.value} upgraded from {before} to {version}: migrations "
                "ran, server and worker are ready and the store answers at the new version"
                + (f" (rollout {store.rollout_id})" if store.rollout_id else ""),
            )
        )
    return version


def _failed(
    start: Store,
    store: Store,
    decision: Decision | None,
    exc: ReconcileError,
    events: list[Event],
    ctx: ReconcileContext,
) -> PassResult:
    now = ctx.clock()
    timing = ctx.timing
    failures = store.failures + 1
    # Waiting for the simulator's node to stop a deleted store's processes is not a failure
    # that worsens: look again soon, and say it once per change of what is left.
    node_wait = store.is_deleting and exc.reason == Reason.RESIDUE_FOUND
    # A failed migration stays failed until someone acts: said once, not at every resync.
    reported = (
        exc.reason == Reason.MIGRATION_FAILED
        and store.phase == Phase.FAILED
        and exc.message == store.last_error
    )
    if not (node_wait and exc.message == store.last_error) and not reported:
        events.append(warning(store, ctx, exc.reason, exc.message))
    if decision is not None:
        conditions = derive_conditions(store, decision, now=now, error=exc.message)
    elif store.is_deleting:
        # Failed before it could look: the teardown conditions stay, Ready names the cause.
        conditions = set_condition(
            store.conditions,
            ConditionType.READY,
            ConditionStatus.FALSE,
            Reason.RETRYING,
            exc.message,
            now=now,
            generation=store.generation,
        )
    else:
        conditions = derive_conditions(
            store,
            Decision(ReconcileState.NAMESPACE_MISSING, exc.reason, exc.message),
            now=now,
            error=exc.message,
        )
    store = replace(
        store, conditions=conditions, last_error=exc.message, failures=failures, updated_at=now
    )
    if isinstance(exc, TerminalError) and not store.is_deleting:
        store = _with_phase(store, Phase.FAILED, now, events, ctx, exc.message)
    store = _check_deadline(store, now, exc.message, events, ctx)
    if store.phase == Phase.FAILED or isinstance(exc, TerminalError):
        delay = timing.backoff_cap
    elif node_wait:
        delay = max(timing.poll.total_seconds(), getattr(exc, "retry_after", None) or 0.0)
    else:
        delay = backoff_delay(failures, base=timing.backoff_base, cap=timing.backoff_cap)
        if isinstance(exc, RetryableError) and exc.retry_after is not None:
            delay = max(delay, exc.retry_after)
    wait = timedelta(seconds=delay)
    return PassResult(
        replace(store, next_reconcile_at=now + wait), events, wait, Outcome.ERROR, exc.reason
    )
