"""``GET /api/v1/stream`` served by two real uvicorn servers on one database, as two API
replicas would be: a store created through one appears on the other's stream; a member's
stream carries only its own stores; a reconnect with ``Last-Event-ID`` replays what was
missed; a revoked token's stream ends at the next heartbeat; and however many streams are
open, each process reads the database once per poll. On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from storeplane.api.app import create_app
from storeplane.db import SqlStoreRepository, SqlUserRepository
from storeplane.runtime import bind
from storeplane.services import auth
from storeplane.settings import Settings

POLL = 0.1
HEARTBEAT = 0.5


@dataclass
class Server:
    url: str
    app: FastAPI
    server: uvicorn.Server
    thread: threading.Thread


def _serve(url: str) -> Server:
    settings = Settings(
        database_url=url, stream_poll_seconds=POLL, stream_heartbeat_seconds=HEARTBEAT
    )
    app = create_app(settings)
    bound = bind("127.0.0.1", 0)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(
        target=lambda: asyncio.run(server.serve(sockets=[bound.sock])), daemon=True
    )
    thread.start()
    while not server.started:
        time.sleep(0.01)
    return Server(bound.url, app, server, thread)


@pytest.fixture
def replicas(migrated_url: str, repo: SqlStoreRepository) -> Iterator[tuple[Server, Server, str]]:
    token = auth.bootstrap_admin(SqlUserRepository(repo.engine))
    assert token is not None
    one, two = _serve(migrated_url), _serve(migrated_url)
    yield one, two, token
    for s in (one, two):
        s.server.should_exit = True
        s.thread.join(10)


def _read(
    url: str, token: str, stop: threading.Event, seen: list[tuple[str, Any]], **headers: str
) -> None:
    """Collect (event, data) pairs of the stream until ``stop`` or the stream ends."""
    with (
        httpx.Client(timeout=10) as client,
        client.stream(
            "GET", f"{url}/api/v1/stream", headers={"Authorization": f"Bearer {token}", **headers}
        ) as response,
    ):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        kind = ""
        for line in response.iter_lines():
            if line.startswith("event: "):
                kind = line.removeprefix("event: ")
            elif line.startswith("data: "):
                seen.append((kind, json.loads(line.removeprefix("data: "))))
                if kind == "bye":
                    return
            elif line.startswith(":"):
                seen.append(("heartbeat", None))
            if stop.is_set():
                return


def _open(
    url: str, token: str, **headers: str
) -> tuple[list[tuple[str, Any]], threading.Event, threading.Thread]:
    seen: list[tuple[str, Any]] = []
    stop = threading.Event()
    thread = threading.Thread(
        target=_read, args=(url, token, stop, seen), kwargs=headers, daemon=True
    )
    thread.start()
    _wait(lambda: any(k == "hello" for k, _ in seen), "no hello")
    return seen, stop, thread


def _wait(condition: Any, what: str, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(what)
        time.sleep(0.02)


def _create(url: str, token: str, name: str) -> str:
    answer = httpx.post(
        f"{url}/api/v1/stores",
        json={"name": name, "engine": "medusa"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert answer.status_code == 202, answer.text
    return str(answer.json()["id"])


def _events(seen: list[tuple[str, Any]]) -> list[dict[str, Any]]:
    return [data for kind, data in seen if kind == "store-event"]


def test_a_change_through_one_replica_reaches_the_other_replicas_streams(
    replicas: tuple[Server, Server, str],
) -> None:
    one, two, admin = replicas
    member = httpx.post(
        f"{one.url}/api/v1/users",
        json={"name": "alice"},
        headers={"Authorization": f"Bearer {admin}"},
    ).json()
    alice = httpx.post(
        f"{one.url}/api/v1/tokens",
        json={"user_id": member["id"]},
        headers={"Authorization": f"Bearer {admin}"},
    ).json()["value"]
    admin_seen, admin_stop, _ = _open(two.url, admin)
    alice_seen, alice_stop, _ = _open(two.url, alice)
    also_seen, also_stop, _ = _open(two.url, admin)
    polls_before, started = two.app.state.change_feed.polls, time.monotonic()

    admins_store = _create(one.url, admin, "admins-shop")
    alices_store = _create(one.url, alice, "alices-shop")
    _wait(lambda: len(_events(admin_seen)) == 2, f"admin saw {admin_seen}")
    _wait(lambda: len(_events(alice_seen)) == 1, f"alice saw {alice_seen}")
    assert [e["store_id"] for e in _events(admin_seen)] == [admins_store, alices_store]
    assert [(e["store_name"], e["reason"]) for e in _events(alice_seen)] == [
        ("alices-shop", "Created")
    ]
    _wait(lambda: len(_events(also_seen)) == 2, "the third stream missed events")
    # Three open streams, one query per poll interval (not three).
    time.sleep(10 * POLL)
    polls = two.app.state.change_feed.polls - polls_before
    assert polls <= (time.monotonic() - started) / POLL + 2, polls
    assert two.app.state.change_feed.subscribers == 3
    for stop in (admin_stop, alice_stop, also_stop):
        stop.set()


def test_a_reconnect_with_last_event_id_gets_what_it_missed(
    replicas: tuple[Server, Server, str],
) -> None:
    one, two, admin = replicas
    first = _create(one.url, admin, "first-shop")
    seen, stop, _ = _open(two.url, admin)
    last = next(d for k, d in seen if k == "hello")["last_event_id"]
    stop.set()
    second = _create(one.url, admin, "second-shop")
    again, stop, _ = _open(two.url, admin, **{"Last-Event-ID": str(last - 1)})
    _wait(lambda: len(_events(again)) == 2, f"replayed {again}")
    assert [e["store_id"] for e in _events(again)] == [first, second]
    stop.set()


def test_a_revoked_tokens_stream_ends_at_the_next_heartbeat(
    replicas: tuple[Server, Server, str], repo: SqlStoreRepository
) -> None:
    one, _, _ = replicas
    users = SqlUserRepository(repo.engine)
    record, value = auth.issue_token(users, users.user_by_name("admin"), "short-lived")
    seen, _, thread = _open(one.url, value)
    auth.revoke_token(users, record.id)
    thread.join(5 * HEARTBEAT + 5)
    assert not thread.is_alive()
    assert seen[-1] == ("bye", {"reason": "the API token was revoked"})


def test_a_stream_without_a_token_is_a_401(replicas: tuple[Server, Server, str]) -> None:
    one, _, _ = replicas
    answer = httpx.get(f"{one.url}/api/v1/stream")
    assert answer.status_code == 401 and answer.headers["www-authenticate"].startswith("Bearer")
