"""The HTTP surface: a Starlette app speaking a subset of the Kubernetes REST API.

Built by :func:`create_app` and served by :mod:`storeplane.sim.runner`. Routes are thin:
they parse the URL into (kind, namespace, name, subresource), decode the body, call
:class:`~storeplane.sim.store.cluster.Cluster` and render the result or the ``Status`` error.
The lifespan opens the store (and its state file) and runs the controllers.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, cast

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from ..admission.rbac_policy import ensure_bootstrap_policy
from ..admission.validation import FieldValidation
from ..config import SimulatorConfig
from ..controllers.manager import ControllerManager, default_controllers
from ..errors import ApiError, bad_request, method_not_allowed, path_not_found
from ..faults import FaultInjector, Faults
from ..kinds import NAMESPACES, Kind, KindRegistry
from ..node import setup as node_setup
from ..store.cluster import PROPAGATIONS, Cluster, Obj, Propagation
from ..store.objects import ObjectStore
from ..store.selectors import parse_field_selector, parse_label_selector
from . import discovery, ingress, logs, openapi, proxy, reviews, scale, tables
from .auth import AuthMiddleware, TokenAuthority
from .codec import decode_body, decode_patch
from .watch import DEFAULT_TIMEOUT, StreamOptions, WatchHub, WatchStream

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Target:
    """What a resource URL points at. ``name`` None is the collection; ``namespace`` None
    on a namespaced kind means all namespaces."""

    kind: Kind
    namespace: str | None
    name: str | None
    subresource: str


def parse_path(group: str, version: str, rest: list[str], kinds: KindRegistry) -> Target:
    """Resolve the part of a URL after ``/api/v1`` or ``/apis/{group}/{version}``."""
    if len(rest) >= 3 and rest[0] == "namespaces":
        kind = kinds.lookup(group, version, rest[2])
        if kind is not None and kind.namespaced:
            return _target(kind, rest[1], rest[3:])
    kind = kinds.lookup(group, version, rest[0])
    if kind is None or (kind.namespaced and len(rest) > 1):
        raise path_not_found()
    return _target(kind, None, rest[1:])


def _subresource_ok(kind: Kind, subresource: str) -> bool:
    if subresource == "status":
        return kind.has_status
    if subresource == "scale":
        return kind.has_scale
    if subresource == "log":
        return kind.kind == "Pod"
    return subresource == "finalize" and kind is NAMESPACES


def _target(kind: Kind, namespace: str | None, tail: list[str]) -> Target:
    if len(tail) > 2 or (len(tail) == 2 and not _subresource_ok(kind, tail[1])):
        raise path_not_found()
    name = tail[0] if tail else None
    return Target(kind, namespace, name, tail[1] if len(tail) == 2 else "")


def _json(body: Any, status_code: int = 200) -> Response:
    return JSONResponse(body, status_code=status_code)


def _aggregated(body: Any) -> Response:
    return JSONResponse(body, media_type=discovery.AGGREGATED)


def _error(exc: ApiError) -> Response:
    response = _json(exc.status_body(), exc.code)
    response.headers.update(exc.headers)
    return response


def _manager(request: Request) -> str:
    manager = request.query_params.get("fieldManager")
    if manager:
        return manager
    agent = request.headers.get("user-agent", "")
    return agent.split("/")[0][:128] or "unknown"


def _flag(value: str | None) -> bool:
    return (value or "").lower() in ("true", "1")


def _watch(request: Request, sim: Simulated, target: Target) -> Response:
    """Open a watch on a collection (see :mod:`storeplane.sim.api.watch`)."""
    q = request.query_params
    if target.name is not None or request.method != "GET":
        raise method_not_allowed()
    kind, namespace = target.kind, target.namespace if target.kind.namespaced else None
    labels = parse_label_selector(q.get("labelSelector"))
    fields = parse_field_selector(q.get("fieldSelector"), kind.kind)
    rv = q.get("resourceVersion") or ""
    if rv and not rv.isdigit():
        raise bad_request(f"invalid resource version: {rv}")
    since = int(rv) if rv and rv != "0" else None
    timeout = q.get("timeoutSeconds")
    if timeout is not None and not timeout.isdigit():
        raise bad_request(f"invalid timeoutSeconds: {timeout}")
    initial_events = _flag(q.get("sendInitialEvents"))
    if initial_events:
        since = None
    options = StreamOptions(
        kind=kind,
        timeout=float(timeout) if timeout and int(timeout) > 0 else DEFAULT_TIMEOUT,
        bookmarks=_flag(q.get("allowWatchBookmarks")),
        bookmark_interval=sim.config.watch_bookmark_interval,
        initial_events_end=initial_events,
        drop_after=sim.faults.faults.watch_drop_after,
    )
    answer_as = tables.negotiate(request.headers.get("accept"))
    if answer_as is not None:
        options.transform = tables.watch_transform(kind, answer_as, q.get("includeObject"))
    initial = (
        sim.cluster.list_objects(
            kind, namespace, q.get("labelSelector"), q.get("fieldSelector"), copies=False
        )["items"]
        if since is None
        else []
    )
    try:
        watcher = sim.hub.open(
            kind, namespace, labels, fields, since, initial, sim.config.watch_queue_size
        )
    except ApiError as exc:
        options.error = exc
        return WatchStream(sim.hub, None, options)
    return WatchStream(sim.hub, watcher, options)


def _field_validation(value: str | None) -> FieldValidation:
    if value in (None, ""):
        return "Warn"
    if value not in ("Strict", "Warn", "Ignore"):
        raise bad_request(
            f'fieldValidation must be one of "Ignore", "Strict" or "Warn", got "{value}"'
        )
    return value  # type: ignore[return-value]


def _with_warnings(response: Response, cluster: Cluster) -> Response:
    for warning in cluster.take_warnings():
        escaped = warning.replace("\\", "\\\\").replace('"', '\\"')
        response.headers.append("Warning", f'299 - "{escaped}"')
    return response


async def _resource(request: Request, sim: Simulated, target: Target) -> Response:
    response = await _resource_call(request, sim, target)
    return _with_warnings(response, sim.cluster)


async def _resource_call(request: Request, sim: Simulated, target: Target) -> Response:
    q = request.query_params
    if _flag(q.get("watch")):
        return _watch(request, sim, target)
    # The whole body is read before the verb runs: a verb (and a dry run's undo) must not
    # span an await, or another request could see its intermediate state.
    raw = await request.body() if request.method in ("POST", "PUT", "PATCH", "DELETE") else b""
    sim.cluster.take_warnings()
    if request.method == "GET" and target.subresource in ("", "status"):
        return _read(request, sim, target)
    dry_run = _dry_run(q.getlist("dryRun"))
    options: Obj = {}
    if request.method == "DELETE":
        options = _delete_options(request, raw)
        dry_run = dry_run or _dry_run(options.get("dryRun") or [])
    if not dry_run:
        return _call(request, sim, target, raw, options)
    with sim.cluster.dry_run():
        return _call(request, sim, target, raw, options)


def _dry_run(values: Any) -> bool:
    """``dryRun=All`` (query or DeleteOptions) -> True; no value -> False; anything else is
    the API server's 400."""
    if not isinstance(values, list) or any(v != "All" for v in values):
        raise bad_request(
            f'dryRun: Unsupported value: {json.dumps(values)}: supported values: "All"'
        )
    return bool(values)


