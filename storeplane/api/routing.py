"""``ApiRoute``: the route class of every API router. It orders each request the way a
careful server would: headers first, then who is calling, then the body.

FastAPI reads and parses a route's JSON body *before* it runs the route's dependencies, so an
unauthenticated caller with a broken body would get a 400 about the body instead of a 401,
and anyone could make the server parse any body. ``ApiRoute`` wraps FastAPI's handler:

1. on a route that depends on ``deps.current_user``, a header that must appear once
   (``Authorization``, ``Idempotency-Key``, ``Content-Type``) appearing twice is a 400 naming
   it (no guessing which copy the caller meant: two tokens could be two users);
2. such a route then authenticates the caller, before the body is read, and charges the rate
   limit (:func:`storeplane.api.deps.authenticate_request`); ``current_user`` then returns that
   user without a second lookup;
3. the body is parsed once, by :func:`storeplane.api.body.parse_json` (strict UTF-8, no
   duplicate keys, bounded depth and numbers), when FastAPI asks the request for its JSON.

``HEAD`` is accepted wherever ``GET`` is (Starlette's own routes do the same; uvicorn sends
no body for it) and kept out of the OpenAPI document by ``create_app``.

Every router under ``storeplane/api/routes`` passes ``route_class=ApiRoute``; a test in
``tests/api/test_app.py`` fails for a route that does not.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

from fastapi import Request, Response
from fastapi.datastructures import DefaultPlaceholder
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool

from storeplane.api.body import parse_json
from storeplane.api.deps import (
    authenticate_cached,
    authenticate_request,
    authenticate_request_async,
    current_user,
)
from storeplane.api.errors import DuplicateHeaderError

# Headers whose second copy would change the meaning of the request.
SINGLE_HEADERS = {
    b"authorization": "Authorization",
    b"idempotency-key": "Idempotency-Key",
    b"content-type": "Content-Type",
}


class ApiRequest(Request):
    """A request whose JSON body is read by the API's strict parser (and only once)."""

    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = parse_json(await self.body())
        return self._json


class ApiRoute(APIRoute):
    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        if isinstance(kwargs.get("generate_unique_id_function"), DefaultPlaceholder | None):
            kwargs["generate_unique_id_function"] = operation_id
        super().__init__(path, endpoint, **kwargs)
        if self.methods is not None and "GET" in self.methods:
            self.methods.add("HEAD")

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        needs_user = _depends_on(self.dependant, current_user)

        async def handle(request: Request) -> Response:
            if needs_user:
                _refuse_repeated_headers(request.scope["headers"])
                # On PostgreSQL the lookup is one statement on the event loop (db/pgreads.py;
                # tokens are never cached there); on SQLite a cached token needs no I/O
                # (db/readcache.py); anything else is a sync database lookup, in the pool.
                if (
                    await authenticate_request_async(request) is None
                    and authenticate_cached(request) is None
                ):
                    await run_in_threadpool(authenticate_request, request)
            return await handler(ApiRequest(request.scope, request.receive))

        return handle


def operation_id(route: APIRoute) -> str:
    """FastAPI's default operation id (``list_stores_api_v1_stores_get``), blind to the HEAD
    that ``ApiRoute`` adds: the dashboard's generated client is keyed by these ids."""
    methods = sorted(route.methods - {"HEAD"} if route.methods else ())
    name = re.sub(r"\W", "_", f"{route.name}{route.path_format}")
    return f"{name}_{methods[0].lower()}" if methods else name


def _refuse_repeated_headers(headers: Sequence[tuple[bytes, bytes]]) -> None:
    seen: set[bytes] = set()
    for name, _value in headers:
        if name in SINGLE_HEADERS:
            if name in seen:
                raise DuplicateHeaderError(SINGLE_HEADERS[name])
            seen.add(name)


def _depends_on(dependant: Dependant, call: Callable[..., Any]) -> bool:
    return any(d.call is call or _depends_on(d, call) for d in dependant.dependencies)
