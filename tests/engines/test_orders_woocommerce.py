"""The WooCommerce order client against a small local HTTP server that plays WooCommerce's
Store API and REST API (v3) with their documented request and answer shapes. WooCommerce itself
cannot run here (the plugin comes only from wordpress.org); the cluster end-to-end kit
(tests/e2e/cluster) runs the client against a real store."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

import httpx
import pytest

from storeplane.engines.orders import (
    Address,
    OrderStepError,
    WooCommerceAdmin,
    WooCommerceStorefront,
    oauth1_query,
    signature_base_string,
)

STORE = "/wp-json/wc/store/v1"
CONSUMER_KEY = "ck_0123456789abcdef"
CONSUMER_SECRET = "cs_fedcba9876543210"


@dataclass
class Shop:
    """What the stand-in WooCommerce knows: products, carts by token, orders."""

    home: str = ""
    products: list[dict[str, Any]] = field(default_factory=list)
    carts: dict[str, dict[str, Any]] = field(default_factory=dict)
    orders: dict[int, dict[str, Any]] = field(default_factory=dict)
    requests: list[tuple[str, str, dict[str, str], Any]] = field(default_factory=list)
    gateways: tuple[str, ...] = ("cod",)


def _error(status: int, code: str, message: str) -> tuple[int, Any]:
    # The WordPress REST API's error shape.
    return status, {"code": code, "message": message, "data": {"status": status}}


def _expected_signature(method: str, url: str, params: dict[str, str]) -> str:
    """The server's own check, written apart from the client: RFC 5849 base string, key
    "<secret>&", HMAC-SHA256 or -SHA1."""

    def enc(text: str) -> str:
        return quote(text, safe="~")

    pairs = sorted((enc(k), enc(v)) for k, v in params.items() if k != "oauth_signature")
    text = "&".join([method, enc(url), enc("&".join(f"{k}={v}" for k, v in pairs))])
    algorithm = params["oauth_signature_method"].removeprefix("HMAC-").lower()
    mac = hmac.new(f"{CONSUMER_SECRET}&".encode(), text.encode(), algorithm)
    return base64.b64encode(mac.digest()).decode()


class Handler(BaseHTTPRequestHandler):
    shop: Shop

    def log_message(self, *args: Any) -> None:  # keep the test output quiet
        pass

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def _serve(self, method: str) -> None:
        parts = urlsplit(self.path)
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length)) if length else None
        self.shop.requests.append((method, parts.path, dict(self.headers.items()), body))
        token = self.headers.get("Cart-Token")
        if parts.path.startswith(STORE):
            status, answer, token = self._store(method, parts.path[len(STORE) :], token, body)
        elif parts.path.startswith("/wp-json/wc/v3/"):
            status, answer = self._admin(method, parts.path, query)
        else:
            status, answer = _error(
                404, "rest_no_route", "No route was found matching the URL and request method."
            )
        data = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        if token:
            self.send_header("Cart-Token", token)
        self.end_headers()
        self.wfile.write(data)

    def _cart_view(self, cart: dict[str, Any]) -> dict[str, Any]:
        total = sum(int(i["prices"]["price"]) * i["quantity"] for i in cart["items"])
        needs_shipping = any(not i["virtual"] for i in cart["items"])
        rates = []
        if needs_shipping and cart.get("shipping_address"):
            rates = [
                {
                    "package_id": 0,
                    "shipping_rates": [
                        {
                            "rate_id": "flat_rate:1",
                            "price": "500",
                            "selected": cart.get("rate") == "flat_rate:1",
                        }
                    ],
                }
            ]
            if cart.get("rate"):
                total += 500
        return {
            "items": [
                {"id": i["id"], "key": f"key{i['id']}", "quantity": i["quantity"]}
                for i in cart["items"]
            ],
            "needs_shipping": needs_shipping,
            "shipping_rates": rates,
            "totals": {"total_price": str(total), "currency_code": "EUR", "currency_minor_unit": 2},
        }

    def _store(
        self, method: str, path: str, token: str | None, body: Any
    ) -> tuple[int, Any, str | None]:
        shop = self.shop
        if (method, path) == ("GET", "/cart"):
            token = token if token in shop.carts else secrets.token_hex(8)
            cart = shop.carts.setdefault(token, {"items": []})
            return 200, self._cart_view(cart), token
        if (method, path) == ("GET", "/products"):
            return 200, shop.products, token
        if token not in shop.carts:
            # What the Store API says to a write with neither a nonce nor a cart token.
            return (
                *_error(
                    401,
                    "woocommerce_rest_missing_nonce",
                    "Missing the Nonce header. This endpoint requires a valid nonce.",
                ),
                None,
            )
        cart = shop.carts[token]
        if (method, path) == ("POST", "/cart/add-item"):
            product = next((p for p in shop.products if p["id"] == body.get("id")), None)
            if product is None:
                return (
                    *_error(
                        400,
                        "woocommerce_rest_cart_invalid_product",
                        "This product cannot be added to the cart.",
                    ),
                    token,
                )
            cart["items"].append({**product, "quantity": int(body.get("quantity", 1))})
            return 201, self._cart_view(cart), token
        if (method, path) == ("POST", "/cart/update-customer"):
            cart["shipping_address"] = body["shipping_address"]
            cart["billing_address"] = body["billing_address"]
            return 200, self._cart_view(cart), token
        if (method, path) == ("POST", "/cart/select-shipping-rate"):
            cart["rate"] = body["rate_id"]
            return 200, self._cart_view(cart), token
        if (method, path) == ("POST", "/checkout"):
            if not cart["items"]:
                return (
                    *_error(
                        400, "woocommerce_rest_cart_empty", "Cannot create order from empty cart."
                    ),
                    token,
                )
            if body.get("payment_method") not in shop.gateways:
                return (
                    *_error(
                        400,
                        "woocommerce_rest_checkout_invalid_payment_method",
                        "The selected payment method is not available.",
                    ),
                    token,
                )
            billing = body.get("billing_address") or {}
            if not billing.get("email"):
                return (
                    *_error(400, "rest_invalid_param", "Invalid parameter(s): billing_address"),
                    token,
                )
            view = self._cart_view(cart)
            if view["needs_shipping"] and not cart.get("rate"):
                return (
                    *_error(
                        400,
                        "woocommerce_rest_checkout_missing_shipping_rate",
                        "No shipping method selected.",
                    ),
                    token,
                )
            order_id = 100 + len(shop.orders)
            total = Decimal(view["totals"]["total_price"]).scaleb(-2)
            shop.orders[order_id] = {
                "id": order_id,
                "number": str(order_id),
                "status": "processing",
                "currency": "EUR",
                "total": f"{total:.2f}",
                "billing": billing,
                "payment_method": body["payment_method"],
                "date_paid": None,
            }
            del shop.carts[token]
            return (
                200,
                {
                    "order_id": order_id,
                    "status": "processing",
                    "order_key": f"wc_order_{order_id}",
                    "customer_note": "",
                    "customer_id": 0,
                    "billing_address": billing,
                    "shipping_address": body.get("shipping_address"),
                    "payment_method": body["payment_method"],
                    "payment_result": {
                        "payment_status": "success",
                        "payment_details": [],
                        "redirect_url": "",
                    },
                },
                token,
            )
        return (
            *_error(
                404, "rest_no_route", "No route was found matching the URL and request method."
            ),
            token,
        )

    def _admin(self, method: str, path: str, query: dict[str, str]) -> tuple[int, Any]:
        shop = self.shop
        if "oauth_signature" not in query:
            return _error(401, "woocommerce_rest_cannot_view", "Sorry, you cannot list resources.")
        if query.get("oauth_consumer_key") != CONSUMER_KEY:
            return _error(401, "woocommerce_rest_authentication_error", "Consumer key is invalid.")
        if abs(int(query["oauth_timestamp"]) - time.time()) > 15 * 60:
            return _error(401, "woocommerce_rest_authentication_error", "Invalid timestamp.")
        if query["oauth_signature"] != _expected_signature(method, shop.home + path, query):
            return _error(
                401,
                "woocommerce_rest_authentication_error",
                "Invalid signature - provided signature does not match.",
            )
        if path == "/wp-json/wc/v3/orders":
            newest = sorted(shop.orders.values(), key=lambda o: -o["id"])
            return 200, newest[: int(query.get("per_page", 10))]
        order_id = path.rsplit("/", 1)[-1]
        if order_id.isdigit() and int(order_id) in shop.orders:
            return 200, shop.orders[int(order_id)]
        return _error(404, "woocommerce_rest_shop_order_invalid_id", "Invalid ID.")


@pytest.fixture
def shop() -> Iterator[Shop]:
    state = Shop(
        products=[
            {
                "id": 11,
                "name": "Storeplane T-Shirt",
                "sku": "storeplane-sample",
                "prices": {
                    "price": "1900",
                    "regular_price": "1900",
                    "currency_code": "EUR",
                    "currency_minor_unit": 2,
                },
                "is_purchasable": True,
                "is_in_stock": True,
                "virtual": True,
            }
        ]
    )
    handler = type("ShopHandler", (Handler,), {"shop": state})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    state.home = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


def test_a_guest_order_is_placed_with_a_cart_token_and_cash_on_delivery(shop: Shop) -> None:
    with WooCommerceStorefront(shop.home) as storefront:
        placed = storefront.place_guest_order("guest@example.com", quantity=2)

    assert [(m, p) for m, p, _, _ in shop.requests] == [
        ("GET", f"{STORE}/cart"),
        ("GET", f"{STORE}/products"),
        ("POST", f"{STORE}/cart/add-item"),
        ("POST", f"{STORE}/checkout"),
    ]
    token = shop.requests[0][2].get("Cart-Token")
    assert token is None, "the first call asks for a token"
    assert all(h.get("Cart-Token") for _, _, h, _ in shop.requests[2:]), "every write sends it back"
    assert shop.requests[2][3] == {"id": 11, "quantity": 2}
    checkout = shop.requests[3][3]
    assert checkout["payment_method"] == "cod"
    assert checkout["billing_address"]["email"] == "guest@example.com"
    assert checkout["billing_address"]["country"] == "DE"
    assert "email" not in checkout["shipping_address"]
    assert (placed.id, placed.number, placed.status) == ("100", "100", "processing")
    assert (placed.total, placed.currency) == (Decimal("38.00"), "EUR")


def test_a_product_that_ships_gets_an_address_and_a_rate_first(shop: Shop) -> None:
    shop.products[0]["virtual"] = False
    with WooCommerceStorefront(shop.home) as storefront:
        placed = storefront.place_guest_order(
            "guest@example.com", address=Address(country_code="fr", city="Lyon")
        )
    paths = [p.removeprefix(STORE) for _, p, _, _ in shop.requests]
    assert paths == [
        "/cart",
        "/products",
        "/cart/add-item",
        "/cart/update-customer",
        "/cart/select-shipping-rate",
        "/checkout",
    ]
    assert shop.requests[3][3]["shipping_address"]["country"] == "FR"
    assert shop.requests[4][3] == {"package_id": 0, "rate_id": "flat_rate:1"}
    assert placed.total == Decimal("24.00")


def test_the_admin_api_finds_the_order_with_an_oauth_signature_over_http(shop: Shop) -> None:
    with WooCommerceStorefront(shop.home) as storefront:
        placed = storefront.place_guest_order("guest@example.com")
    with WooCommerceAdmin(shop.home, CONSUMER_KEY, CONSUMER_SECRET) as admin:
        found = admin.order(placed.id)
        newest = admin.orders(limit=5)
    assert (found.id, found.status, found.email) == (placed.id, "processing", "guest@example.com")
    assert (found.total, found.payment_status) == (Decimal("19.00"), "unpaid")
    assert [o.id for o in newest] == [placed.id]
    admin_call = shop.requests[-1]
    assert "Authorization" not in admin_call[2], "no basic auth over plain http"


@pytest.mark.parametrize(
    ("secret", "words"),
    [
        (
            "cs_wrong",
            "HTTP 401: Invalid signature - provided signature does not match. (woocommerce_rest_authentication_error)",
        ),
    ],
    ids=["a wrong consumer secret"],
)
def test_admin_refusals_keep_woocommerces_words(shop: Shop, secret: str, words: str) -> None:
    with (
        pytest.raises(OrderStepError) as failure,
        WooCommerceAdmin(shop.home, CONSUMER_KEY, secret) as admin,
    ):
        admin.orders()
    assert failure.value.step == "list orders"
    assert words in str(failure.value)


def test_an_unknown_order_is_a_404_from_read_order(shop: Shop) -> None:
    with (
        pytest.raises(OrderStepError) as failure,
        WooCommerceAdmin(shop.home, CONSUMER_KEY, CONSUMER_SECRET) as admin,
    ):
        admin.order(999)
    assert (failure.value.step, failure.value.status) == ("read order", 404)
    assert "Invalid ID. (woocommerce_rest_shop_order_invalid_id)" in str(failure.value)


def test_over_https_the_keys_go_as_basic_auth_not_a_signature() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=[])

    with WooCommerceAdmin(
        "https://shop.example.com", "ck_1", "cs_1", transport=httpx.MockTransport(answer)
    ) as admin:
        assert admin.orders() == []
    expected = "Basic " + base64.b64encode(b"ck_1:cs_1").decode()
    assert seen[0].headers["authorization"] == expected
    assert "oauth_signature" not in seen[0].url.params


@pytest.mark.parametrize(
    ("setup", "step", "words"),
    [
        (lambda s: s.products.clear(), "list products", "no published product can be bought"),
        (
            lambda s: setattr(s, "gateways", ("bacs",)),
            "checkout",
            "The selected payment method is not available. (woocommerce_rest_checkout_invalid_payment_method)",
        ),
        (lambda s: s.products[0].update(virtual=False, id=12), "add item", None),
    ],
    ids=["no product", "cash on delivery is off", "an unknown product id"],
)
def test_a_failed_step_says_which_and_what_woocommerce_answered(
    shop: Shop, setup: Any, step: str, words: str | None
) -> None:
    setup(shop)
    product_id = 11 if step == "add item" else None
    with pytest.raises(OrderStepError) as failure, WooCommerceStorefront(shop.home) as storefront:
        storefront.place_guest_order("guest@example.com", product_id=product_id)
    assert failure.value.step == step
    assert str(failure.value).startswith(f"woocommerce: {step}: ")
    if words:
        assert words in str(failure.value)
    else:
        assert "HTTP 400: This product cannot be added to the cart." in str(failure.value)


def test_without_a_cart_token_the_store_api_refuses_and_the_client_says_so() -> None:
    def no_token(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"items": []})

    with (
        pytest.raises(OrderStepError) as failure,
        WooCommerceStorefront(
            "http://old.shop", transport=httpx.MockTransport(no_token)
        ) as storefront,
    ):
        storefront.place_guest_order("guest@example.com")
    assert failure.value.step == "start cart"
    assert "without a Cart-Token header" in str(failure.value)


def test_the_signature_base_string_matches_rfc_5849s_worked_example() -> None:
    # RFC 5849 section 3.4.1: the example request and its parameters (with a token, which
    # WooCommerce does not use, but the construction is the same).
    got = signature_base_string(
        "post",
        "http://EXAMPLE.com:80/request?b5=%3D%253D&a3=a&c%40=&a2=r%20b",
        [
            ("c2", ""),
            ("a3", "2 q"),
            ("oauth_consumer_key", "9djdj82h48djs9d2"),
            ("oauth_token", "kkk9d7dh3k39sjv7"),
            ("oauth_signature_method", "HMAC-SHA1"),
            ("oauth_timestamp", "137131201"),
            ("oauth_nonce", "7d8f3e4a"),
        ],
    )
    assert got == (
        "POST&http%3A%2F%2Fexample.com%2Frequest&a2%3Dr%2520b%26a3%3D2%2520q%26a3%3Da%26"
        "b5%3D%253D%25253D%26c%2540%3D%26c2%3D%26oauth_consumer_key%3D9djdj82h48djs9d2%26"
        "oauth_nonce%3D7d8f3e4a%26oauth_signature_method%3DHMAC-SHA1%26oauth_timestamp%3D"
        "137131201%26oauth_token%3Dkkk9d7dh3k39sjv7"
    )


def test_oauth1_query_signs_with_the_secret_and_an_empty_token_secret() -> None:
    signed = oauth1_query(
        "GET",
        "http://shop/wp-json/wc/v3/orders",
        {"per_page": "5"},
        "ck",
        "cs",
        timestamp=1700000000,
        nonce="abc",
        signature_method="HMAC-SHA1",
    )
    base = signature_base_string(
        "GET",
        "http://shop/wp-json/wc/v3/orders",
        [(k, v) for k, v in signed.items() if k != "oauth_signature"],
    )
    expected = base64.b64encode(hmac.new(b"cs&", base.encode(), hashlib.sha1).digest()).decode()
    assert signed["oauth_signature"] == expected
    assert signed["per_page"] == "5"
    assert (signed["oauth_timestamp"], signed["oauth_nonce"], signed["oauth_version"]) == (
        "1700000000",
        "abc",
        "1.0",
    )
    with pytest.raises(ValueError, match="signature_method"):
        oauth1_query("GET", "http://shop/", {}, "ck", "cs", signature_method="PLAINTEXT")
