"""Store hosts on the dev port: requests for ``<store-id>.localhost`` go to the simulator's
ingress listener, everything else to storeplane's own app (API, dashboard, docs).

Used by ``storeplane dev`` only (wired in :func:`storeplane.runtime.run`). It plays the part
of the ingress controller's front door: the simulator's listener routes by ``Host`` and path
to the Ingress backend, as an ingress controller does on a cluster. Browsers and curl resolve
``*.localhost`` to the loopback address without DNS (RFC 6761), so a store's URL is
``http://<store-id>.localhost:<dev port>`` on any laptop. Plain HTTP only: no WebSockets
(Medusa's production build needs none).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import httpx

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

STORE_HOST_SUFFIX = ".localhost"
# RFC 9110 7.6.1: meaningful for one connection only, never forwarded.
_HOP_BY_HOP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-authenticate",
        b"proxy-authorization",
        b"te",
        b"trailer",
        b"transfer-encoding",
        b"upgrade",
    }
)


def is_store_host(host: str) -> bool:
    """``store-abc.localhost:8080`` is a store host; ``localhost``, ``127.0.0.1`` are not."""
    name = host.rsplit(":", 1)[0] if not host.startswith("[") else host
    name = name.lower().rstrip(".")
    return name.endswith(STORE_HOST_SUFFIX) and len(name) > len(STORE_HOST_SUFFIX)


class StoreHostForwarder:
    """ASGI wrapper: store hosts are forwarded to ``upstream``, the rest served by ``app``."""

    def __init__(self, app: ASGIApp, upstream: str) -> None:
        self.app = app
        self.upstream = upstream.rstrip("/")
        self._client: httpx.AsyncClient | None = None

    def _http(self) -> httpx.AsyncClient:
        # Created lazily inside the server's event loop; long reads for slow store pages.
        if self._client is None:
            self._client = httpx.AsyncClient(
                timeout=httpx.Timeout(connect=5.0, read=300.0, write=60.0, pool=10.0),
                follow_redirects=False,
            )
        return self._client

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(scope, receive, send)
            return
        if scope["type"] != "http" or not is_store_host(_header(scope, b"host")):
            await self.app(scope, receive, send)
            return
        await self._forward(scope, receive, send)

    async def _lifespan(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def on_send(message: Message) -> None:
            if message["type"] == "lifespan.shutdown.complete" and self._client is not None:
                await self._client.aclose()
                self._client = None
            await send(message)

        await self.app(scope, receive, on_send)

    async def _forward(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = [(k, v) for k, v in scope["headers"] if k.lower() not in _HOP_BY_HOP]
        client = scope.get("client")
        if client:
            headers.append((b"x-forwarded-for", client[0].encode()))
        headers.append((b"x-forwarded-proto", scope.get("scheme", "http").encode()))
        path = scope.get("raw_path") or scope["path"].encode()
        query = scope.get("query_string") or b""
        url = self.upstream + path.decode("latin-1") + ("?" + query.decode() if query else "")

        async def body() -> Any:
            while True:
                message = await receive()
                chunk = message.get("body", b"")
                if chunk:
                    yield chunk
                if not message.get("more_body", False):
                    return

        request = self._http().build_request(scope["method"], url, headers=headers, content=body())
        try:
            response = await self._http().send(request, stream=True)
        except httpx.HTTPError as exc:
            await _plain(send, 502, f"storeplane dev: the store ingress did not answer ({exc})\n")
            return
        try:
            await send(
                {
                    "type": "http.response.start",
                    "status": response.status_code,
                    "headers": [
                        (k, v) for k, v in response.headers.raw if k.lower() not in _HOP_BY_HOP
                    ],
                }
            )
            async for chunk in response.aiter_raw():
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        finally:
            await response.aclose()


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return str(value.decode("latin-1"))
    return ""


async def _plain(send: Send, status: int, text: str) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"text/plain; charset=utf-8")],
        }
    )
    await send({"type": "http.response.body", "body": text.encode()})
