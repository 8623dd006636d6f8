"""Translate lightkube/httpx errors into the domain error tree, at the boundary.

404 -> :class:`NotFound` (internal: callers turn it into "absent"), 409 -> retryable conflict,
422/400 -> terminal (the object itself is wrong), 403 -> retryable (quota, a terminating
namespace), 429 and 5xx -> retryable honouring ``Retry-After``, transport errors -> retryable.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import httpx2
from lightkube import ApiError

from storeplane.domain.errors import RetryableError, TerminalError


class NotFound(Exception):
    """The object does not exist (HTTP 404). Never escapes this package."""


class AlreadyExists(Exception):
    """A create met an existing object (HTTP 409 AlreadyExists). Never escapes this package."""


def _retry_after(exc: ApiError) -> float | None:
    header = exc.response.headers.get("Retry-After") if exc.response is not None else None
    try:
        return float(header) if header else None
    except ValueError:
        return None


@contextmanager
def map_api_errors(action: str) -> Iterator[None]:
    """Run a cluster call; re-raise its failure as a domain error whose message says what failed."""
    try:
        yield
    except ApiError as exc:
        code = exc.status.code or (exc.response.status_code if exc.response is not None else 0)
        reason = exc.status.reason or "Unknown"
        message = f"{action}: {exc.status.message or exc} (HTTP {code} {reason})"
        if code == 404:
            raise NotFound(message) from exc
        if code in (400, 422):
            raise TerminalError(message, reason="InvalidObject") from exc
        if code == 403:
            raise RetryableError(
                message, reason="Forbidden", retry_after=_retry_after(exc)
            ) from exc
        if code == 409 and reason == "AlreadyExists":
            raise AlreadyExists(message) from exc
        if code == 409:
            raise RetryableError(message, reason="Conflict") from exc
        if code == 429:
            raise RetryableError(
                message, reason="TooManyRequests", retry_after=_retry_after(exc)
            ) from exc
        raise RetryableError(message, reason="ClusterError", retry_after=_retry_after(exc)) from exc
    except httpx2.TransportError as exc:
        raise RetryableError(
            f"{action}: cannot reach the Kubernetes API ({type(exc).__name__}: {exc})",
            reason="ClusterUnavailable",
        ) from exc
