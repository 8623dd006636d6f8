"""Store use cases: create, read, list, change plan or engine version, delete, retry, events.

Called by the API routers. Every use case takes the acting :class:`User`: a member only
ever sees its own stores (anyone else's is "not found", exactly like a store that does not
exist), and every event names the user who acted. Every change of intent goes through a
domain method (``with_plan``, ``with_engine_version``, ``with_labels``, ``request_deletion``,
``request_retry``) and ``save_intent``,
which refuses when the store changed since it was read; the change is then re-applied to a
fresh read, a few times, before giving up with a 409.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime

from storeplane.domain.backups import RestoreOp
from storeplane.domain.conditions import Reason
from storeplane.domain.domains import validate_domains
from storeplane.domain.errors import (
    InvalidTransitionError,
    ManagedByObjectError,
    StoreNotFoundError,
)
from storeplane.domain.events import Event
from storeplane.domain.labels import validate_labels
from storeplane.domain.plans import PlanName
from storeplane.domain.ports import StorePage, StoreRepository
from storeplane.domain.rollouts import rollout_actor
from storeplane.domain.store import (
    Phase,
    Store,
    StoreSpec,
    is_store_id,
    new_store_id,
    validate_new_name,
)
from storeplane.domain.users import IdempotencyKey, User
from storeplane.engines import exposure_from
from storeplane.engines.catalogue import catalogue_from
from storeplane.settings import Settings

# A change of intent: the store read and the time, to the changed store and its event (None
# when it changes nothing). Composed by write_intents, so one request is one write.
Change = Callable[[Store, datetime], tuple[Store, Event | None]]

# Attempts at an intent write before reporting a conflict; each one re-reads the store.
INTENT_ATTEMPTS = 5


def _utcnow() -> datetime:
    return datetime.now(UTC)


def store_url(store_id: str, settings: Settings) -> str:
    return exposure_from(settings).url(store_id)


def request_hash(spec: StoreSpec) -> str:
    """A digest of what a create asks for, after defaults: what ``Idempotency-Key`` compares."""
    fields: dict[str, object] = {
        "name": spec.name,
        "engine": spec.engine.value,
        "plan": spec.plan.value,
    }
    if spec.labels:  # left out when empty, so digests recorded before labels still match
        fields["labels"] = spec.labels
    if spec.engine_version:  # the same for the engine version (filled in before hashing)
        fields["engine_version"] = spec.engine_version
    if spec.final_backup:  # and for the deletion policy
        fields["final_backup"] = True
    canonical = json.dumps(
        fields,
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def create_store(
    repo: StoreRepository,
    spec: StoreSpec,
    settings: Settings,
    user: User,
    *,
    idempotency_key: str | None = None,
    object_uid: str | None = None,
    now: datetime | None = None,
    restore: RestoreOp | None = None,
) -> Store:
    """Record a new store owned by ``user`` (Pending, due for reconcile now) and its
    ``Created`` event. A user acting through a Store object (``user.via_object``) makes a
    store that object owns; ``object_uid`` (its uid) makes the create idempotent: a second
    create for the same object returns the first store.

    Raises NameTakenError if a live store already has the name, StoreLimitError if the user
    already owns as many live stores as allowed. With ``idempotency_key``, the same key and
    request return the store the first call created (nothing new is written), the same key
    with another request raises IdempotencyKeyReusedError.
    """
    validate_new_name(spec.name)
    spec = with_engine_version(spec, settings)
    now = now or _utcnow()
    store_id = new_store_id()
    store = Store.create(
        spec,
        store_id=store_id,
        url=store_url(store_id, settings),
        now=now,
        deadline=settings.provision_deadline,
        owner_id=user.id,
        restore=restore,
    )
    cloned = (
        f", its database cloned from backup {restore.backup_id} of store {restore.source_store_id}"
        if restore is not None
        else ""
    )
    if user.via_object is not None:
        store = replace(store, managed_by=user.via_object, managed_uid=object_uid)
    event = Event.normal(
        store.id,
        Reason.CREATED,
        f"store {spec.name!r} created with engine {spec.engine.value} "
        f"{spec.engine_version} and plan {spec.plan.value} by {user.name}{cloned}",
        time=now,
        generation=store.generation,
        actor=user.name,
    )
    key = None
    if idempotency_key is not None:
        key = IdempotencyKey(user_id=user.id, key=idempotency_key, request_hash=request_hash(spec))
    return repo.create(
        store,
        [event],
        owner_limit=user.store_limit(settings.max_stores_per_user),
        idempotency=key,
    )


def with_engine_version(spec: StoreSpec, settings: Settings) -> StoreSpec:
    """``spec`` with a catalogue version: the engine's default when it names none, else the
    one it names if the catalogue lists it (InvalidRequestError naming the known ones)."""
    versions = catalogue_from(settings.engine_catalogue).for_engine(spec.engine)
    if not spec.engine_version:
        return replace(spec, engine_version=versions.default.version)
    versions.require(spec.engine_version)
    return spec


def get_store(repo: StoreRepository, store_id: str, user: User) -> Store:
    """The store, if ``user`` may see it; StoreNotFoundError otherwise (no existence leak).
    Text that is not of the id form is not looked up (it may hold a NUL, which PostgreSQL
    refuses)."""
    if not is_store_id(store_id):
        raise StoreNotFoundError(store_id)
    store = repo.get(store_id)
    if not user.can_see(store):
        raise StoreNotFoundError(store_id)
    return store


def list_stores(
    repo: StoreRepository,
    user: User,
    *,
    phase: Phase | None = None,
    query: str | None = None,
    limit: int = 50,
    cursor: str | None = None,
    include_deleted: bool = False,
    labels: Mapping[str, str] | None = None,
) -> StorePage:
    """A page of the stores ``user`` may see: all for an admin, its own for a member;
    ``labels`` keeps those carrying every one of these labels."""
    return repo.list_page(
        labels=labels or None,
        phase=phase,
        include_deleted=include_deleted,
        query=query or None,
        limit=limit,
        cursor=cursor,
        owner_id=None if user.is_admin else user.id,
    )


def store_events(repo: StoreRepository, store_id: str, user: User) -> list[Event]:
    """The store's events, oldest first; StoreNotFoundError if ``user`` cannot see it."""
    get_store(repo, store_id, user)
    return repo.events(store_id)


