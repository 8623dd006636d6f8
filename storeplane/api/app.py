"""``create_app``: the FastAPI application, assembled from settings (and optionally a
repository, a dashboard build and a wake-up hook).

Called by the CLI (``storeplane serve`` / ``dev``, which run ``migrate`` first), by the tests
and by :mod:`storeplane.api.openapi`. It never runs migrations and never talks to a cluster.
"""

from __future__ import annotations

import gc
import warnings
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio.to_thread
from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from storeplane.api.dashboard import has_dashboard, mount_dashboard
from storeplane.api.docs import install_docs
from storeplane.api.errors import (
    PROBLEM_MEDIA_TYPE,
    CatchAllMiddleware,
    Problem,
    install_error_handlers,
)
from storeplane.api.limits import BodySizeLimitMiddleware, RateLimiter
from storeplane.api.routes import accounts, catalog, health, metrics, stores
from storeplane.api.routes import backups as backup_routes
from storeplane.api.routes import checks as check_routes
from storeplane.api.routes import fleet as fleet_routes
from storeplane.api.routes import logs as log_routes
from storeplane.api.routes import objects as object_routes
from storeplane.api.routes import rollouts as rollout_routes
from storeplane.api.routes import stream as stream_routes
from storeplane.api.routing import ApiRoute
from storeplane.api.timing import RequestTimingMiddleware
from storeplane.domain.ports import (
    CheckRepository,
    FleetReader,
    PodLogsPort,
    StoreObjectsPort,
    StoreRepository,
    UserRepository,
)
from storeplane.services.stream import ChangeFeed
from storeplane.settings import Settings

DESCRIPTION = """\
storeplane provisions e-commerce stores (MedusaJS, WooCommerce) on Kubernetes and manages each
one through its life. The API records what you ask for and returns at once (202); a reconciler
does the work and reports progress in each store's `phase`, `conditions` and event log.
Each store says what runs it (`workload_runtime`: `cluster`, `local` processes, or `simulated`
with nothing behind it). An order check (`POST /api/v1/stores/{id}/checks`) proves a store
sells: a real guest order placed at its URL and found again in its admin, run beside the
reconciler and followed with `GET .../checks/{check_id}`. A store's owner reads its
containers' output with `GET /api/v1/stores/{id}/logs`.

Every endpoint under `/api/v1` needs an API token: `Authorization: Bearer sp_...` (sent once).
Without one, or with an unknown or revoked one, the answer is `401` with
`WWW-Authenticate: Bearer`, whatever the body: the token is checked before the body is read.
An admin sees every store; a member only its own (anyone else's store is a `404`, as if it did
not exist). Each user may make a limited number of requests per second, and so may each client
address without a valid token (`429` with `Retry-After`); a member owns a limited number of
live stores (`403`).

Bodies are JSON in UTF-8. A body that is not UTF-8 or not JSON, nests deeper than 32 levels or
holds a number longer than 100 characters is a `400` saying what and where (byte offset, path);
a key that appears twice in one object is a `422` naming it. `HEAD` works wherever `GET` does;
a `405` lists in `Allow` the methods the path serves.

Every error is an RFC 9457 problem document (`application/problem+json`) whose `detail` says
what went wrong and whose `errors` name each offending field.
"""


_heap_frozen = False


def freeze_startup_heap() -> None:
    """Move everything alive at the first app start (modules, classes, routes, schemas: most
    of the process's objects) out of the cyclic garbage collector's sight, once per process.

    A full collection walks every tracked object; with ~170,000 of them it paused a serving
    process for 50-300 ms a few times a minute under load, which was the p99 of a page of
    stores (bench/RESULTS.md). Frozen objects are never collected, which costs nothing for
    objects that live as long as the process; only the first start freezes, so a process that
    makes many apps (the tests) does not keep each one's garbage."""
    global _heap_frozen
    if _heap_frozen:
        return
    _heap_frozen = True
    gc.collect()
    gc.freeze()


