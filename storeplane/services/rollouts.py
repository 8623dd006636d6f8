"""Rollout use cases: create (select stores, check every one can upgrade, plan the waves),
read, list, pause, resume, abort; and the store moves the driver makes on a rollout's behalf.

Called by the API (``api/routes/rollouts.py``) and the rollout driver
(``reconciler/rollouts.py``). Rollouts are for admins: a member gets :class:`AdminOnlyError`,
which the API answers as a path that does not exist. The driver changes a store only through
the same service calls a person's request uses (``services/stores.py``), acting as a user
named ``rollout:<id>``, so every store event a rollout causes names it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from storeplane.domain.errors import AdminOnlyError, InvalidRequestError, InvalidTransitionError
from storeplane.domain.ports import RolloutRepository, StoreRepository
from storeplane.domain.rollouts import (
    Candidate,
    Gate,
    Rollout,
    RolloutPhase,
    Selector,
    WaveSpec,
    new_rollout_id,
    plan_waves,
    rollout_actor,
)
from storeplane.domain.store import Engine, Store
from storeplane.domain.users import Role, User
from storeplane.engines.catalogue import catalogue_from
from storeplane.services import stores as store_service
from storeplane.settings import Settings

# Attempts at a pause/resume/abort before reporting a conflict (the driver saves often).
SAVE_ATTEMPTS = 5
_PAGE = 200


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _require_admin(user: User) -> None:
    if not user.is_admin:
        raise AdminOnlyError()


@dataclass(frozen=True, slots=True)
class RolloutRequest:
    """What ``POST /api/v1/rollouts`` asks for, after the schema's checks."""

    engine: Engine
    to_version: str
    selector: Selector
    waves: tuple[WaveSpec, ...]
    max_failures: int = 0
    gate: Gate = Gate.READY


def rollout_user(rollout: Rollout) -> User:
    """Who a rollout acts as: an admin named ``rollout:<id>`` (the actor of its events)."""
    return User(
        id=f"user-{rollout.id}",
        name=rollout_actor(rollout.id),
        role=Role.ADMIN,
        created_at=rollout.created_at,
    )


def select_stores(repo: StoreRepository, engine: Engine, selector: Selector) -> list[Store]:
    """The live stores of ``engine`` the selector takes (not being deleted, not suspended); names the
    selector lists that match no such store are a 422."""
    found: list[Store] = []
    cursor: str | None = None
    while True:
        page = repo.list_page(labels=selector.labels or None, limit=_PAGE, cursor=cursor)
        found.extend(
            s
            for s in page.items
            if s.spec.engine == engine
            and not s.is_deleting
            # A suspended store runs nothing, so it could never be Ready at a new version.
            and s.phase.value != "Suspended"
            and selector.matches(s.id, s.name, s.spec.plan, s.spec.labels)
        )
        cursor = page.next_cursor
        if cursor is None:
            break
    if selector.names:
        missing = [n for n in selector.names if not any(n in (s.name, s.id) for s in found)]
        if missing:
            raise InvalidRequestError(
                f"selector.names lists {', '.join(missing)}, which no live {engine.value} store "
                "matching the rest of the selector is called (names or ids)",
                field="selector.names",
            )
    return found


def current_version(store: Store) -> str:
    """The version a store moves *from*: what it runs, else what it asks for."""
    return store.running_engine_version or store.spec.engine_version


