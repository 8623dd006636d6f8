from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from storeplane.api.app import create_app
from storeplane.db import SqlStoreRepository
from storeplane.settings import Settings

MAX_BYTES = 4096


@dataclass
class Api:
    """A TestClient on an app that opened the database itself, plus what the tests check."""

    client: TestClient
    repo: SqlStoreRepository
    woken: list[str] = field(default_factory=list)

    def rows(self) -> tuple[int, int]:
        """(stores, events) in the database."""
        with self.repo.engine.connect() as connection:
            stores = connection.execute(text("SELECT count(*) FROM stores")).scalar_one()
            events = connection.execute(text("SELECT count(*) FROM store_events")).scalar_one()
        return stores, events

    def create(self, name: str = "acme-shop", **extra: object) -> dict[str, object]:
        response = self.client.post(
            "/api/v1/stores", json={"name": name, "engine": "medusa", **extra}
        )
        assert response.status_code == 202, response.text
        body: dict[str, object] = response.json()
        return body


@pytest.fixture
def api(migrated_url: str, repo: SqlStoreRepository) -> Iterator[Api]:
    woken: list[str] = []
    settings = Settings(
        database_url=migrated_url, base_domain="shops.example", max_request_bytes=MAX_BYTES
    )
    with TestClient(create_app(settings, on_change=woken.append)) as client:
        yield Api(client=client, repo=repo, woken=woken)