def create_app(
    settings: Settings,
    repo: StoreRepository | None = None,
    *,
    users: UserRepository | None = None,
    checks: CheckRepository | None = None,
    fleet: FleetReader | None = None,
    pod_logs: PodLogsPort | None = None,
    store_objects: StoreObjectsPort | None = None,
    dashboard_dir: Path | None = None,
    on_change: Callable[[str], None] | None = None,
) -> FastAPI:
    """Build the app. Without ``repo`` it opens ``settings.sqlalchemy_url`` itself (and closes
    it on shutdown); the database must already be migrated. Without ``users`` (``checks``),
    users and tokens (smoke checks) are read from the same database as ``repo``; with neither
    (a repository that is not SQL), every authenticated endpoint answers 401. ``on_change(store_id)`` is called
    after each successful intent write, so an in-process reconciler can wake that store.
    ``pod_logs`` (the cluster adapter, from ``runtime.py``) serves ``/stores/{id}/logs``;
    without it that endpoint answers 503; so does ``.../objects`` without ``store_objects``
    (the store inventory, ``reconciler/inventory.py``)."""
    from storeplane.db import (
        SqlBackupRepository,
        SqlCheckRepository,
        SqlStoreRepository,
        SqlUserRepository,
    )
    from storeplane.db.fleet import SqlFleetReader

    owned_engine = None
    if repo is None:
        from storeplane.db import create_engine_for

        owned_engine = create_engine_for(settings.sqlalchemy_url)
        repo = SqlStoreRepository(owned_engine)
    if users is None and isinstance(repo, SqlStoreRepository) and hasattr(repo, "engine"):
        users = SqlUserRepository(repo.engine)
    if checks is None and isinstance(repo, SqlStoreRepository) and hasattr(repo, "engine"):
        checks = SqlCheckRepository(repo.engine)
    if fleet is None and isinstance(repo, SqlStoreRepository) and hasattr(repo, "engine"):
        fleet = SqlFleetReader(repo.engine)
    rollout_repo = None
    if isinstance(repo, SqlStoreRepository) and hasattr(repo, "engine"):
        from storeplane.db import SqlRolloutRepository

        rollout_repo = SqlRolloutRepository(repo.engine)

    change_feed = (
        ChangeFeed(fleet, interval=settings.stream_poll_seconds) if fleet is not None else None
    )
    backups = None
    if isinstance(repo, SqlStoreRepository) and hasattr(repo, "engine"):
        backups = SqlBackupRepository(repo.engine)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # Sync routes and the token lookups run in AnyIO's thread pool; see Settings.api_threads.
        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.api_threads
        freeze_startup_heap()
        try:
            yield
        finally:
            if change_feed is not None:
                await change_feed.close()
            for reader in {getattr(r, "pg", None) for r in (repo, users)}:
                if reader is not None:  # the event loop's PostgreSQL reads (db/pgreads.py)
                    await reader.close()
            if owned_engine is not None:
                owned_engine.dispose()

    app = FastAPI(
        title="storeplane",
        version="1",
        summary="A control plane for e-commerce stores on Kubernetes.",
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,  # install_docs serves /docs and /redoc without a CDN
        redoc_url=None,
    )
    # Routes added on the app itself (the docs pages) answer HEAD and 405 like the API's.
    app.router.route_class = ApiRoute
    install_docs(app)
    app.state.settings = settings
    app.state.repository = repo
    app.state.users = users
    app.state.checks = checks
    app.state.fleet = fleet
    app.state.change_feed = change_feed
    app.state.rollouts = rollout_repo
    app.state.backups = backups
    app.state.pod_logs = pod_logs
    app.state.store_objects = store_objects
    app.state.rate_limiter = RateLimiter(settings.rate_limit_per_second, settings.rate_limit_burst)
    app.state.anonymous_rate_limiter = RateLimiter(
        settings.anonymous_rate_limit_per_second, settings.anonymous_rate_limit_burst
    )
    app.state.on_change = on_change

    install_error_handlers(app)
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_request_bytes)
    # Whatever escapes below is answered here, not by Starlette's last resort (which closes
    # the connection), see api/errors.py; inside the timing, so it sees the real status.
    app.add_middleware(CatchAllMiddleware)
    app.add_middleware(RequestTimingMiddleware)
    routers = (
        stores.router,
        check_routes.router,
        backup_routes.router,
        log_routes.router,
        object_routes.router,
        fleet_routes.router,
        stream_routes.router,
        accounts.users_router,
        accounts.tokens_router,
        rollout_routes.router,
        catalog.router,
        health.router,
        metrics.router,
    )
    for router in routers:
        app.include_router(router)
    if dashboard_dir is not None and has_dashboard(dashboard_dir):
        mount_dashboard(app, dashboard_dir)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            with warnings.catch_warnings():
                # HEAD shares its GET's operation; _without_head drops it again.
                warnings.filterwarnings("ignore", "Duplicate Operation ID .*_get ")
                schema = get_openapi(
                    title=app.title,
                    version=app.version,
                    summary=app.summary,
                    description=app.description,
                    routes=app.routes,
                )
            app.openapi_schema = _with_problem_responses(_without_head(schema))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app


