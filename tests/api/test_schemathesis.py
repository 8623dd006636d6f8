"""Property-based tests of the whole API from its own OpenAPI document (schemathesis).

Every operation in ``/openapi.json`` gets a few hundred generated requests (valid and
invalid bodies, query parameters, path parameters and headers), sent with an admin token to
the ASGI app on a real SQLite database. No answer may be a 5xx, and every answer must match
what the document promises: a documented status code, the documented content type, a body
that fits the documented schema. The run is bounded (``EXAMPLES`` per operation, no shrinking
deadline) so it stays within a couple of minutes.

Schemathesis' ``negative_data_rejection`` check is left out: it also counts a request whose
only "invalid" part is a missing ``Authorization`` header (which this test always adds) and
unknown query parameters, which the API ignores like most HTTP APIs. Invalid requests are
still generated and sent; their answers must still be documented 4xx problems.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from storeplane.api.app import create_app
from storeplane.db import SqlStoreRepository, SqlUserRepository, create_engine_for, migrate
from storeplane.domain.plans import PlanName
from storeplane.domain.store import Engine, StoreSpec
from storeplane.services import auth, stores
from storeplane.settings import Settings

EXAMPLES = 250
LOGS = "/api/v1/stores/{store_id}/logs"
# Like the logs, these read the cluster, which this app does not have (documented 503s).
CLUSTER_READS = {
    LOGS,
    "/api/v1/stores/{store_id}/objects",
    "/api/v1/stores/{store_id}/objects/{kind}/{name}",
}
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]
# Built at import: schemathesis reads the document while pytest collects the tests (reading
# it opens no database). The ``database`` fixture migrates and makes the admin token.
_DIR = Path(tempfile.mkdtemp(prefix="storeplane-schemathesis-"))
_URL = f"sqlite:///{_DIR / 'storeplane.db'}"
# The rate limit is tested on its own (test_auth); here it would only slow the run down.
APP = create_app(Settings(database_url=_URL, rate_limit_per_second=0))
# The event stream stays open for as long as its reader does; tests/api/test_stream.py reads it
# from a real server.
schema = schemathesis.openapi.from_asgi("/openapi.json", APP).exclude(path="/api/v1/stream")
_token: dict[str, str] = {}
# Stores that exist: path parameters are often swapped for one of them, so PATCH, DELETE,
# retry and events act on real stores too, not only on ids that are 404s.
_store_ids: list[str] = []


@schema.hook
def flatmap_path_parameters(_context: Any, path_parameters: dict[str, Any]) -> Any:
    if not path_parameters or "store_id" not in path_parameters or not _store_ids:
        return st.just(path_parameters)
    return st.sampled_from(
        [path_parameters, *({**path_parameters, "store_id": i} for i in _store_ids)]
    )


@pytest.fixture(scope="module", autouse=True)
def database() -> Iterator[None]:
    migrate(_URL)
    engine = create_engine_for(_URL)
    token = auth.bootstrap_admin(SqlUserRepository(engine))
    assert token is not None
    _token["value"] = token
    admin = SqlUserRepository(engine).user_by_name("admin")
    settings = Settings(database_url=_URL)
    for name, engine_name in [("seed-medusa", Engine.MEDUSA), ("seed-woo", Engine.WOOCOMMERCE)]:
        spec = StoreSpec(name=name, engine=engine_name, plan=PlanName.SMALL)
        _store_ids.append(stores.create_store(SqlStoreRepository(engine), spec, settings, admin).id)
    yield
    engine.dispose()
    shutil.rmtree(_DIR, ignore_errors=True)


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    print_blob=True,
)
def test_no_operation_answers_5xx_or_outside_its_schema(case: schemathesis.Case) -> None:
    checks = CHECKS
    if case.operation.path in CLUSTER_READS:
        # This app has no cluster, so the logs answer their documented 503 "no cluster
        # connection" (tests/api/test_logs.py reads real logs from the simulator); every
        # other check still applies, and nothing else may be a 5xx.
        checks = [c for c in CHECKS if c is not not_a_server_error]
    response = case.call_and_validate(
        headers={"Authorization": f"Bearer {_token['value']}"}, checks=checks
    )
    if case.operation.path in CLUSTER_READS and response.status_code >= 500:
        assert response.status_code == 503, response.text
        assert "no cluster connection" in response.json()["detail"]