def change_plan(
    repo: StoreRepository,
    store_id: str,
    plan: PlanName,
    settings: Settings,
    user: User,
    *,
    now: datetime | None = None,
) -> Store:
    """Move the store to ``plan`` (a new generation); unchanged if it already has that plan."""
    return update_store(repo, store_id, settings, user, plan=plan, now=now)


def change_engine_version(
    repo: StoreRepository,
    store_id: str,
    version: str,
    settings: Settings,
    user: User,
    *,
    actor: str | None = None,
    now: datetime | None = None,
) -> Store:
    """Ask the store to run engine ``version``: what ``PATCH {"engine_version"}`` and a
    rollout (``actor="rollout:<id>"``) call. See :func:`update_store`."""
    return update_store(
        repo, store_id, settings, user, engine_version=version, actor=actor, now=now
    )


def update_store(
    repo: StoreRepository,
    store_id: str,
    settings: Settings,
    user: User,
    *,
    plan: PlanName | None = None,
    engine_version: str | None = None,
    actor: str | None = None,
    now: datetime | None = None,
) -> Store:
    """Change the store's plan and/or engine version in one new generation (unchanged if it
    already has both). ``actor`` names who acted in the event when it is not ``user`` itself
    (a rollout). See :func:`spec_change` for what a version change must satisfy."""
    change = spec_change(settings, user, plan=plan, engine_version=engine_version, actor=actor)
    return write_intent(repo, store_id, user, change, now)


def patch_store(
    repo: StoreRepository,
    store_id: str,
    settings: Settings,
    user: User,
    *,
    plan: PlanName | None = None,
    engine_version: str | None = None,
    labels: Mapping[str, str] | None = None,
    domains: Sequence[object] | None = None,
    now: datetime | None = None,
) -> Store:
    """What ``PATCH /stores/{id}`` asks for, all in one write: the given fields' changes
    (domains, labels, then plan and engine version) are validated and saved together, so a
    refusal of any of them (422, or a domain another store holds, 409) changes none."""
    changes: list[Change] = []
    if domains is not None:
        changes.append(domains_change(domains, settings, user))
    if labels is not None:
        changes.append(labels_change(labels, user))
    if plan is not None or engine_version is not None:
        changes.append(spec_change(settings, user, plan=plan, engine_version=engine_version))
    return write_intents(repo, store_id, user, changes, now)