def _read(request: Request, sim: Simulated, target: Target) -> Response:
    """GET of one object or a list, answered as the client's Accept asks: the object or
    list itself, or a Table / PartialObjectMetadata (see :mod:`storeplane.sim.api.tables`)."""
    q = request.query_params
    cluster, kind = sim.cluster, target.kind
    answer_as = tables.negotiate(request.headers.get("accept"))
    if target.name is None:
        limit = q.get("limit")
        if limit is not None and not limit.isdigit():
            raise bad_request(f"invalid limit: {limit}")
        data = cluster.list_objects(
            kind, target.namespace, q.get("labelSelector"), q.get("fieldSelector"),
            int(limit) if limit else None, q.get("continue"), copies=False,
        )  # fmt: skip
    else:
        data = cluster.get(kind, target.namespace, target.name, copies=False)
    if answer_as is None:
        return _json(data)
    return _json(tables.render(kind, data, answer_as, q.get("includeObject")))


def _call(
    request: Request, sim: Simulated, target: Target, raw: bytes, options: Obj | None = None
) -> Response:
    """Run the verb of a resource request; synchronous, so it is atomic on the event loop."""
    q = request.query_params
    method = request.method
    cluster = sim.cluster
    kind, namespace, name = target.kind, target.namespace, target.name
    content_type = request.headers.get("content-type")
    validation = _field_validation(q.get("fieldValidation"))
    propagation = cast(Propagation | None, (options or {}).get("propagationPolicy"))
    if name is None:
        if method == "POST" and (namespace is not None or not kind.namespaced):
            body = decode_body(content_type, raw)
            new = cluster.create(
                kind, namespace, body, _manager(request), field_validation=validation
            )
            return _json(new, 201)
        if method == "DELETE":
            return _json(
                cluster.delete_collection(
                    kind, namespace, q.get("labelSelector"), q.get("fieldSelector"), propagation
                )
            )
        raise method_not_allowed()
    if target.subresource == "scale":
        return scale.handle(
            request, cluster, kind, namespace, name, raw, _manager(request), validation
        )
    if target.subresource == "log":
        if method != "GET":
            raise method_not_allowed()
        root = sim.node.agent.folders.root if sim.node is not None else None
        return logs.pod_log(request, cluster, root, str(namespace), name)
    if target.subresource == "finalize":
        if method != "PUT":
            raise method_not_allowed()
        return _json(cluster.finalize(name, decode_body(content_type, raw)))
    if method == "PUT":
        body = decode_body(content_type, raw)
        return _json(
            cluster.replace(
                kind, namespace, name, body, _manager(request), target.subresource, validation
            )
        )
    if method == "PATCH":
        patch_type, body = decode_patch(content_type, raw)
        force = q.get("force", "false").lower() == "true"
        manager = q.get("fieldManager") if patch_type == "apply" else _manager(request)
        obj, created = cluster.patch(
            kind, namespace, name, body, patch_type, manager, force, target.subresource,
            validation,
        )  # fmt: skip
        return _json(obj, 201 if created else 200)
    if method == "DELETE" and not target.subresource:
        preconditions = (options or {}).get("preconditions")
        return _json(cluster.delete(kind, namespace, name, propagation, preconditions))
    raise method_not_allowed()


