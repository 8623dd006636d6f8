"""The one place that turns errors into HTTP problem responses (RFC 9457).

Every error leaves the API as ``application/problem+json``::

    {"type": "about:blank", "title": "...", "status": 422, "detail": "...",
     "errors": [{"field": "engine", "message": "..."}]}

``detail`` is a sentence a person can act on; ``errors`` lists each offending field for
programs (the dashboard puts each message under its form field). The mapping:

=============================  ======  ==========================================
domain error                   status  notes
=============================  ======  ==========================================
AuthenticationError            401     with ``WWW-Authenticate: Bearer``
StoreLimitError                403     the owner has as many live stores as allowed
RateLimitedError               429     with ``Retry-After`` (whole seconds)
InvalidTransitionError         409     valid request, wrong moment
InvalidRequestError            422     ``field`` from the error (incl. a reused Idempotency-Key)
ChoiceRequiredError            400     a required choice left out (which pod), naming the options
StoreNotFoundError             404     also for a store the caller may not see
CheckNotFoundError             404     a check id the store does not have
RolloutNotFoundError           404     no such rollout
BackupNotFoundError            404     a backup id the store does not have
PodNotFoundError               404     names the store's real pods / containers
UserNotFoundError, TokenNotFoundError  404  accounts (admins only)
AdminOnlyError                 404     a member on the accounts API: the unknown-path answer
UserExistsError                409     ``field`` is ``name``
FeatureUnavailableError        503     this server cannot do it (no cluster for logs)
DatabaseUnavailableError       503     with ``Retry-After``; the database is down (also a
                                       driver's connection error or the pool's timeout)
ReconcileError (from a port)   503     the cluster did not answer (logs)
NameTakenError                 409     ``field`` is ``name``
DomainTakenError               409     ``field`` is ``domains``
RequestValidationError         422     every field and problem in words
BodyError                      400     not UTF-8, not JSON, too deep, a number too long
BodyError (duplicate key)      422     ``field`` is the key's path
DuplicateHeaderError           400     ``field`` is the header's name
HTTPException (404, 405, 413)  same    unknown routes and methods (405 with ``Allow``),
                                       oversized bodies
anything else                  500     logged once, with its traceback
=============================  ======  ==========================================

No error drops the connection: :class:`CatchAllMiddleware` answers what the handlers above
do not (Starlette's own last-resort handler re-raises after answering, and uvicorn then closes
the connection without ``Connection: close``), so a keep-alive client gets its answer and can
send its next request on the same connection.
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import iter_route_contexts
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from storeplane.api.body import BodyError
from storeplane.db.outage import as_outage
from storeplane.domain.errors import (
    AdminOnlyError,
    AuthenticationError,
    BackupNotFoundError,
    CheckNotFoundError,
    ChoiceRequiredError,
    DatabaseUnavailableError,
    DomainTakenError,
    FeatureUnavailableError,
    InvalidRequestError,
    InvalidTransitionError,
    NameTakenError,
    PodNotFoundError,
    RateLimitedError,
    ReconcileError,
    RolloutNotFoundError,
    StoreLimitError,
    StoreNotFoundError,
    TokenNotFoundError,
    UserExistsError,
    UserNotFoundError,
)
from storeplane.observability.outages import DATABASE

PROBLEM_MEDIA_TYPE = "application/problem+json"
# What a client is told to wait during a database outage: long enough not to hammer a
# recovering server, short enough that a blip costs little.
DATABASE_RETRY_AFTER = 5
log = logging.getLogger(__name__)


class ProblemField(BaseModel):
    field: str = Field(
        description="The offending input: a body field, a query parameter or `body`."
    )
    message: str = Field(description="What is wrong with it and what is allowed.")


class Problem(BaseModel):
    """An RFC 9457 problem document."""

    type: str = Field(default="about:blank", description="Always `about:blank`: see `title`.")
    title: str = Field(description="The HTTP status phrase, e.g. `Conflict`.")
    status: int = Field(description="The HTTP status code, repeated for convenience.")
    detail: str = Field(description="What went wrong, in words a person can act on.")
    errors: list[ProblemField] = Field(
        default_factory=list, description="One entry per offending field, when there are any."
    )


def problem_response(
    status: int,
    detail: str,
    *,
    errors: Sequence[ProblemField] = (),
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    problem = Problem(
        title=HTTPStatus(status).phrase, status=status, detail=detail, errors=list(errors)
    )
    return JSONResponse(
        problem.model_dump(), status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers
    )


def _invalid_request(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, InvalidRequestError)
    status = 409 if isinstance(exc, InvalidTransitionError) else 422
    if isinstance(exc, ChoiceRequiredError):
        status = 400
    errors = [ProblemField(field=exc.field, message=exc.message)] if exc.field else []
    return problem_response(status, exc.message, errors=errors)


def _not_found(_request: Request, exc: Exception) -> JSONResponse:
    return problem_response(404, str(exc))


def _admin_only(request: Request, _exc: Exception) -> JSONResponse:
    # Word for word what an unknown path answers: a member learns nothing from it.
    return problem_response(404, _no_such_resource(request))


def _user_exists(_request: Request, exc: Exception) -> JSONResponse:
    return problem_response(409, str(exc), errors=[ProblemField(field="name", message=str(exc))])


def _unavailable(_request: Request, exc: Exception) -> JSONResponse:
    detail = exc.message if isinstance(exc, ReconcileError) else str(exc)
    return problem_response(503, detail)


def _domain_taken(_request: Request, exc: Exception) -> JSONResponse:
    return problem_response(409, str(exc), errors=[ProblemField(field="domains", message=str(exc))])


def _name_taken(_request: Request, exc: Exception) -> JSONResponse:
    return problem_response(409, str(exc), errors=[ProblemField(field="name", message=str(exc))])


def _unauthenticated(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AuthenticationError)
    challenge = 'Bearer realm="storeplane"'
    if exc.reason == "invalid":
        challenge += ', error="invalid_token"'
    return problem_response(401, exc.message, headers={"WWW-Authenticate": challenge})


def _rate_limited(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RateLimitedError)
    seconds = max(1, math.ceil(exc.retry_after))
    return problem_response(429, str(exc), headers={"Retry-After": str(seconds)})


def _store_limit(_request: Request, exc: Exception) -> JSONResponse:
    return problem_response(403, str(exc))


def _no_such_resource(request: Request) -> str:
    return (
        f"no such resource: {request.method} {request.url.path}; the API lives under /api/v1 "
        "(see /docs)"
    )


def http_exception_handler(request: Request, exc: Exception) -> JSONResponse:
    """Problem form of Starlette's HTTP errors (unknown route, wrong method, too large)."""
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
    if exc.status_code == 404 and detail == HTTPStatus.NOT_FOUND.phrase:
        detail = _no_such_resource(request)
    headers = exc.headers
    if exc.status_code == 405:
        # Starlette's Allow names only the first route that matched the path; a path can be
        # served by several (GET and POST /stores are two routes).
        # (A mount such as the dashboard's /assets has no route methods: keep what it said.)
        allowed = ", ".join(_allowed_methods(request)) or (exc.headers or {}).get("Allow", "")
        headers = {**(exc.headers or {}), "Allow": allowed}
        if detail == HTTPStatus.METHOD_NOT_ALLOWED.phrase:
            detail = f"{request.method} is not allowed on {request.url.path}" + (
                f"; allowed: {allowed}" if allowed else ""
            )
    return problem_response(exc.status_code, detail, headers=headers)


