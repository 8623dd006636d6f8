"""Serve the built dashboard (a single-page app) from the API process.

``/assets/*`` are the bundle's static files; any other GET that no API route answers returns
``index.html`` (or a file at the top of the build, such as ``favicon.svg``), so client-side
routes like ``/stores/store-abc`` survive a reload. API, docs and health paths keep their
problem 404s.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, Response
from fastapi.staticfiles import StaticFiles

from storeplane.api.errors import http_exception_handler

# Paths the dashboard must never shadow: an unknown one is a real 404.
RESERVED_PREFIXES = (
    "/api",
    "/assets",
    "/docs",
    "/redoc",
    "/openapi.json",
    "/healthz",
    "/readyz",
)


def has_dashboard(dashboard_dir: Path | None) -> bool:
    return dashboard_dir is not None and (dashboard_dir / "index.html").is_file()


def mount_dashboard(app: FastAPI, dashboard_dir: Path) -> None:
    """Serve ``dashboard_dir`` (a Vite build: index.html + assets/) at ``/``."""
    root = dashboard_dir.resolve()
    index = root / "index.html"
    app.mount("/assets", StaticFiles(directory=root / "assets", check_dir=False), name="assets")

    async def spa_fallback(request: Request, exc: Exception) -> Response:
        path = request.url.path
        reserved = any(path == p or path.startswith(p + "/") for p in RESERVED_PREFIXES)
        if request.method not in ("GET", "HEAD") or reserved:
            return http_exception_handler(request, exc)
        candidate = (root / path.lstrip("/")).resolve()
        if path != "/" and candidate.is_file() and candidate.is_relative_to(root):
            return FileResponse(candidate)
        # The app shell must not be cached: it names the current hashed bundle.
        return FileResponse(index, headers={"Cache-Control": "no-cache"})

    app.add_exception_handler(404, spa_fallback)
