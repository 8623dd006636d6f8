"""The API reference pages, ``/docs`` (Swagger UI) and ``/redoc`` (ReDoc), served offline.

FastAPI's own pages load Swagger UI, ReDoc, a favicon and Google fonts from CDNs, so on a
machine without internet they stay blank. These pages are FastAPI's same HTML pointed at the
copies of those assets that the ``fastapi-offline`` package ships (Swagger UI's bundle and CSS,
ReDoc's standalone bundle, a favicon), served from ``/docs/assets``; ReDoc without its web fonts
and Swagger UI without the online validator badge. Nothing on either page leaves this server.

Called by :func:`storeplane.api.app.create_app`, which turns FastAPI's CDN pages off.
"""

from __future__ import annotations

from pathlib import Path

import fastapi_offline
from fastapi import FastAPI, Request
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS_DIR = Path(fastapi_offline.__file__).parent / "static"
ASSETS_URL = "/docs/assets"
DOCS_URL = "/docs"
REDOC_URL = "/redoc"
OAUTH2_REDIRECT_URL = "/docs/oauth2-redirect"
# The browser itself keeps the pages on this server: ReDoc's sidebar shows a logo from a CDN
# (its onError hides it when offline); with this policy the request is never made. The pages'
# inline start-up scripts and styles are FastAPI's; ReDoc runs its search in a blob: worker.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; worker-src 'self' blob:; connect-src 'self'"
)


def install_docs(app: FastAPI) -> None:
    """Add ``/docs``, ``/redoc`` and their assets to ``app`` (made with ``docs_url=None,
    redoc_url=None``). The pages read the schema from ``app.openapi_url``."""
    app.mount(ASSETS_URL, StaticFiles(directory=ASSETS_DIR), name="docs-assets")

    def assets(request: Request) -> str:
        return f"{request.scope.get('root_path', '')}{ASSETS_URL}"

    @app.get(DOCS_URL, include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        base = assets(request)
        return _local_only(
            get_swagger_ui_html(
                openapi_url=f"{request.scope.get('root_path', '')}{app.openapi_url}",
                title=f"{app.title} - API reference",
                oauth2_redirect_url=OAUTH2_REDIRECT_URL,
                swagger_js_url=f"{base}/swagger-ui-bundle.js",
                swagger_css_url=f"{base}/swagger-ui.css",
                swagger_favicon_url=f"{base}/favicon.png",
                # The validator badge would fetch an image from swagger.io.
                swagger_ui_parameters={"validatorUrl": None},
            )
        )

    @app.get(OAUTH2_REDIRECT_URL, include_in_schema=False)
    async def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @app.get(REDOC_URL, include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        base = assets(request)
        return _local_only(
            get_redoc_html(
                openapi_url=f"{request.scope.get('root_path', '')}{app.openapi_url}",
                title=f"{app.title} - API reference",
                redoc_js_url=f"{base}/redoc.standalone.js",
                redoc_favicon_url=f"{base}/favicon.png",
                with_google_fonts=False,
            )
        )


def _local_only(page: HTMLResponse) -> HTMLResponse:
    page.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    return page
