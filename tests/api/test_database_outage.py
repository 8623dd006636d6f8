"""A database that does not answer is an outage, not a bug: every route that needs it answers
503 with ``Retry-After`` and the problem shape, naming the database; a bug stays a 500.

The database here is a real driver against a port nobody listens on (connection refused), as
during an outage. The keep-alive behaviour over a real connection is checked in
tests/scenarios/test_outages.py."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient

from storeplane.api.app import create_app
from storeplane.db import SqlStoreRepository, create_engine_for
from storeplane.settings import Settings

PROBLEM = "application/problem+json"
# Routes that never need the database (/metrics leaves its database gauges out instead).
NO_DATABASE = {"/healthz", "/metrics", "/openapi.json", "/docs", "/redoc", "/docs/oauth2-redirect"}


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    engine = create_engine_for("postgresql+psycopg://storeplane@127.0.0.1:9/storeplane")
    app = create_app(Settings(), SqlStoreRepository(engine))
    with TestClient(app, headers={"Authorization": "Bearer sp_" + "x" * 40}) as test_client:
        yield test_client
    engine.dispose()


def _routes() -> list[tuple[str, str]]:
    engine = create_engine_for("sqlite://")
    app = create_app(Settings(), SqlStoreRepository(engine))
    found = []
    for route in iter_route_contexts(app.routes):
        if not route.methods or route.path in NO_DATABASE:
            continue
        path = re.sub(r"\{[^}]+\}", "store-abcd1234", route.path)
        for method in sorted((route.methods or set()) - {"HEAD"}):
            found.append((method, path))
    return found


@pytest.mark.parametrize(("method", "path"), _routes(), ids=lambda v: v)
def test_every_route_answers_503_naming_the_database_with_retry_after(
    client: TestClient, method: str, path: str
) -> None:
    response = client.request(method, path, json={} if method in ("POST", "PATCH", "PUT") else None)
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == PROBLEM
    assert response.headers["retry-after"] == "5"
    body = response.json()
    assert body["status"] == 503
    assert body["title"] == "Service Unavailable"
    assert body["detail"].startswith("the database is unavailable")
    assert "127.0.0.1" not in body["detail"]  # the cause is for the log, not the client


def test_a_bug_is_still_a_500_and_logged_once_with_its_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    class Buggy(SqlStoreRepository):
        def list_page(self, **_kwargs: object) -> object:
            raise KeyError("a bug")

    engine = create_engine_for("sqlite://")
    app = create_app(Settings(), Buggy(engine))

    @app.get("/boom")
    def boom() -> None:
        raise KeyError("a bug")

    with TestClient(app, raise_server_exceptions=False) as test_client:
        response = test_client.get("/boom")
    assert response.status_code == 500
    assert response.headers["content-type"] == PROBLEM
    errors = [r for r in caplog.records if r.levelname == "ERROR"]
    assert len(errors) == 1 and errors[0].exc_info is not None
