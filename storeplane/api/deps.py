"""``Annotated`` dependency shortcuts for the routers: repositories, settings, the current
user, the notifier.

``create_app`` puts the shared objects on ``app.state``; these read them back, so a test can
build an app around any repository.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from storeplane.api.limits import RateLimiter, client_address_key
from storeplane.domain.errors import AuthenticationError, FeatureUnavailableError, RateLimitedError
from storeplane.domain.ports import (
    BackupRepository,
    CheckRepository,
    FleetReader,
    PodLogsPort,
    RolloutRepository,
    StoreObjectsPort,
    StoreRepository,
    UserRepository,
)
from storeplane.domain.users import User
from storeplane.services import auth
from storeplane.services.stream import ChangeFeed
from storeplane.settings import Settings

log = logging.getLogger(__name__)

# Declares the scheme in the OpenAPI document (and the docs' "Authorize" button); the token is
# checked by ``current_user``, which words its own 401s.
bearer_scheme = HTTPBearer(
    auto_error=False,
    scheme_name="BearerToken",
    description="An API token: `Authorization: Bearer sp_...`. Operators make them with "
    "`storeplane tokens create USER`; `storeplane dev` writes one to `<data dir>/admin.token`.",
)


# The getters below are async although they only read app.state: FastAPI runs a plain ``def``
# dependency in the thread pool, one trip per dependency per request (a tenth of a 50-store
# page's CPU in a profile, bench/RESULTS.md); on the event loop they cost a function call.
async def get_repository(request: Request) -> StoreRepository:
    repository: StoreRepository = request.app.state.repository
    return repository


async def get_checks(request: Request) -> CheckRepository:
    checks: CheckRepository | None = request.app.state.checks
    if checks is None:
        raise FeatureUnavailableError("this server keeps no store checks (no SQL database)")
    return checks


async def get_fleet(request: Request) -> FleetReader | None:
    """Fleet-wide reads (counts, recent events, the change feed), when there is SQL."""
    fleet: FleetReader | None = request.app.state.fleet
    return fleet


async def get_change_feed(request: Request) -> ChangeFeed:
    feed: ChangeFeed | None = request.app.state.change_feed
    if feed is None:
        raise FeatureUnavailableError("this server has no event stream (no SQL database); poll")
    return feed


async def get_users(request: Request) -> UserRepository:
    users: UserRepository | None = request.app.state.users
    if users is None:
        raise FeatureUnavailableError("this server keeps no users (no SQL database)")
    return users


async def get_rollouts(request: Request) -> RolloutRepository:
    rollouts: RolloutRepository | None = request.app.state.rollouts
    if rollouts is None:
        raise FeatureUnavailableError("this server keeps no rollouts (no SQL database)")
    return rollouts


async def get_backups(request: Request) -> BackupRepository:
    backups: BackupRepository | None = request.app.state.backups
    if backups is None:
        raise FeatureUnavailableError("this server keeps no backups (no SQL database)")
    return backups


async def get_backups_if_any(request: Request) -> BackupRepository | None:
    backups: BackupRepository | None = request.app.state.backups
    return backups


async def get_pod_logs(request: Request) -> PodLogsPort | None:
    """The cluster's pods and logs, when the process has a cluster (``runtime.py``)."""
    logs: PodLogsPort | None = request.app.state.pod_logs
    return logs


async def get_store_objects(request: Request) -> StoreObjectsPort | None:
    """The store inventory, when the process reconciles (``runtime.py``)."""
    inventory: StoreObjectsPort | None = request.app.state.store_objects
    return inventory


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


_USER_KEY = "storeplane.user"


def authenticate_request(request: Request) -> User:
    """Authenticate the caller of ``request`` and charge its rate limit, once per request.

    A valid token's user takes one request from its own bucket (429 when empty). A request
    without a valid token takes one from its client address's bucket: 401 while that bucket
    has requests left, 429 (with ``Retry-After``) after, so guessing tokens or hammering the
    API anonymously is bounded too. Called by ``ApiRoute`` before the body is read; the user
    is kept in the request scope for :func:`current_user`.
    """
    users: UserRepository | None = request.app.state.users
    try:
        if users is None:
            raise AuthenticationError("this server has no user database", reason="invalid")
        user = auth.cached_user(users, request.headers.get("authorization")) or auth.authenticate(
            users, request.headers.get("authorization")
        )
    except AuthenticationError:
        _refuse_anonymous(request)
        raise
    return _admit(request, user)


