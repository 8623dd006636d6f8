"""Abuse limits of the API: a request body size limit (a small ASGI middleware installed by
``create_app``) and request rate limits (:class:`RateLimiter`): one bucket per user, and one
per client address for requests without a valid token (both applied by
:func:`storeplane.api.deps.authenticate_request`).

The body limit is enforced before anything parses the body: a declared ``Content-Length`` over
the limit is refused at once, and a body without one (chunked) is counted as it arrives and
refused as soon as it passes the limit. Either way the reply is a 413 problem.
"""

from __future__ import annotations

from collections.abc import Callable
from ipaddress import ip_address, ip_network
from threading import Lock
from time import monotonic

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from storeplane.api.errors import problem_response


class BodyTooLargeError(HTTPException):
    """Raised from ``receive``; an HTTPException so FastAPI passes it through unwrapped."""

    def __init__(self, limit: int) -> None:
        super().__init__(
            413,
            f"the request body is larger than the limit of {limit} bytes; send less "
            "(the limit is the server setting STOREPLANE_MAX_REQUEST_BYTES)",
        )


class BodySizeLimitMiddleware:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_bytes:
            error = BodyTooLargeError(self.max_bytes)
            await problem_response(413, str(error.detail))(scope, receive, send)
            return

        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLargeError(self.max_bytes)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except BodyTooLargeError as error:
            if started:
                raise
            await problem_response(413, str(error.detail))(scope, receive, send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


class RateLimiter:
    """A token bucket per key (a user id, or a client address for callers without a valid
    token): ``burst`` requests at once, then ``per_second``.

    In memory, per process: with several replicas a caller gets each replica's share, which
    still bounds what one token can cost. Thread-safe (sync routes run in a thread pool).
    ``per_second`` of 0 turns the limit off. At most ``max_keys`` buckets are kept (client
    addresses are not bounded the way users are); past that the least recently seen bucket
    is forgotten, which only ever forgives an idle caller.
    """

    def __init__(
        self,
        per_second: float,
        burst: int,
        clock: Callable[[], float] = monotonic,
        *,
        max_keys: int = 100_000,
    ):
        self.per_second = per_second
        self.burst = burst
        self.clock = clock
        self.max_keys = max_keys
        # key -> (tokens, last refill), least recently seen first.
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = Lock()

    def acquire(self, key: str) -> float:
        """Take one request from ``key``'s bucket: 0 if allowed, else seconds to wait."""
        if self.per_second <= 0:
            return 0.0
        now = self.clock()
        with self._lock:
            tokens, last = self._buckets.pop(key, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - last) * self.per_second)
            wait = 0.0
            if tokens >= 1:
                tokens -= 1
            else:
                wait = (1 - tokens) / self.per_second
            self._buckets[key] = (tokens, now)
            while len(self._buckets) > self.max_keys:
                del self._buckets[next(iter(self._buckets))]
            return wait


def client_address_key(host: str | None) -> str:
    """The rate-limit key of a client address: the address itself for IPv4, its /64 network
    for IPv6 (one host usually holds a whole /64, so per-address buckets would not bound it).
    Behind a reverse proxy every caller has the proxy's address unless the server is told to
    trust forwarded headers (uvicorn's ``--forwarded-allow-ips``)."""
    if not host:
        return "unknown"
    try:
        address = ip_address(host)
    except ValueError:
        return host
    if address.version == 6:
        return str(ip_network(f"{address}/64", strict=False))
    return str(address)
