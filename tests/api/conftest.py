from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from storeplane.api.app import create_app
from storeplane.db import SqlStoreRepository, SqlUserRepository
from storeplane.domain.users import Role
from storeplane.services import auth
from storeplane.settings import Settings

MAX_BYTES = 4096


@dataclass
class Api:
    """A TestClient (authenticated as the admin) on an app that opened the database itself,
    plus what the tests check, and a way to act as other users."""

    client: TestClient
    repo: SqlStoreRepository
    users: SqlUserRepository
    admin_token: str
    woken: list[str] = field(default_factory=list)

    def rows(self) -> tuple[int, int]:
        """(stores, events) in the database."""
        with self.repo.engine.connect() as connection:
            stores = connection.execute(text("SELECT count(*) FROM stores")).scalar_one()
            events = connection.execute(text("SELECT count(*) FROM store_events")).scalar_one()
        return stores, events

    def create(
        self, name: str = "acme-shop", client: TestClient | None = None, **extra: object
    ) -> dict[str, object]:
        response = (client or self.client).post(
            "/api/v1/stores", json={"name": name, "engine": "medusa", **extra}
        )
        assert response.status_code == 202, response.text
        body: dict[str, object] = response.json()
        return body

    def token_for(
        self, name: str, role: Role = Role.MEMBER, max_live_stores: int | None = None
    ) -> str:
        """A token for the user ``name`` (created on first use)."""
        try:
            user = self.users.user_by_name(name)
        except Exception:
            user = auth.create_user(self.users, name, role, max_live_stores=max_live_stores)
        return auth.issue_token(self.users, user, "test")[1]

    def client_for(self, token: str | None) -> TestClient:
        """Another client on the same app, with ``token`` (or none at all)."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return TestClient(self.client.app, headers=headers)

    def as_user(
        self, name: str, role: Role = Role.MEMBER, max_live_stores: int | None = None
    ) -> TestClient:
        return self.client_for(self.token_for(name, role, max_live_stores))


def make_api(migrated_url: str, repo: SqlStoreRepository, **settings: object) -> Iterator[Api]:
    woken: list[str] = []
    config = Settings(
        database_url=migrated_url,
        base_domain="shops.example",
        **{"max_request_bytes": MAX_BYTES, **settings},  # type: ignore[arg-type]
    )
    users = SqlUserRepository(repo.engine)
    token = auth.bootstrap_admin(users)
    assert token is not None
    app = create_app(config, on_change=woken.append)
    with TestClient(app, headers={"Authorization": f"Bearer {token}"}) as client:
        yield Api(client=client, repo=repo, users=users, admin_token=token, woken=woken)


@pytest.fixture
def api(migrated_url: str, repo: SqlStoreRepository) -> Iterator[Api]:
    yield from make_api(migrated_url, repo)
