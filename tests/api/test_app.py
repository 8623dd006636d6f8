"""The app around the routes: health, catalogue, problems for unknown routes, OpenAPI, the
dashboard, and the wake-up hook."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient

from storeplane.api.app import create_app
from storeplane.api.routing import ApiRoute
from storeplane.db import SqlStoreRepository
from storeplane.settings import Settings
from tests.api.conftest import Api

PROBLEM = "application/problem+json"


class BrokenDatabase(SqlStoreRepository):
    def __init__(self) -> None:
        pass

    def ping(self) -> None:
        raise ConnectionError("connection refused")


def test_health_and_readiness_answer_ok(api: Api) -> None:
    assert api.client.get("/healthz").json() == {"status": "ok"}
    ready = api.client.get("/readyz")
    assert ready.status_code == 200
    # (The status may say "degraded" if an earlier test in this process left the cluster
    # unreachable: reachability is process-wide.)
    assert ready.json()["components"]["database"]["status"] == "ok"


def test_readiness_is_a_503_problem_without_a_database() -> None:
    client = TestClient(create_app(Settings(), BrokenDatabase()))
    assert client.get("/healthz").status_code == 200
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.headers["content-type"] == PROBLEM
    assert "database is unavailable" in response.json()["detail"]
    assert response.headers["retry-after"] == "5"


@pytest.mark.parametrize(
    ("method", "path", "status", "detail"),
    [
        ("GET", "/api/v1/nothing", 404, "no such resource: GET /api/v1/nothing"),
        ("GET", "/", 404, "no such resource"),
        (
            "PUT",
            "/api/v1/stores",
            405,
            "PUT is not allowed on /api/v1/stores; allowed: GET, HEAD, POST",
        ),
    ],
    ids=["an unknown api route", "the root without a dashboard", "a wrong method"],
)
def test_unknown_routes_and_methods_are_problems(
    api: Api, method: str, path: str, status: int, detail: str
) -> None:
    response = api.client.request(method, path)
    assert response.status_code == status
    assert response.headers["content-type"] == PROBLEM
    assert detail in response.json()["detail"]


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("PUT", "/api/v1/stores", "GET, HEAD, POST"),
        ("DELETE", "/api/v1/stores", "GET, HEAD, POST"),
        ("PUT", "/api/v1/stores/store-abcd1234", "DELETE, GET, HEAD, PATCH"),
        ("POST", "/api/v1/stores/store-abcd1234", "DELETE, GET, HEAD, PATCH"),
        ("GET", "/api/v1/stores/store-abcd1234/retry", "POST"),
        ("PATCH", "/api/v1/stores/store-abcd1234/events", "GET, HEAD"),
        ("POST", "/api/v1/plans", "GET, HEAD"),
        ("POST", "/healthz", "GET, HEAD"),
        ("DELETE", "/docs", "GET, HEAD"),
        ("PUT", "/openapi.json", "GET, HEAD"),
    ],
    ids=lambda value: str(value),
)
def test_a_405_names_exactly_the_methods_the_path_serves_in_header_and_message(
    api: Api, method: str, path: str, allowed: str
) -> None:
    response = api.client.request(method, path)
    assert response.status_code == 405
    assert response.headers["allow"] == allowed
    assert response.json()["detail"] == f"{method} is not allowed on {path}; allowed: {allowed}"
    # ... and every method it names is really served (not a 405).
    for other in allowed.split(", "):
        assert api.client.request(other, path).status_code != 405, other


def test_head_answers_wherever_get_does_with_the_same_status_and_headers(api: Api) -> None:
    store = api.create("head-shop")
    paths = [
        path.replace("{store_id}", str(store["id"]))
        for route in iter_route_contexts(api.client.app.routes)
        if "GET" in (route.methods or ())
        and (path := str(route.path)) not in ("/docs/oauth2-redirect", "/api/v1/stream")
    ]
    assert "/api/v1/stores/{store_id}/events" not in paths and len(paths) >= 10
    for path in paths:
        get, head = api.client.get(path), api.client.head(path)
        assert (head.status_code, path) == (get.status_code, path)
        assert head.headers["content-type"] == get.headers["content-type"], path
        if "content-length" in get.headers and path != "/metrics":  # metrics move on
            assert head.headers["content-length"] == get.headers["content-length"], path
    anonymous = TestClient(api.client.app).head("/api/v1/stores")
    assert anonymous.status_code == 401
    # The event stream's GET stays open (tests/api/test_stream.py reads it from a real server).
    stream = api.client.head("/api/v1/stream")
    assert stream.status_code == 200
    assert stream.headers["content-type"].startswith("text/event-stream")


def test_every_api_route_is_an_api_route_so_it_authenticates_before_the_body(api: Api) -> None:
    routes = [
        route.original_route
        for route in iter_route_contexts(api.client.app.routes)
        if isinstance(route.original_route, APIRoute)
    ]
    assert len(routes) >= 9
    for route in routes:
        assert isinstance(route, ApiRoute), (
            f"{route.path}: give its APIRouter route_class=ApiRoute (storeplane/api/routing.py)"
        )


def test_plans_list_quota_and_container_defaults(api: Api) -> None:
    items = api.client.get("/api/v1/plans").json()["items"]
    assert [p["name"] for p in items] == ["small", "medium", "large"]
    small = items[0]
    assert small["quota"] == {
        "requests_cpu": "1",
        "requests_memory": "2Gi",
        "limits_cpu": "2",
        "limits_memory": "4Gi",
        "pods": 10,
        "persistentvolumeclaims": 4,
        "requests_storage": "10Gi",
    }
    assert small["default_requests"] == {"cpu": "100m", "memory": "128Mi"}
    assert small["default_limits"] == {"cpu": "500m", "memory": "512Mi"}
    assert small["description"]


def test_engines_have_display_names(api: Api) -> None:
    items = api.client.get("/api/v1/engines").json()["items"]
    assert [(e["name"], e["display_name"]) for e in items] == [
        ("medusa", "MedusaJS"),
        ("woocommerce", "WooCommerce"),
    ]


def test_a_failing_wake_up_hook_does_not_fail_the_write(migrated_url: str) -> None:
    def explode(_store_id: str) -> None:
        raise RuntimeError("reconciler gone")

    from storeplane.db import SqlUserRepository, create_engine_for
    from storeplane.services import auth

    engine = create_engine_for(migrated_url)
    token = auth.bootstrap_admin(SqlUserRepository(engine))
    engine.dispose()
    app = create_app(Settings(database_url=migrated_url), on_change=explode)
    with TestClient(app, headers={"Authorization": f"Bearer {token}"}) as client:
        response = client.post("/api/v1/stores", json={"name": "acme", "engine": "medusa"})
    assert response.status_code == 202


class TestOpenApi:
    @pytest.fixture(scope="class")
    @classmethod
    def document(cls) -> dict[str, Any]:
        # Exactly what the dashboard's client generator reads.
        result = subprocess.run(
            [sys.executable, "-m", "storeplane.api.openapi"],
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        )
        document: dict[str, Any] = json.loads(result.stdout)
        return document

    def test_it_lists_exactly_the_public_routes(self, document: dict[str, Any]) -> None:
        assert sorted(document["paths"]) == [
            "/api/v1/engines",
            "/api/v1/fleet",
            "/api/v1/plans",
            "/api/v1/rollouts",
            "/api/v1/rollouts/{rollout_id}",
            "/api/v1/rollouts/{rollout_id}/abort",
            "/api/v1/rollouts/{rollout_id}/pause",
            "/api/v1/rollouts/{rollout_id}/resume",
            "/api/v1/stores",
            "/api/v1/stores/{store_id}",
            "/api/v1/stores/{store_id}/backups",
            "/api/v1/stores/{store_id}/backups/{backup_id}",
            "/api/v1/stores/{store_id}/checks",
            "/api/v1/stores/{store_id}/checks/{check_id}",
            "/api/v1/stores/{store_id}/events",
            "/api/v1/stores/{store_id}/logs",
            "/api/v1/stores/{store_id}/objects",
            "/api/v1/stores/{store_id}/objects/{kind}/{name}",
            "/api/v1/stores/{store_id}/restore",
            "/api/v1/stores/{store_id}/resume",
            "/api/v1/stores/{store_id}/retry",
            "/api/v1/stores/{store_id}/suspend",
            "/api/v1/stream",
            "/api/v1/tokens",
            "/api/v1/tokens/{token_id}",
            "/api/v1/users",
            "/api/v1/users/{user_id}",
            "/healthz",
            "/metrics",
            "/readyz",
        ]

    def test_every_operation_is_documented_and_errors_are_problems(
        self, document: dict[str, Any]
    ) -> None:
        for path, operations in document["paths"].items():
            for method, operation in operations.items():
                where = f"{method.upper()} {path}"
                assert operation.get("summary"), where
                assert operation.get("description"), where
                for code, response in operation["responses"].items():
                    if int(code) >= 400:
                        assert list(response["content"]) == [PROBLEM], f"{where} {code}"
        assert "HTTPValidationError" not in document["components"]["schemas"]
        assert {"Problem", "ProblemField", "StorePublic", "StoreCreate"} <= set(
            document["components"]["schemas"]
        )


class TestDashboard:
    @pytest.fixture
    def client(self, tmp_path: Path) -> TestClient:
        (tmp_path / "assets").mkdir()
        (tmp_path / "index.html").write_text("<html>dashboard</html>")
        (tmp_path / "assets" / "app.js").write_text("console.log('hi')")
        (tmp_path / "favicon.svg").write_text("<svg/>")
        (tmp_path.parent / "secret.txt").write_text("no")
        app = create_app(Settings(), BrokenDatabase(), dashboard_dir=tmp_path)
        return TestClient(app)

    @pytest.mark.parametrize(
        ("path", "body"),
        [
            ("/", "<html>dashboard</html>"),
            ("/stores/store-abc12345", "<html>dashboard</html>"),
            ("/assets/app.js", "console.log('hi')"),
            ("/favicon.svg", "<svg/>"),
            ("/../secret.txt", "<html>dashboard</html>"),
        ],
        ids=[
            "the root serves the app",
            "a client-side route serves the app",
            "assets are served",
            "files at the top of the build are served",
            "nothing outside the build is served",
        ],
    )
    def test_it_serves_the_single_page_app(self, client: TestClient, path: str, body: str) -> None:
        response = client.get(path)
        assert response.status_code == 200
        assert response.text == body

    @pytest.mark.parametrize(
        "path",
        ["/api/v1/nothing", "/api", "/healthz/more", "/assets/missing.js"],
        ids=[
            "an unknown api route",
            "the api prefix",
            "below a health route",
            "a missing asset",
        ],
    )
    def test_it_never_shadows_api_404s(self, client: TestClient, path: str) -> None:
        response = client.get(path)
        assert response.status_code == 404

    def test_docs_and_the_openapi_document_are_still_served(self, client: TestClient) -> None:
        assert client.get("/docs").status_code == 200
        assert client.get("/openapi.json").json()["info"]["title"] == "storeplane"

    def test_a_directory_without_index_html_is_not_served(self, tmp_path: Path) -> None:
        client = TestClient(create_app(Settings(), BrokenDatabase(), dashboard_dir=tmp_path))
        assert client.get("/").status_code == 404
