"""A revoked token is refused on the very next request by every API process, although each
caches what it has read (SQLite: tokens and stores, storeplane/db/readcache.py; PostgreSQL:
stores per snapshot, storeplane/db/pgreads.py): two real API processes on one database, the
token revoked, or a store changed, from a third (this test's), as ``storeplane tokens revoke``
or the reconciler would."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest

from storeplane.db import SqlStoreRepository, SqlUserRepository, create_engine_for
from storeplane.domain.users import Role
from storeplane.services import auth
from tests.db.helpers import make_store

_SERVER = """
import sys, uvicorn
from storeplane.api.app import create_app
from storeplane.settings import Settings
uvicorn.run(create_app(Settings(database_url=sys.argv[1])), host="127.0.0.1",
            port=int(sys.argv[2]), log_level="warning")
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def two_api_processes(migrated_url: str) -> Iterator[list[str]]:
    ports = [_free_port(), _free_port()]
    servers = [
        subprocess.Popen([sys.executable, "-c", _SERVER, migrated_url, str(port)], env=os.environ)
        for port in ports
    ]
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    try:
        deadline = time.monotonic() + 120  # a loaded CI machine imports slowly
        for url in urls:
            while True:
                try:
                    httpx.get(f"{url}/healthz", timeout=1).raise_for_status()
                    break
                except httpx.HTTPError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.1)
        yield urls
    finally:
        for server in servers:
            server.terminate()
            server.wait(10)


def test_a_change_made_elsewhere_is_seen_at_once_by_every_process(
    migrated_url: str, two_api_processes: list[str]
) -> None:
    """A store changed and a token revoked by another connection: both API processes answer
    the new state on their very next request, after caching the old one."""
    engine = create_engine_for(migrated_url)
    users, repo = SqlUserRepository(engine), SqlStoreRepository(engine)
    try:
        user = auth.create_user(users, "cache-tester", Role.ADMIN)
        record, token = auth.issue_token(users, user, "cached")
        headers = {"Authorization": f"Bearer {token}"}
        store = make_store("first-shop")
        repo.create(store, [])
        for url in two_api_processes:
            for _ in range(3):  # read, and so cached, by both processes
                assert httpx.get(f"{url}/api/v1/stores", headers=headers).json()["count"] == 1
                got = httpx.get(f"{url}/api/v1/stores/{store.id}", headers=headers)
                assert got.json()["labels"] == {}
        changed = store.with_labels({"tier": "gold"}, now=store.created_at)
        assert repo.save_intent(changed, expected_revision=store.revision, events=[])
        repo.create(make_store("second-shop"), [])
        for url in two_api_processes:
            assert httpx.get(f"{url}/api/v1/stores", headers=headers).json()["count"] == 2
            got = httpx.get(f"{url}/api/v1/stores/{store.id}", headers=headers)
            assert got.json()["labels"] == {"tier": "gold"}

        auth.revoke_token(users, record.id)
        for url in two_api_processes:
            for path in ("/api/v1/stores", f"/api/v1/stores/{store.id}"):
                refused = httpx.get(f"{url}{path}", headers=headers)
                assert refused.status_code == 401, refused.text
    finally:
        engine.dispose()
