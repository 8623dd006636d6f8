"""``*.localhost`` store URLs reached on 127.0.0.1 with their own Host (RFC 6761), as browsers
and curl do, against a real HTTP server on loopback; other hosts are left alone."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator

import httpx
import pytest

from storeplane.engines.orders.loopback import LoopbackTransport, is_loopback_name, transport_for


class _Echo(http.server.BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        answer = f"{self.headers['Host']} {self.path} {body.decode()}".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture(scope="module")
def port() -> Iterator[int]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield int(server.server_address[1])
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("localhost", True),
        ("store-ab12cd34.localhost", True),
        ("Store-AB12CD34.LOCALHOST.", True),
        ("localhost.example.com", False),
        ("notlocalhost", False),
        ("store-ab12cd34.localtest.me", False),
    ],
    ids=[
        "localhost itself",
        "a store id under localhost",
        "any case, with the root dot",
        "a domain that merely starts with localhost",
        "a name that merely ends with the letters",
        "a public wildcard domain goes through DNS",
    ],
)
def test_which_names_are_loopback(host: str, expected: bool) -> None:
    assert is_loopback_name(host) is expected


def test_a_localhost_store_url_is_reached_on_loopback_with_its_own_host(port: int) -> None:
    url = f"http://store-ab12cd34.localhost:{port}"
    transport = transport_for(url)
    assert isinstance(transport, LoopbackTransport)
    with httpx.Client(base_url=url, transport=transport) as client:
        response = client.post("/store/carts", json={"a": 1})
    assert response.text == f'store-ab12cd34.localhost:{port} /store/carts {{"a":1}}'
    assert str(response.url) == f"{url}/store/carts"  # the URL stays the store's own


def test_other_hosts_get_the_default_transport() -> None:
    assert transport_for("http://store-ab12cd34.shops.example") is None
    assert transport_for("http://127.0.0.1:9000") is None