def spec_change(
    settings: Settings,
    user: User,
    *,
    plan: PlanName | None = None,
    engine_version: str | None = None,
    actor: str | None = None,
) -> Change:
    """The change of plan and/or engine version, for :func:`write_intents`.

    A version change must be allowed by the engine catalogue from the version the store
    *runs* (``running_engine_version``; the one it asks for if it never converged): the
    version itself, or one that lists it in ``upgrades_from``. Anything else is an
    InvalidRequestError (422) naming the allowed versions. Going back to the running version
    while an upgrade has not completed is allowed: it abandons that upgrade. While a rollout
    drives the store (``rollout_id``), only that rollout changes its version: anyone else's
    change is an InvalidTransitionError (409) saying how to end the rollout first."""
    who = actor or user.name
    versions = catalogue_from(settings.engine_catalogue)

    def change(store: Store, at: datetime) -> tuple[Store, Event | None]:
        changed = store
        words = []
        if plan is not None:
            changed = changed.with_plan(plan, now=at, deadline=settings.provision_deadline)
            if changed is not store:
                words.append(f"plan changed from {store.spec.plan.value} to {plan.value}")
        if engine_version is not None and engine_version != store.spec.engine_version:
            if store.rollout_id is not None and who != rollout_actor(store.rollout_id):
                raise InvalidTransitionError(
                    f"store {store.id} is being upgraded by rollout {store.rollout_id}, which "
                    "sets its engine_version until it ends: wait for it to finish, or abort it "
                    f"(POST /api/v1/rollouts/{store.rollout_id}/abort), then change the version"
                )
            current = store.running_engine_version or store.spec.engine_version
            versions.for_engine(store.spec.engine).check_move(current, engine_version)
            before = changed
            changed = changed.with_engine_version(
                engine_version, now=at, deadline=settings.provision_deadline
            )
            if changed is not before:
                words.append(
                    f"engine version changed from {store.spec.engine_version} to "
                    f"{engine_version} ({store.spec.engine.value})"
                )
        if changed is store:
            return store, None
        return changed, Event.normal(
            store.id,
            Reason.UPDATE_REQUESTED,
            f"{'; '.join(words)} by {who}",
            time=at,
            generation=changed.generation,
            actor=who,
        )

    return change


def change_labels(
    repo: StoreRepository,
    store_id: str,
    labels: Mapping[str, str],
    user: User,
    *,
    now: datetime | None = None,
) -> Store:
    """Replace the store's labels (validated); unchanged, and no event, if they are the same.
    Labels are metadata: no new generation, nothing for the reconciler to do."""
    return write_intent(repo, store_id, user, labels_change(labels, user), now)


def labels_change(labels: Mapping[str, str], user: User) -> Change:
    """The change of labels, for :func:`write_intents`; InvalidRequestError (422) at once when
    they are invalid."""
    wanted = validate_labels(labels)

    def change(store: Store, at: datetime) -> tuple[Store, Event | None]:
        changed = store.with_labels(wanted, now=at)
        if changed is store:
            return store, None
        return changed, Event.normal(
            store.id,
            Reason.LABELS_CHANGED,
            f"labels changed from {_show_labels(store.spec.labels)} to "
            f"{_show_labels(wanted)} by {user.name}",
            time=at,
            generation=changed.generation,
            actor=user.name,
        )

    return change


def _show_labels(labels: Mapping[str, str]) -> str:
    return "{" + ", ".join(f"{k}={v}" for k, v in sorted(labels.items())) + "}"


def delete_store(
    repo: StoreRepository, store_id: str, user: User, *, now: datetime | None = None
) -> Store:
    """Mark the store for teardown; idempotent (a second call records nothing)."""

    def delete(store: Store, at: datetime) -> tuple[Store, Event | None]:
        deleting = store.request_deletion(now=at)
        if deleting is store:
            return store, None
        return deleting, Event.normal(
            store.id,
            Reason.DELETION_REQUESTED,
            f"deletion requested by {user.name}; the namespace {store.namespace} and "
            "everything in it will be removed",
            time=at,
            generation=deleting.generation,
            actor=user.name,
        )

    return write_intent(repo, store_id, user, delete, now)


