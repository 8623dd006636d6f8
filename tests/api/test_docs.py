"""``/docs`` and ``/redoc`` name no other host: every script, stylesheet and icon they load is
served by storeplane itself, under a policy that keeps the browser here. (The browser check that
the pages render offline is in dashboard/e2e/docs.mjs.)"""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from storeplane.api.app import create_app
from storeplane.settings import Settings
from tests.api.test_app import BrokenDatabase

ASSET = re.compile(r"""(?:src|href|url)\s*[=:]\s*['"]([^'"]+)['"]""")


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(create_app(Settings(), BrokenDatabase()))


@pytest.mark.parametrize(
    ("page", "assets"),
    [
        ("/docs", {"swagger-ui-bundle.js", "swagger-ui.css", "favicon.png"}),
        ("/redoc", {"redoc.standalone.js", "favicon.png"}),
    ],
    ids=["Swagger UI loads its bundle from here", "ReDoc loads its bundle from here"],
)
def test_the_page_loads_only_assets_of_this_server(
    client: TestClient, page: str, assets: set[str]
) -> None:
    response = client.get(page)
    assert response.status_code == 200
    assert "Content-Security-Policy" in response.headers
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    referenced = ASSET.findall(response.text)
    assert referenced, "no asset found in the page"
    offsite = [url for url in referenced if "://" in url or url.startswith("//")]
    assert offsite == []
    assert {url.rsplit("/", 1)[-1] for url in referenced if "/assets/" in url} == assets
    assert "fonts.googleapis.com" not in response.text
    for url in referenced:
        if url.startswith("/docs/assets/"):
            asset = client.get(url)
            assert asset.status_code == 200, url
            assert len(asset.content) > 1000, url


def test_the_swagger_ui_oauth2_redirect_page_is_served(client: TestClient) -> None:
    assert client.get("/docs/oauth2-redirect").status_code == 200
