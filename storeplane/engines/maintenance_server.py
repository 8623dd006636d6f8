"""The maintenance page of a suspended store: every request is answered 503 with a small HTML
page and ``Retry-After``. Runs alone, standard library only, as the maintenance backend's
container (``python3 /etc/maintenance/server.py``; :mod:`storeplane.engines.maintenance` puts
this file in a ConfigMap). It listens on ``POD_IP`` (the downward API; every address when
unset) and ``PORT`` (8080); the page names ``STORE_NAME``. Nothing here imports storeplane.
"""

from __future__ import annotations

import html
import os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

RETRY_AFTER_SECONDS = 300


def page(store_name: str) -> bytes:
    """The HTML a visitor sees while the store is suspended."""
    name = html.escape(store_name or "This store")
    return (
        "<!doctype html>\n<html lang=en><head><meta charset=utf-8>"
        f"<title>{name} is under maintenance</title>"
        "<meta name=viewport content='width=device-width, initial-scale=1'></head>"
        "<body style='font-family: sans-serif; max-width: 36em; margin: 4em auto'>"
        f"<h1>{name} is under maintenance</h1>"
        "<p>The store is suspended for now. Please come back later.</p>"
        "</body></html>\n"
    ).encode()


class MaintenanceHandler(BaseHTTPRequestHandler):
    """503 and the page for every method and path (HEAD without the body)."""

    body = page(os.environ.get("STORE_NAME", ""))
    server_version = "storeplane-maintenance"

    def _answer(self, with_body: bool = True) -> None:
        self.send_response(503, "Service Unavailable")
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(self.body)))
        self.send_header("Retry-After", str(RETRY_AFTER_SECONDS))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Storeplane-Maintenance", "suspended")
        self.end_headers()
        if with_body:
            self.wfile.write(self.body)

    def do_GET(self) -> None:
        self._answer()

    def do_HEAD(self) -> None:
        self._answer(with_body=False)

    do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_GET

    def log_message(self, format: str, *args: object) -> None:
        # One short line per request on stderr (the container's log), no reverse lookups.
        os.write(2, f"{self.address_string()} {format % args}\n".encode())


def main() -> None:
    host = os.environ.get("POD_IP") or ""
    port = int(os.environ.get("PORT") or 8080)
    ThreadingHTTPServer((host, port), MaintenanceHandler).serve_forever()


if __name__ == "__main__":
    main()