def retry_store(
    repo: StoreRepository,
    store_id: str,
    settings: Settings,
    user: User,
    *,
    now: datetime | None = None,
) -> Store:
    """Start a fresh attempt now: the deadline and the backoff are reset."""

    def retry(store: Store, at: datetime) -> tuple[Store, Event | None]:
        retried = store.request_retry(now=at, deadline=settings.provision_deadline)
        return retried, Event.normal(
            store.id,
            Reason.RETRY_REQUESTED,
            f"retry requested by {user.name} (phase {store.phase.value}); deadline and "
            "backoff reset",
            time=at,
            generation=retried.generation,
            actor=user.name,
        )

    return write_intent(repo, store_id, user, retry, now)


def change_domains(
    repo: StoreRepository,
    store_id: str,
    domains: Sequence[object],
    settings: Settings,
    user: User,
    *,
    now: datetime | None = None,
) -> Store:
    """Replace the store's custom domains; see :func:`domains_change`."""
    return write_intent(repo, store_id, user, domains_change(domains, settings, user), now)


def domains_change(domains: Sequence[object], settings: Settings, user: User) -> Change:
    """The change of custom domains, for :func:`write_intents` (validated at once: RFC 1123
    host names, no wildcard, no IP, not under the platform's base domain); a new generation.
    DomainTakenError (409) at the save when another store that is not deleted has one of
    them: the database decides."""
    wanted = validate_domains(tuple(domains), settings.base_domain)

    def change(store: Store, at: datetime) -> tuple[Store, Event | None]:
        changed = store.with_domains(wanted, now=at, deadline=settings.provision_deadline)
        if changed is store:
            return store, None
        added = [d for d in wanted if d not in store.spec.domains]
        removed = [d for d in store.spec.domains if d not in wanted]
        parts = [f"added {', '.join(added)}"] if added else []
        parts += [f"removed {', '.join(removed)}"] if removed else []
        return changed, Event.normal(
            store.id,
            Reason.DOMAINS_CHANGED,
            f"custom domains changed by {user.name}: {'; '.join(parts) or 'reordered'}",
            time=at,
            generation=changed.generation,
            actor=user.name,
        )

    return change


def set_suspended(
    repo: StoreRepository,
    store_id: str,
    suspended: bool,
    settings: Settings,
    user: User,
    *,
    now: datetime | None = None,
) -> Store:
    """Suspend (workloads to zero, the maintenance page up, data kept) or resume the store;
    unchanged if it already is so. InvalidTransitionError (409) once it is being deleted."""

    def change(store: Store, at: datetime) -> tuple[Store, Event | None]:
        changed = store.with_suspended(suspended, now=at, deadline=settings.provision_deadline)
        if changed is store:
            return store, None
        if suspended:
            reason = Reason.SUSPEND_REQUESTED
            message = (
                f"suspend requested by {user.name}: its workloads will be scaled to zero "
                "(volumes and secrets kept) and its Ingress will answer a maintenance page"
            )
        else:
            reason = Reason.RESUME_REQUESTED
            message = (
                f"resume requested by {user.name}: its workloads will be started again on "
                "the same volumes"
            )
        return changed, Event.normal(
            store.id, reason, message, time=at, generation=changed.generation, actor=user.name
        )

    return write_intent(repo, store_id, user, change, now)


def write_intent(
    repo: StoreRepository,
    store_id: str,
    user: User,
    change: Change,
    now: datetime | None,
) -> Store:
    """Apply ``change`` to a fresh read and save it, re-reading on a concurrent change."""
    return write_intents(repo, store_id, user, [change], now)


def write_intents(
    repo: StoreRepository,
    store_id: str,
    user: User,
    changes: Sequence[Change],
    now: datetime | None,
) -> Store:
    """Apply ``changes`` in order to a fresh read and save the result in one write (one event
    per change that changed something), re-reading on a concurrent change. A change that
    raises, or a save the database refuses, leaves the store as it was: none of them is
    applied without the others."""
    for _ in range(INTENT_ATTEMPTS):
        store = get_store(repo, store_id, user)
        # The one door check: a store a Store object owns changes only through that object.
        if store.managed_by is not None and user.via_object != store.managed_by:
            raise ManagedByObjectError(store.id, store.managed_by)
        at = now or _utcnow()
        changed, events = store, []
        for change in changes:
            changed, event = change(changed, at)
            if event is not None:
                events.append(event)
        if not events:
            return store
        if repo.save_intent(changed, expected_revision=store.revision, events=events):
            return changed
    raise InvalidTransitionError(
        f"store {store_id} kept changing while this request was applied; read it and try again"
    )