def _delete_options(request: Request, raw: bytes) -> Obj:
    """The DeleteOptions of a DELETE: ``propagationPolicy`` and ``preconditions`` from the
    query (lightkube) or the body (kubectl, helm; JSON or protobuf), ``orphanDependents``
    as the old spelling of Orphan, and the body's ``dryRun``."""
    content_type = request.headers.get("content-type") or "application/json"
    body = decode_body(content_type, raw) if raw.strip() else {}
    if not isinstance(body, dict):
        raise bad_request("the body of a DELETE must be a DeleteOptions object")
    policy = request.query_params.get("propagationPolicy") or body.get("propagationPolicy")
    orphan = request.query_params.get("orphanDependents") or body.get("orphanDependents")
    if policy is None and orphan is not None:
        policy = "Orphan" if str(orphan).lower() == "true" else "Background"
    if policy is not None and policy not in PROPAGATIONS:
        raise bad_request(
            f'DeleteOptions.propagationPolicy: Unsupported value: "{policy}": supported '
            'values: "Background", "Foreground", "Orphan"'
        )
    preconditions = body.get("preconditions")
    return {
        "propagationPolicy": policy,
        "preconditions": preconditions if isinstance(preconditions, dict) else None,
        "dryRun": body.get("dryRun") or [],
    }


@dataclass
class Simulated:
    """What the routes work on while the app runs (built by the lifespan)."""

    config: SimulatorConfig
    cluster: Cluster
    hub: WatchHub
    faults: FaultInjector
    auth: TokenAuthority
    node: node_setup.Node | None = None


def _verb(request: Request) -> str:
    """The Kubernetes verb of a request, roughly: watch, get (one object or a list), create..."""
    if request.query_params.get("watch") in ("1", "true"):
        return "watch"
    return {
        "GET": "get",
        "POST": "create",
        "PUT": "update",
        "PATCH": "patch",
        "DELETE": "delete",
    }.get(request.method, request.method.lower())


def _resource_of(path: str) -> str:
    """``services/proxy``, ``events``, ``namespaces``...: the resource (and subresource) a
    request under /api or /apis names, for the per-resource request counters."""
    parts = [p for p in path.split("/") if p]
    rest = parts[2:] if parts[:1] == ["api"] else parts[3:]
    if rest[:1] == ["watch"]:
        rest = rest[1:]
    if len(rest) >= 3 and rest[0] == "namespaces":
        rest = rest[2:]  # a namespaced resource (not the namespace itself)
    if not rest:
        return "discovery"
    return f"{rest[0]}/{rest[2]}" if len(rest) >= 3 else rest[0]


