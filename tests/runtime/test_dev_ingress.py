"""The dev port's store-host forwarding (storeplane.dev_ingress), against a real HTTP server
standing where the simulator's ingress listener stands (tests/scenarios/test_real_store.py
covers the whole path with a real store behind the simulator)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from storeplane.dev_ingress import StoreHostForwarder, is_store_host


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("store-abc123de.localhost:8080", True),
        ("store-abc123de.localhost", True),
        ("STORE-ABC.LOCALHOST.", True),
        ("localhost:8080", False),
        ("127.0.0.1:8080", False),
        ("", False),
        ("example.com", False),
        ("localhost.example.com", False),
    ],
    ids=lambda v: str(v),
)
def test_which_hosts_are_store_hosts(host: str, expected: bool) -> None:
    assert is_store_host(host) is expected


class _Echo(BaseHTTPRequestHandler):
    def _answer(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        payload = json.dumps(
            {
                "method": self.command,
                "path": self.path,
                "host": self.headers.get("host"),
                "forwarded_for": self.headers.get("x-forwarded-for"),
                "body": body.decode(),
            }
        ).encode()
        self.send_response(201 if self.command == "POST" else 200)
        self.send_header("content-type", "application/json")
        self.send_header("x-upstream", "yes")
        self.send_header("content-length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = _answer

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def upstream() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def _app() -> Starlette:
    return Starlette(routes=[Route("/", lambda _r: PlainTextResponse("dashboard"))])


async def test_store_hosts_go_to_the_ingress_with_host_body_and_status(upstream: str) -> None:
    forwarder = StoreHostForwarder(_app(), upstream)
    transport = httpx.ASGITransport(app=forwarder, client=("10.1.2.3", 5555))
    async with httpx.AsyncClient(transport=transport, base_url="http://x") as client:
        got = await client.post(
            "/store/carts?x=1",
            content=b'{"a": 1}',
            headers={"host": "store-abc.localhost:8080", "connection": "keep-alive"},
        )
        mine = await client.get("/", headers={"host": "127.0.0.1:8080"})
    assert got.status_code == 201
    assert got.headers["x-upstream"] == "yes"
    assert got.json() == {
        "method": "POST",
        "path": "/store/carts?x=1",
        "host": "store-abc.localhost:8080",
        "forwarded_for": "10.1.2.3",
        "body": '{"a": 1}',
    }
    assert mine.text == "dashboard"


async def test_an_ingress_that_does_not_answer_is_a_502_that_says_so() -> None:
    forwarder = StoreHostForwarder(_app(), "http://127.0.0.1:9")  # discard port: refused
    transport = httpx.ASGITransport(app=forwarder)
    async with httpx.AsyncClient(transport=transport, base_url="http://x") as client:
        got = await client.get("/health", headers={"host": "store-abc.localhost"})
    assert got.status_code == 502
    assert "store ingress did not answer" in got.text