def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    fields = [describe_validation_error(e) for e in exc.errors()]
    detail = "; ".join(_sentence(f) for f in fields) or "the request is invalid"
    return problem_response(422, detail, errors=fields)


def _sentence(problem: ProblemField) -> str:
    """``field: message``, unless the message already starts with the field's name."""
    if problem.message.startswith(f"{problem.field} "):
        return problem.message
    return f"{problem.field}: {problem.message}"


def _allowed_methods(request: Request) -> list[str]:
    """Every method some route of the app serves on this path (HEAD wherever GET is)."""
    allowed: set[str] = set()
    for route in iter_route_contexts(request.app.routes):
        methods = route.methods
        regex = getattr(route, "path_regex", None)
        if methods and regex is not None and regex.match(request.url.path):
            allowed.update(methods)
    return sorted(allowed)


class DuplicateHeaderError(Exception):
    """A header that must appear once appeared more than once (raised by ``ApiRoute``)."""

    def __init__(self, header: str) -> None:
        super().__init__(
            f"the {header} header appears more than once; send it once (which copy was "
            "meant cannot be told)"
        )
        self.header = header


def _duplicate_header(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DuplicateHeaderError)
    return problem_response(
        400, str(exc), errors=[ProblemField(field=exc.header, message=str(exc))]
    )


def _body_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, BodyError)
    return problem_response(
        exc.status_code,
        exc.message,
        errors=[ProblemField(field=exc.field, message=exc.message)],
    )


def database_unavailable(exc: DatabaseUnavailableError) -> JSONResponse:
    """503 naming the database, with ``Retry-After``; the outage is logged once per change of
    state (``observability/outages.py``), not per request. The cause (a host and port, the
    driver's words) goes to the log, not to the client."""
    DATABASE.failed(exc.cause)
    return problem_response(
        503,
        "the database is unavailable: storeplane cannot reach it right now, so this request "
        f"was not served; retry in {DATABASE_RETRY_AFTER} s (a create retried with the same "
        "Idempotency-Key never makes a second store)",
        headers={"Retry-After": str(DATABASE_RETRY_AFTER)},
    )