def create_app(config: SimulatorConfig, ingress_port: int | None = None) -> Starlette:
    """The simulator as an ASGI app; the store opens when the lifespan starts. Requests that
    arrive on ``ingress_port`` (the runner's second socket) go to the ingress listener."""
    state: dict[str, Any] = {}
    injector = FaultInjector(config.faults)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        store = ObjectStore(config.state_path)
        cluster = Cluster(store)
        hub = WatchHub(config.watch_history, store.resource_version)
        cluster.subscribe_changes(hub.on_change)
        cluster.ensure_namespaces()
        node = node_setup.build(config, cluster) if config.runtime_mode else None
        authority = TokenAuthority.load(store, config.admin_token)
        if config.rbac:
            ensure_bootstrap_policy(cluster)
        manager = ControllerManager(
            cluster,
            default_controllers(
                config.ready_delay, config.terminate_delay, injector, config.ready_delays,
                [node.scheduler] if node is not None else None,
            )
            if config.controllers
            else [],
        )  # fmt: skip
        if node is not None:
            await node.agent.start()
        task = asyncio.create_task(manager.run(), name="storeplane-sim-controllers")
        state["sim"] = Simulated(config, cluster, hub, injector, authority, node)
        logger.info(
            "simulator ready (state: %s, ready_delay %.2fs, terminate_delay %.2fs)",
            config.state_path or "in memory",
            config.ready_delay,
            config.terminate_delay,
        )
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            if node is not None:
                await node.agent.stop()
            store.close()
            state.clear()

    def sim_of() -> Simulated:
        sim: Simulated | None = state.get("sim")
        if sim is None:
            raise ApiError(503, "ServiceUnavailable", "the simulator is not started")
        return sim

    # Requests by verb, for benchmarks and tests that measure what a client costs the API
    # server (GET /sim/v1/stats; only /api and /apis calls count).
    requests: Counter[str] = Counter()
    by_resource: Counter[str] = Counter()  # "get services/proxy": what a client reads twice

    async def handle(request: Request) -> Response:
        verb = _verb(request)
        requests[verb] += 1
        by_resource[f"{verb} {_resource_of(request.url.path)}"] += 1
        try:
            return await _dispatch(request, sim_of())
        except ApiError as exc:
            return _error(exc)
        except Exception:
            logger.exception("unexpected error on %s %s", request.method, request.url.path)
            return _error(ApiError(500, "InternalError", "internal error in the simulator"))

    async def version(request: Request) -> Response:
        return _json(discovery.version())

    async def health(request: Request) -> Response:
        return PlainTextResponse("ok")

    async def openapi_v3(request: Request) -> Response:
        try:
            sim = sim_of()
        except ApiError as exc:
            return _error(exc)
        rest = request.path_params.get("path", "").strip("/")
        if not rest:
            return Response(openapi.root(sim.cluster.kinds), media_type="application/json")
        parts = rest.split("/")
        body = None
        if parts[0] == "api" and len(parts) == 2:
            body = openapi.served_document("", parts[1], sim.cluster.kinds)
        elif parts[0] == "apis" and len(parts) == 3:
            body = openapi.served_document(parts[1], parts[2], sim.cluster.kinds)
        if body is None:
            return _error(path_not_found())
        return Response(body, media_type="application/json")

    async def stats(request: Request) -> Response:
        try:
            sim = sim_of()
        except ApiError as exc:
            return _error(exc)
        return _json(
            {
                "objects": sim.cluster.store.count(),
                "watchers": sim.hub.watcher_count(),
                "resourceVersion": str(sim.cluster.store.resource_version),
                "requests": dict(requests),
                "requests_by_resource": dict(by_resource),
                "requests_total": sum(requests.values()),
            }
        )

    async def faults(request: Request) -> Response:
        """The simulator-only fault API (see :mod:`storeplane.sim.faults`)."""
        try:
            if request.method == "PUT":
                injector.set(
                    Faults.from_json(decode_body("application/json", await request.body()))
                )
            elif request.method == "PATCH":
                body = decode_body("application/json", await request.body())
                injector.set(Faults.from_json(body, injector.faults))
            elif request.method == "DELETE":
                injector.set(Faults())
        except ApiError as exc:
            return _error(exc)
        if request.method != "GET":
            logger.info("fault settings now %s", injector.faults.to_json())
        return _json(injector.faults.to_json())

    async def residue(request: Request) -> Response:
        """CONTRACTS D: what is still alive or on disk for a namespace's pods and claims."""
        try:
            sim = sim_of()
            namespace = request.query_params.get("namespace")
            if not namespace:
                raise bad_request("namespace is required: /sim/v1/node/residue?namespace=NS")
        except ApiError as exc:
            return _error(exc)
        if sim.node is None:
            return _json({"processes": [], "folders": []})
        return _json(sim.node.agent.residue(namespace))

    routes = [
        Route("/version", version, methods=["GET"]),
        Route("/sim/v1/node/residue", residue, methods=["GET"]),
        Route("/healthz", health, methods=["GET"]),
        Route("/livez", health, methods=["GET"]),
        Route("/readyz", health, methods=["GET"]),
        Route("/openapi/v3", openapi_v3, methods=["GET"]),
        Route("/openapi/v3/{path:path}", openapi_v3, methods=["GET"]),
        Route("/sim/v1/stats", stats, methods=["GET"]),
        Route("/sim/v1/faults", faults, methods=["GET", "PUT", "PATCH", "DELETE"]),
        Route("/{path:path}", handle, methods=["GET", "POST", "PUT", "PATCH", "DELETE"]),
    ]

    def auth_context() -> tuple[TokenAuthority, Cluster] | None:
        sim: Simulated | None = state.get("sim")
        return (sim.auth, sim.cluster) if sim is not None else None

    async def ingress_handler(request: Request) -> Response:
        try:
            sim = sim_of()
        except ApiError as exc:
            return _error(exc)
        return await ingress.handle(request, sim.cluster, sim.node.agent if sim.node else None)

    # The ingress port's requests go to the stores, never through the API's auth; with RBAC
    # every other request but /sim/v1/* is authenticated and authorized first.
    middleware = []
    if ingress_port is not None:
        middleware.append(Middleware(IngressSplit, port=ingress_port, handler=ingress_handler))
    if config.rbac:
        middleware.append(Middleware(AuthMiddleware, context=auth_context))
    return Starlette(routes=routes, lifespan=lifespan, middleware=middleware)


