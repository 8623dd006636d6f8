"""WooCommerce: a guest order through the Store API, checked through the REST API (v3).

Store API (``/wp-json/wc/store/v1``, no keys): ``GET /cart`` hands out a ``Cart-Token`` that
every later call sends back (it stands in for the browser's session cookie and nonce);
``GET /products``; ``POST /cart/add-item``; when the product needs shipping, the customer's
address and a shipping rate; ``POST /checkout`` with cash on delivery (gateway ``cod``).

Admin (``/wp-json/wc/v3/orders``) needs a REST API key pair (``ck_...``/``cs_...``). WooCommerce
takes it as HTTP basic auth only over https; over plain http it wants a one-legged OAuth 1.0a
signature in the query string (:func:`oauth1_query`), signed over the URL WordPress believes
it serves (its home URL), so address the store by its own URL.

Not run against a real WooCommerce here (the plugin comes from wordpress.org, which this
project cannot reach): the shapes follow WooCommerce's Store API and REST API documentation
and are exercised against a local stand-in server in ``tests/engines/test_orders_woocommerce.py``;
the cluster end-to-end kit runs it for real.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

import httpx

from storeplane.engines.orders.base import (
    DEFAULT_TIMEOUT,
    Address,
    AdminOrder,
    ApiClient,
    JsonApi,
    OrderStepError,
    PlacedOrder,
    dig,
    money,
)

ENGINE = "woocommerce"
STORE_API = "/wp-json/wc/store/v1"
ADMIN_API = "/wp-json/wc/v3"
CART_TOKEN = "Cart-Token"
CASH_ON_DELIVERY = "cod"
DEFAULT_COUNTRY = "DE"


class WooCommerceStorefront(ApiClient):
    """A guest shopping in a WooCommerce store through the Store API."""

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        transport: httpx.BaseTransport | None = None,
        verify: bool = True,
    ) -> None:
        self.api = JsonApi(ENGINE, base_url, timeout=timeout, transport=transport, verify=verify)
        self._cart_token: str | None = None

    def _call(self, step: str, method: str, path: str, json_body: Any = None, **params: str) -> Any:
        headers = {CART_TOKEN: self._cart_token} if self._cart_token else None
        body, response = self.api.call(
            step,
            method,
            f"{STORE_API}{path}",
            json_body=json_body,
            params=params or None,
            headers=headers,
        )
        # WooCommerce may hand out a fresh token on any answer; the newest one wins.
        self._cart_token = response.headers.get(CART_TOKEN) or self._cart_token
        return body

    def place_guest_order(
        self,
        email: str,
        *,
        address: Address | None = None,
        quantity: int = 1,
        product_id: int | None = None,
        payment_method: str = CASH_ON_DELIVERY,
    ) -> PlacedOrder:
        """Buy ``quantity`` of ``product_id`` (default: the first purchasable product in stock)
        as a guest and pay on delivery. Raises :class:`OrderStepError` naming the failed step."""
        step = "start cart"
        self._call(step, "GET", "/cart")
        if not self._cart_token:
            raise OrderStepError(
                ENGINE,
                step,
                f"GET {STORE_API}/cart answered without a {CART_TOKEN} header: "
                "is WooCommerce recent enough (8.x or later) and its Store API enabled?",
            )

        step = "list products"
        if product_id is None:
            products = self._call(step, "GET", "/products", per_page="20")
            if not isinstance(products, list):
                raise OrderStepError(ENGINE, step, f"expected a list of products, got {products!r}")
            buyable = [
                p for p in products if p.get("is_purchasable", True) and p.get("is_in_stock", True)
            ]
            if not buyable:
                raise OrderStepError(
                    ENGINE,
                    step,
                    "no published product can be bought: did the setup Job create one?",
                )
            product_id = int(buyable[0]["id"])

        step = "add item"
        cart = self._call(step, "POST", "/cart/add-item", {"id": product_id, "quantity": quantity})
        if not dig(ENGINE, step, cart, "items"):
            raise OrderStepError(
                ENGINE, step, f"the cart is empty after adding product {product_id}"
            )

        address = address or Address()
        billing = _address(address, email)
        shipping = {k: v for k, v in billing.items() if k != "email"}
        if cart.get("needs_shipping"):
            step = "set customer address"
            cart = self._call(
                step,
                "POST",
                "/cart/update-customer",
                {"billing_address": billing, "shipping_address": shipping},
            )
            step = "select shipping rate"
            package_id, rate_id = _first_rate(cart)
            cart = self._call(
                step,
                "POST",
                "/cart/select-shipping-rate",
                {"package_id": package_id, "rate_id": rate_id},
            )

        totals = dig(ENGINE, step, cart, "totals")
        minor_unit = int(totals.get("currency_minor_unit", 2))
        total = money(totals.get("total_price", 0), minor_unit)
        currency = str(totals.get("currency_code", ""))

        step = "checkout"
        order = self._call(
            step,
            "POST",
            "/checkout",
            {
                "billing_address": billing,
                "shipping_address": shipping,
                "payment_method": payment_method,
            },
        )
        order_id = dig(ENGINE, step, order, "order_id")
        result = order.get("payment_result") or {}
        if result.get("payment_status") in ("failure", "error"):
            raise OrderStepError(
                ENGINE,
                step,
                f"order {order_id} was created but its payment failed: {result}",
                answer=str(result),
            )
        return PlacedOrder(
            engine=ENGINE,
            id=str(order_id),
            number=str(order.get("order_number") or order_id),
            status=str(order.get("status", "")),
            total=total,
            currency=currency,
            email=email,
        )


class WooCommerceAdmin(ApiClient):
    """Orders through WooCommerce's REST API (v3) with a REST API key pair."""

    def __init__(
        self,
        base_url: str,
        consumer_key: str,
        consumer_secret: str,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        transport: httpx.BaseTransport | None = None,
        verify: bool = True,
    ) -> None:
        self.api = JsonApi(ENGINE, base_url, timeout=timeout, transport=transport, verify=verify)
        self._key = consumer_key
        self._secret = consumer_secret
        self._https = base_url.lower().startswith("https://")

    def _get(self, step: str, path: str, params: Mapping[str, str] | None = None) -> Any:
        path = f"{ADMIN_API}{path}"
        if self._https:
            body, _ = self.api.call(
                step, "GET", path, params=params, auth=httpx.BasicAuth(self._key, self._secret)
            )
            return body
        signed = oauth1_query(
            "GET", f"{self.api.base_url}{path}", params or {}, self._key, self._secret
        )
        body, _ = self.api.call(step, "GET", path, params=signed)
        return body

    def order(self, order_id: str | int) -> AdminOrder:
        """One order by id; an unknown id is an :class:`OrderStepError` with HTTP 404."""
        return _admin_order(self._get("read order", f"/orders/{order_id}"))

    def orders(self, limit: int = 20) -> list[AdminOrder]:
        """The newest orders first."""
        step = "list orders"
        body = self._get(step, "/orders", {"per_page": str(limit), "orderby": "date"})
        if not isinstance(body, list):
            raise OrderStepError(ENGINE, step, f"expected a list of orders, got {body!r}")
        return [_admin_order(o) for o in body]


