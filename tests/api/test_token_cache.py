"""A revoked token is refused on the very next request by every API process, although each
caches the tokens it has seen (storeplane/db/readcache.py): two real API processes on one
database, the token revoked from a third (this test's), as ``storeplane tokens revoke`` would."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from storeplane.db import SqlUserRepository, create_engine_for, migrate
from storeplane.domain.users import Role
from storeplane.services import auth

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
def sqlite_url(tmp_path: Path) -> str:
    """SQLite only: PostgreSQL has no token cache (every request looks its token up)."""
    url = f"sqlite:///{tmp_path / 'storeplane.db'}"
    migrate(url)
    return url


@pytest.fixture
def two_api_processes(sqlite_url: str) -> Iterator[list[str]]:
    ports = [_free_port(), _free_port()]
    servers = [
        subprocess.Popen([sys.executable, "-c", _SERVER, sqlite_url, str(port)], env=os.environ)
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


def test_a_revoked_token_is_refused_at_once_by_every_process(
    sqlite_url: str, two_api_processes: list[str]
) -> None:
    engine = create_engine_for(sqlite_url)
    users = SqlUserRepository(engine)
    try:
        user = auth.create_user(users, "cache-tester", Role.MEMBER)
        record, token = auth.issue_token(users, user, "cached")
        headers = {"Authorization": f"Bearer {token}"}
        for url in two_api_processes:
            for _ in range(3):  # seen, and so cached, by both processes
                assert httpx.get(f"{url}/api/v1/stores", headers=headers).status_code == 200
        auth.revoke_token(users, record.id)
        for url in two_api_processes:
            refused = httpx.get(f"{url}/api/v1/stores", headers=headers)
            assert refused.status_code == 401, refused.text
    finally:
        engine.dispose()