class IngressSplit:
    """ASGI middleware: HTTP requests that arrived on the ingress port go to the ingress
    listener (:mod:`storeplane.sim.api.ingress`), everything else to the API."""

    def __init__(self, app: Any, port: int, handler: Any) -> None:
        self.app, self.port, self.handler = app, port, handler

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        server = scope.get("server") or (None, None)
        if scope["type"] == "http" and server[1] == self.port:
            response = await self.handler(Request(scope, receive))
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


async def _dispatch(request: Request, sim: Simulated) -> Response:
    parts = [p for p in request.url.path.split("/") if p]
    if not parts or parts[0] not in ("api", "apis"):
        raise path_not_found()
    if parts[0] == "api":
        group, rest = "", parts[1:]
        if not rest:
            if request.method != "GET":
                raise method_not_allowed()
            if discovery.wants_aggregated(request.headers.get("accept")):
                return _aggregated(discovery.aggregated(True, sim.cluster.kinds))
            return _json(discovery.api_versions(request.url.netloc, sim.cluster.kinds))
    else:
        if len(parts) == 1:
            if request.method != "GET":
                raise method_not_allowed()
            if discovery.wants_aggregated(request.headers.get("accept")):
                return _aggregated(discovery.aggregated(False, sim.cluster.kinds))
            return _json(discovery.api_group_list(sim.cluster.kinds))
        group, rest = parts[1], parts[2:]
        if not rest:
            doc = discovery.api_group(group, sim.cluster.kinds)
            if doc is None:
                raise path_not_found()
            return _json(doc)
    version, rest = rest[0], rest[1:]
    if (
        group == ""
        and len(rest) >= 5
        and rest[0] == "namespaces"
        and rest[2] == "services"
        and rest[4] == "proxy"
    ):
        await sim.faults.before_call()
        marker = f"/services/{rest[3]}/proxy"
        tail = request.url.path[request.url.path.index(marker) + len(marker) :]
        return await proxy.serve(
            request, sim.cluster, sim.node.agent if sim.node else None, rest[1], rest[3], tail
        )
    if not rest:
        doc = discovery.resource_list(group, version, sim.cluster.kinds)
        if doc is None:
            raise path_not_found()
        return _json(doc)
    answered = await reviews.answer(
        request, sim.cluster, sim.auth, sim.config.rbac, group, version, rest
    )
    if answered is not None:
        return answered
    target = parse_path(group, version, rest, sim.cluster.kinds)
    await sim.faults.before_call()
    return await _resource(request, sim, target)