def create_rollout(
    repo: StoreRepository,
    rollouts: RolloutRepository,
    request: RolloutRequest,
    settings: Settings,
    user: User,
    *,
    now: datetime | None = None,
) -> Rollout:
    """Record a new Running rollout (the driver starts its first wave at once).

    422 when ``to_version`` is not in the catalogue, the selector matches no store, the waves
    are invalid, or a selected store cannot upgrade to ``to_version`` (each named, with what it
    may move to); 409 when a selected store is in another rollout that has not ended."""
    _require_admin(user)
    now = now or _utcnow()
    versions = catalogue_from(settings.engine_catalogue).for_engine(request.engine)
    if versions.get(request.to_version) is None:
        raise InvalidRequestError(
            f"to_version {request.to_version!r} is not a version of {request.engine.value}; "
            f"known versions: {', '.join(versions.names())} (GET /api/v1/engines)",
            field="to_version",
        )
    selected = select_stores(repo, request.engine, request.selector)
    if not selected:
        raise InvalidRequestError(
            f"the selector matches no live {request.engine.value} store; check its labels, "
            "plans and names (GET /api/v1/stores?label=key=value)",
            field="selector",
        )
    blocked = []
    for store in sorted(selected, key=lambda s: s.name):
        if store.managed_by is not None:
            blocked.append(
                f"{store.name} ({store.id}) is managed by {store.managed_by}: change its "
                "engine_version there"
            )
            continue
        at = current_version(store)
        allowed = versions.allowed_moves(at)
        if request.to_version not in allowed:
            blocked.append(f"{store.name} ({store.id}) at {at} may move to {', '.join(allowed)}")
    if blocked:
        raise InvalidRequestError(
            f"{len(blocked)} selected store{'s' if len(blocked) != 1 else ''} cannot upgrade "
            f"to {request.engine.value} {request.to_version}: {'; '.join(blocked)}. Narrow "
            "the selector or upgrade them in steps",
            field="to_version",
        )
    members = plan_waves(
        [Candidate(s.id, s.name, s.spec.engine_version) for s in selected],
        request.waves,
        request.to_version,
        now=now,
    )
    rollout = Rollout(
        id=new_rollout_id(),
        engine=request.engine.value,
        to_version=request.to_version,
        selector=request.selector,
        waves=request.waves,
        max_failures=request.max_failures,
        gate=request.gate,
        phase=RolloutPhase.RUNNING,
        current_wave=0,
        message=f"created by {user.name}: {len(members)} stores in {len(request.waves)} waves",
        created_by=user.name,
        created_at=now,
        updated_at=now,
        members=members,
    )
    return rollouts.create(rollout)


def get_rollout(rollouts: RolloutRepository, rollout_id: str, user: User) -> Rollout:
    _require_admin(user)
    return rollouts.get(rollout_id)


def list_rollouts(rollouts: RolloutRepository, user: User, *, limit: int = 50) -> list[Rollout]:
    """Newest first."""
    _require_admin(user)
    return rollouts.list_recent(limit=limit)


def _change(
    rollouts: RolloutRepository,
    rollout_id: str,
    user: User,
    change: Callable[[Rollout, datetime], Rollout],
) -> Rollout:
    """Apply ``change`` to a fresh read and save it, re-reading when the driver saved first."""
    _require_admin(user)
    for _ in range(SAVE_ATTEMPTS):
        rollout = rollouts.get(rollout_id)
        changed = change(rollout, _utcnow())
        if changed is rollout:
            return rollout
        saved = rollouts.save(changed)
        if saved is not None:
            return saved
    raise InvalidTransitionError(
        f"rollout {rollout_id} kept changing while this request was applied; try again"
    )


def pause_rollout(rollouts: RolloutRepository, rollout_id: str, user: User) -> Rollout:
    return _change(rollouts, rollout_id, user, lambda r, at: r.pause(now=at, by=user.name))


def resume_rollout(rollouts: RolloutRepository, rollout_id: str, user: User) -> Rollout:
    return _change(rollouts, rollout_id, user, lambda r, at: r.resume(now=at, by=user.name))


def abort_rollout(rollouts: RolloutRepository, rollout_id: str, user: User) -> Rollout:
    return _change(rollouts, rollout_id, user, lambda r, at: r.abort(now=at, by=user.name))


# -- the driver's store moves ---------------------------------------------------------------


def upgrade_store(
    repo: StoreRepository, rollout: Rollout, store_id: str, settings: Settings
) -> Store:
    """Mark the store as driven by ``rollout``, then ask it for the target version (the same
    call as ``PATCH {"engine_version"}``). Both writes are idempotent, and in this order a
    crash between them leaves a store that is simply upgraded on the next pass, once."""
    user = rollout_user(rollout)
    store = store_service.get_store(repo, store_id, user)
    if store.rollout_id != rollout.id:
        marked = replace(store, rollout_id=rollout.id, revision=store.revision + 1)
        if not repo.save_intent(marked, expected_revision=store.revision, events=[]):
            raise InvalidTransitionError(
                f"store {store_id} changed while rollout {rollout.id} marked it; next pass"
            )
    return store_service.change_engine_version(
        repo, store_id, rollout.to_version, settings, user, actor=user.name
    )


def retry_store(
    repo: StoreRepository, rollout: Rollout, store_id: str, settings: Settings
) -> Store:
    """A store retry on the rollout's behalf (after ``resume`` from Halted)."""
    return store_service.retry_store(repo, store_id, settings, rollout_user(rollout))