def _database_unavailable(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DatabaseUnavailableError)
    return database_unavailable(exc)


def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    return unexpected_response(request.method, request.url.path, exc)


def unexpected_response(method: str, path: str, exc: BaseException) -> JSONResponse:
    """503 for an outage that reached here untranslated; otherwise a bug: 500, logged once
    with its traceback."""
    outage = as_outage(exc)
    if outage is not None:
        return database_unavailable(outage)
    log.error("unhandled error in %s %s", method, path, exc_info=exc)
    return problem_response(
        500, "internal error; the server log has the details (nothing was changed by this reply)"
    )


class CatchAllMiddleware:
    """Answer any exception the routes and handlers let through, if nothing was sent yet (see
    the module doc); after the response started there is nothing to do but let the server end
    the connection."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            if started:
                raise
            response = unexpected_response(scope["method"], scope.get("path", ""), exc)
            await response(scope, receive, send)


_TYPE_MESSAGES = {
    "missing": "is required",
    "string_type": "expected a string",
    "int_type": "expected an integer",
    "int_parsing": "expected an integer",
    "bool_type": "expected true or false",
    "bool_parsing": "expected true or false",
    "model_attributes_type": "expected a JSON object (send Content-Type: application/json)",
    "dict_type": "expected a JSON object (send Content-Type: application/json)",
}


def describe_validation_error(error: Any) -> ProblemField:
    """One pydantic/FastAPI validation error as a field and a sentence."""
    loc = [str(part) for part in error.get("loc", ())]
    if loc and loc[0] in ("body", "query", "path", "header", "cookie"):
        loc = loc[1:]
    kind = error.get("type", "")
    ctx = error.get("ctx") or {}
    got = _show(error.get("input"))
    if kind == "extra_forbidden":
        parent = ".".join(loc[:-1]) or "body"
        return ProblemField(field=parent, message=f'unknown field "{loc[-1] if loc else "?"}"')
    field = ".".join(loc) or "body"
    if kind == "enum":
        allowed = re.findall(r"'([^']*)'", str(ctx.get("expected", "")))
        message = f"must be one of {', '.join(allowed)} (got {got})"
    elif kind in _TYPE_MESSAGES:
        message = _TYPE_MESSAGES[kind]
        if kind != "missing" and not message.startswith("expected a JSON object"):
            message += f" (got {got})"
    elif kind.startswith("store_"):  # our own PydanticCustomError: the domain's message
        message = str(error.get("msg", ""))
    else:
        text = str(error.get("msg", "is invalid"))
        text = re.sub(r"^Input should be", "must be", text)
        text = re.sub(r"^Value error, ", "", text)
        message = f"{text} (got {got})"
    return ProblemField(field=field, message=message)


def _show(value: Any) -> str:
    try:
        shown = json.dumps(value)
    except (TypeError, ValueError):
        shown = repr(value)
    return shown if len(shown) <= 80 else shown[:77] + "..."


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(AuthenticationError, _unauthenticated)
    app.add_exception_handler(RateLimitedError, _rate_limited)
    app.add_exception_handler(StoreLimitError, _store_limit)
    app.add_exception_handler(InvalidRequestError, _invalid_request)
    app.add_exception_handler(StoreNotFoundError, _not_found)
    app.add_exception_handler(CheckNotFoundError, _not_found)
    app.add_exception_handler(RolloutNotFoundError, _not_found)
    app.add_exception_handler(BackupNotFoundError, _not_found)
    app.add_exception_handler(PodNotFoundError, _not_found)
    app.add_exception_handler(UserNotFoundError, _not_found)
    app.add_exception_handler(TokenNotFoundError, _not_found)
    app.add_exception_handler(AdminOnlyError, _admin_only)
    app.add_exception_handler(UserExistsError, _user_exists)
    app.add_exception_handler(FeatureUnavailableError, _unavailable)
    app.add_exception_handler(DatabaseUnavailableError, _database_unavailable)
    app.add_exception_handler(ReconcileError, _unavailable)
    app.add_exception_handler(NameTakenError, _name_taken)
    app.add_exception_handler(DomainTakenError, _domain_taken)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(BodyError, _body_error)
    app.add_exception_handler(DuplicateHeaderError, _duplicate_header)
    app.add_exception_handler(StarletteHTTPException, http_exception_handler)
    app.add_exception_handler(Exception, _unexpected)