def _pct(value: str) -> str:
    """RFC 5849 section 3.6 percent-encoding: everything but ALPHA, DIGIT, '-', '.', '_', '~'."""
    return quote(value, safe="-._~")


def signature_base_string(method: str, url: str, pairs: Iterable[tuple[str, str]]) -> str:
    """The OAuth 1.0a signature base string (RFC 5849 section 3.4.1): the method, the URL
    without query or default port, and every parameter (``pairs`` plus the URL's own query),
    each percent-encoded, sorted and joined."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    default_port = {"http": 80, "https": 443}.get(scheme)
    netloc = host if parts.port in (None, default_port) else f"{host}:{parts.port}"
    base_uri = f"{scheme}://{netloc}{parts.path or '/'}"
    every = [*parse_qsl(parts.query, keep_blank_values=True), *pairs]
    normalized = "&".join(f"{k}={v}" for k, v in sorted((_pct(k), _pct(v)) for k, v in every))
    return "&".join((method.upper(), _pct(base_uri), _pct(normalized)))


def oauth1_query(
    method: str,
    url: str,
    params: Mapping[str, str],
    consumer_key: str,
    consumer_secret: str,
    *,
    timestamp: int | None = None,
    nonce: str | None = None,
    signature_method: str = "HMAC-SHA256",
) -> dict[str, str]:
    """``params`` plus the ``oauth_*`` parameters of a one-legged OAuth 1.0a request (RFC 5849,
    no token) signed with ``consumer_secret``: what WooCommerce checks on plain http.

    ``url`` must be the one WordPress believes it serves (its home URL plus the path): the
    server rebuilds the base string from its own idea of the URL.
    """
    algorithms = {"HMAC-SHA1": hashlib.sha1, "HMAC-SHA256": hashlib.sha256}
    if signature_method not in algorithms:
        raise ValueError(f"signature_method must be one of {', '.join(algorithms)}")
    oauth = {
        "oauth_consumer_key": consumer_key,
        "oauth_nonce": nonce or secrets.token_hex(16),
        "oauth_signature_method": signature_method,
        "oauth_timestamp": str(int(time.time()) if timestamp is None else timestamp),
        "oauth_version": "1.0",
    }
    base_string = signature_base_string(method, url, [*params.items(), *oauth.items()])
    key = f"{_pct(consumer_secret)}&"  # no token secret in one-legged OAuth
    digest = hmac.new(key.encode(), base_string.encode(), algorithms[signature_method]).digest()
    return {**params, **oauth, "oauth_signature": base64.b64encode(digest).decode()}


def _address(address: Address, email: str) -> dict[str, str]:
    return {
        "first_name": address.first_name,
        "last_name": address.last_name,
        "company": "",
        "address_1": address.address_1,
        "address_2": "",
        "city": address.city,
        "state": address.province,
        "postcode": address.postal_code,
        "country": (address.country_code or DEFAULT_COUNTRY).upper(),
        "email": email,
        "phone": address.phone,
    }


def _first_rate(cart: Any) -> tuple[int, str]:
    step = "select shipping rate"
    for package in dig(ENGINE, step, cart, "shipping_rates"):
        for rate in package.get("shipping_rates") or []:
            return int(package["package_id"]), str(rate["rate_id"])
    raise OrderStepError(
        ENGINE,
        step,
        "the product needs shipping but no shipping rate applies to the address: add a shipping "
        "zone and method, or sell a virtual product",
    )


def _admin_order(order: Any) -> AdminOrder:
    if not isinstance(order, dict):
        raise OrderStepError(ENGINE, "read order", f"expected an order object, got {order!r}")
    billing = order.get("billing") or {}
    return AdminOrder(
        engine=ENGINE,
        id=str(order.get("id", "")),
        number=str(order.get("number") or order.get("id", "")),
        status=str(order.get("status", "")),
        payment_status="paid" if order.get("date_paid") else "unpaid",
        total=money(order.get("total") or 0),
        currency=str(order.get("currency", "")),
        email=str(billing.get("email", "")),
        raw=order,
    )
