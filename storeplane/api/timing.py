"""ASGI middleware that times every API request by its route template (not the raw path, so
``/api/v1/stores/{store_id}`` is one series however many stores there are)."""

from __future__ import annotations

import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from storeplane.observability.metrics import API_LATENCY


class RequestTimingMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_and_capture(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_and_capture)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            API_LATENCY.labels(scope["method"], template, str(status)).observe(
                time.perf_counter() - started
            )
