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
StoreNotFoundError             404     also for a store the caller may not see
CheckNotFoundError             404     a check id the store does not have
PodNotFoundError               404     names the store's real pods / containers
FeatureUnavailableError        503     this server cannot do it (no cluster for logs)
ReconcileError (from a port)   503     the cluster did not answer (logs)
NameTakenError                 409     ``field`` is ``name``
RequestValidationError         422     every field and problem in words
malformed JSON body            400
HTTPException (404, 405, 413)  same    unknown routes and methods, oversized bodies
anything else                  500     logged with its traceback
=============================  ======  ==========================================
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
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from storeplane.domain.errors import (
    AuthenticationError,
    CheckNotFoundError,
    FeatureUnavailableError,
    InvalidRequestError,
    InvalidTransitionError,
    NameTakenError,
    PodNotFoundError,
    RateLimitedError,
    ReconcileError,
    StoreLimitError,
    StoreNotFoundError,
)

PROBLEM_MEDIA_TYPE = "application/problem+json"
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
    errors = [ProblemField(field=exc.field, message=exc.message)] if exc.field else []
    return problem_response(status, exc.message, errors=errors)


def _not_found(_request: Request, exc: Exception) -> JSONResponse:
    return problem_response(404, str(exc))


def _unavailable(_request: Request, exc: Exception) -> JSONResponse:
    detail = exc.message if isinstance(exc, ReconcileError) else str(exc)
    return problem_response(503, detail)


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


def http_exception_handler(request: Request, exc: Exception) -> JSONResponse:
    """Problem form of Starlette's HTTP errors (unknown route, wrong method, too large)."""
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
    if exc.status_code == 404 and detail == HTTPStatus.NOT_FOUND.phrase:
        detail = f"no such resource: {request.method} {request.url.path}; the API lives under /api/v1 (see /docs)"
    elif exc.status_code == 405 and detail == HTTPStatus.METHOD_NOT_ALLOWED.phrase:
        allowed = ", ".join(_allowed_methods(request))
        detail = f"{request.method} is not allowed on {request.url.path}" + (
            f"; allowed: {allowed}" if allowed else ""
        )
    return problem_response(exc.status_code, detail, headers=exc.headers)


def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    raw = list(exc.errors())
    if any(e.get("type") == "json_invalid" for e in raw):
        first = next(e for e in raw if e.get("type") == "json_invalid")
        reason = (first.get("ctx") or {}).get("error", "malformed")
        position = first["loc"][-1] if len(first.get("loc", ())) > 1 else "?"
        message = f"the body is not valid JSON ({reason} at character {position})"
        return problem_response(
            400, f"body: {message}", errors=[ProblemField(field="body", message=message)]
        )
    fields = [describe_validation_error(e) for e in raw]
    detail = "; ".join(_sentence(f) for f in fields) or "the request is invalid"
    return problem_response(422, detail, errors=fields)


def _sentence(problem: ProblemField) -> str:
    """``field: message``, unless the message already starts with the field's name."""
    if problem.message.startswith(f"{problem.field} "):
        return problem.message
    return f"{problem.field}: {problem.message}"


def _allowed_methods(request: Request) -> list[str]:
    """The methods some route accepts on this path (``create_app`` records them)."""
    allowed: set[str] = set()
    for pattern, methods in getattr(request.app.state, "route_methods", ()):
        if pattern.match(request.url.path):
            allowed.update(methods)
    return sorted(allowed - {"HEAD"})


def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
    log.error("unhandled error", exc_info=exc)
    return problem_response(
        500, "internal error; the server log has the details (nothing was changed by this reply)"
    )


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
    app.add_exception_handler(PodNotFoundError, _not_found)
    app.add_exception_handler(FeatureUnavailableError, _unavailable)
    app.add_exception_handler(ReconcileError, _unavailable)
    app.add_exception_handler(NameTakenError, _name_taken)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, http_exception_handler)
    app.add_exception_handler(Exception, _unexpected)