async def authenticate_request_async(request: Request) -> User | None:
    """:func:`authenticate_request` on the event loop, when the user repository can check a
    token there (PostgreSQL, ``storeplane.db.pgreads``: one statement, no thread-pool trip);
    None means "call ``authenticate_request``"."""
    users: UserRepository | None = request.app.state.users
    if users is None or not getattr(users, "authenticates_async", False):
        return None
    try:
        user = await auth.authenticate_async(users, request.headers.get("authorization"))
    except AuthenticationError:
        _refuse_anonymous(request)
        raise
    return _admit(request, user)


def _refuse_anonymous(request: Request) -> None:
    """Charge a request without a valid token to its address: 429 when that bucket is empty
    (the caller raises its 401 otherwise)."""
    anonymous: RateLimiter = request.app.state.anonymous_rate_limiter
    host = request.client.host if request.client else None
    wait = anonymous.acquire(client_address_key(host))
    if wait > 0:
        raise RateLimitedError(wait, caller="this address without a valid API token") from None


def _admit(request: Request, user: User) -> User:
    """Charge ``user``'s rate limit and keep it in the request scope for ``current_user``."""
    limiter: RateLimiter = request.app.state.rate_limiter
    wait = limiter.acquire(user.id)
    if wait > 0:
        raise RateLimitedError(wait)
    request.scope[_USER_KEY] = user
    return user


def authenticate_cached(request: Request) -> User | None:
    """:func:`authenticate_request` without I/O, when the token is in the user repository's
    cache (``storeplane.db.readcache``): ``ApiRoute`` calls it on the event loop and saves a
    thread-pool trip. None means "call ``authenticate_request``"."""
    users: UserRepository | None = request.app.state.users
    if users is None:
        return None
    user = auth.cached_user(users, request.headers.get("authorization"))
    if user is None:
        return None
    return _admit(request, user)


async def current_user(
    request: Request,
    _credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
) -> User:
    """The authenticated caller (401 otherwise), after its share of the rate limit (429).
    ``ApiRoute`` has normally done this before the body was read; this only reads the result
    (and does the work itself for a route that is not an ``ApiRoute``). Async so that reading
    the result costs no trip through the thread pool."""
    user: User | None = request.scope.get(_USER_KEY)
    if user is None:
        user = await authenticate_request_async(request)
    if user is None:
        user = await run_in_threadpool(authenticate_request, request)
    return user


async def get_notifier(request: Request) -> Callable[[str], None]:
    """Call with a store id after an intent write so the in-process reconciler wakes it."""
    on_change: Callable[[str], None] | None = request.app.state.on_change

    def notify(store_id: str) -> None:
        if on_change is None:
            return
        try:
            on_change(store_id)
        except Exception:  # the write succeeded; a missed wake-up is healed by the resync
            log.exception("on_change hook failed for store %s", store_id)

    return notify


RepositoryDep = Annotated[StoreRepository, Depends(get_repository)]
ChecksDep = Annotated[CheckRepository, Depends(get_checks)]
RolloutsDep = Annotated[RolloutRepository, Depends(get_rollouts)]
FleetDep = Annotated[FleetReader | None, Depends(get_fleet)]
ChangeFeedDep = Annotated[ChangeFeed, Depends(get_change_feed)]
UsersDep = Annotated[UserRepository, Depends(get_users)]
StoreObjectsDep = Annotated[StoreObjectsPort | None, Depends(get_store_objects)]
BackupsDep = Annotated[BackupRepository, Depends(get_backups)]
MaybeBackupsDep = Annotated[BackupRepository | None, Depends(get_backups_if_any)]
PodLogsDep = Annotated[PodLogsPort | None, Depends(get_pod_logs)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
CurrentUserDep = Annotated[User, Depends(current_user)]
NotifyDep = Annotated[Callable[[str], None], Depends(get_notifier)]