_REF = "#/components/schemas/{model}"
_DEFAULT_DESCRIPTIONS = {
    "400": "The body is not readable: not UTF-8, not JSON, nested deeper than 32 levels or "
    "holding a number longer than 100 characters (`detail` says where, as a byte offset and "
    "a path); or a header that must appear once was sent twice.",
    "400-header": "A header that must appear once (`Authorization`, `Idempotency-Key`, "
    "`Content-Type`) was sent twice; `errors` names it.",
    "413": "The body is larger than the server's limit.",
    "422": "The request is invalid; `errors` names each field (a key that appears twice in one "
    "object included).",
    "401": "No API token, or an unknown or revoked one (`WWW-Authenticate: Bearer`). Checked "
    "before the body is read.",
    "429": "Too many requests from this user, or from this client address without a valid "
    "token; wait `Retry-After` seconds.",
}


def _without_head(schema: dict[str, Any]) -> dict[str, Any]:
    """Drop the ``head`` operations: ``ApiRoute`` answers HEAD wherever GET is served, which
    HTTP implies; listing them would double every read in the document and its clients."""
    for operations in schema.get("paths", {}).values():
        operations.pop("head", None)
    return schema


def _with_problem_responses(schema: dict[str, Any]) -> dict[str, Any]:
    """Document every error reply as a Problem (``application/problem+json``), replacing
    FastAPI's default 422 body, list 400/413 on every operation that takes a body and
    400/401/429 on every operation that needs a token (``ApiRoute`` checks headers and the
    token first)."""
    problem_schema = Problem.model_json_schema(ref_template=_REF)
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components.update(problem_schema.pop("$defs", {}))
    components["Problem"] = problem_schema
    problem_content = {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": _REF.format(model="Problem")}}}
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            if "requestBody" in operation:
                for code in ("400", "413", "422"):
                    responses.setdefault(code, {"description": _DEFAULT_DESCRIPTIONS[code]})
            if operation.get("security"):
                for code in ("401", "429"):
                    responses.setdefault(code, {"description": _DEFAULT_DESCRIPTIONS[code]})
                responses.setdefault("400", {"description": _DEFAULT_DESCRIPTIONS["400-header"]})
            for code, response in responses.items():
                if code.isdigit() and int(code) >= 400:
                    if response.get("description") == "Validation Error":
                        response["description"] = _DEFAULT_DESCRIPTIONS["422"]
                    response["content"] = problem_content
    for unused in ("HTTPValidationError", "ValidationError"):
        components.pop(unused, None)
    return schema
