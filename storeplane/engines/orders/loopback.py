"""Reach ``*.localhost`` store URLs the way browsers and curl do, without changing the URL.

RFC 6761 (section 6.3) reserves ``localhost`` and every name under it for the loopback
address, and browsers and curl resolve them so without DNS, but Python's resolver asks the
system's, which often does not know ``store-x.localhost``. :class:`LoopbackTransport` connects
to 127.0.0.1 for such hosts and leaves everything else as it was: the request keeps its URL's
``Host`` header (the dev ingress routes by it), error messages keep the store's own URL, and
other hosts go through unchanged.

Used by the smoke check (:mod:`storeplane.engines.orders.smoke`) through
:func:`transport_for`.
"""

from __future__ import annotations

import httpx

LOOPBACK = "127.0.0.1"


def is_loopback_name(host: str) -> bool:
    """``localhost`` or a name under it (RFC 6761 6.3), in any case, with or without the
    trailing root dot."""
    name = host.lower().rstrip(".")
    return name == "localhost" or name.endswith(".localhost")


class LoopbackTransport(httpx.HTTPTransport):
    """An ``httpx.HTTPTransport`` that sends requests for ``*.localhost`` to 127.0.0.1."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if not is_loopback_name(request.url.host):
            return super().handle_request(request)
        # A copy that connects to 127.0.0.1: its Host header is the original request's (set
        # from the store's URL when it was built), TLS still checks the original name, and the
        # client hands back the original request with the response, so its URL stays honest.
        connect = httpx.Request(
            request.method,
            request.url.copy_with(host=LOOPBACK),
            headers=request.headers,
            stream=request.stream,
            extensions={**request.extensions, "sni_hostname": request.url.host},
        )
        return super().handle_request(connect)


def transport_for(url: str) -> httpx.BaseTransport | None:
    """A LoopbackTransport for a ``*.localhost`` URL, else None (httpx's default)."""
    host = httpx.URL(url).host
    return LoopbackTransport() if is_loopback_name(host) else None
