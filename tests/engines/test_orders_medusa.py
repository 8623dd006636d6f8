"""The Medusa order client against a stand-in transport that answers with the request and answer
shapes recorded in docs/engines.md (Medusa 2.21.2). The real thing runs in
tests/e2e/medusa; these pin the request sequence and how each failure is worded."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import httpx
import pytest

from storeplane.engines.orders import MedusaAdmin, MedusaStorefront, OrderStepError

BASE = "http://shop.localtest.me"
KEY = "pk_test_123"
Handler = Callable[[httpx.Request], httpx.Response]


def _ok(body: Any) -> httpx.Response:
    return httpx.Response(200, json=body)


class FakeMedusa:
    """Answers the guest-order flow; ``overrides[(method, path)]`` replaces one answer."""

    def __init__(self, **overrides: Handler) -> None:
        self.requests: list[httpx.Request] = []
        self.overrides = {tuple(k.split(" ", 1)): v for k, v in overrides.items()}

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        key = (request.method, request.url.path)
        if key in self.overrides:
            return self.overrides[key](request)
        return self.answer(*key, request)

    def answer(self, method: str, path: str, request: httpx.Request) -> httpx.Response:
        cart = {"id": "cart_1", "items": [{"id": "item_1", "quantity": 1}]}
        match method, path:
            case "GET", "/store/regions":
                return _ok(
                    {
                        "regions": [
                            {
                                "id": "reg_1",
                                "name": "Europe",
                                "currency_code": "eur",
                                "countries": [{"iso_2": "de"}, {"iso_2": "fr"}],
                            }
                        ]
                    }
                )
            case "GET", "/store/products":
                return _ok(
                    {
                        "products": [
                            {
                                "id": "prod_0",
                                "variants": [{"id": "var_0", "calculated_price": None}],
                            },
                            {
                                "id": "prod_1",
                                "variants": [
                                    {"id": "var_1", "calculated_price": {"calculated_amount": 19}}
                                ],
                            },
                        ]
                    }
                )
            case "POST", "/store/carts":
                return _ok({"cart": {"id": "cart_1", "items": []}})
            case "POST", "/store/carts/cart_1/line-items" | "/store/carts/cart_1":
                return _ok({"cart": cart})
            case "GET", "/store/shipping-options":
                return _ok({"shipping_options": [{"id": "so_1", "name": "Standard", "amount": 5}]})
            case "POST", "/store/carts/cart_1/shipping-methods":
                return _ok({"cart": cart})
            case "POST", "/store/payment-collections":
                return _ok({"payment_collection": {"id": "pay_col_1"}})
            case "POST", "/store/payment-collections/pay_col_1/payment-sessions":
                return _ok({"payment_collection": {"id": "pay_col_1", "payment_sessions": [{}]}})
            case "POST", "/store/carts/cart_1/complete":
                return _ok(
                    {
                        "type": "order",
                        "order": {
                            "id": "order_1",
                            "display_id": 7,
                            "status": "pending",
                            "total": 24,
                            "currency_code": "eur",
                            "email": "guest@example.com",
                        },
                    }
                )
            case "POST", "/auth/user/emailpass":
                body = json.loads(request.content)
                if body == {"email": "admin@shop", "password": "secret"}:
                    return _ok({"token": "jwt-1"})
                return httpx.Response(
                    401, json={"type": "unauthorized", "message": "Invalid email or password"}
                )
            case "GET", "/admin/orders" | "/admin/orders/order_1" | "/admin/api-keys":
                if request.headers.get("authorization") != "Bearer jwt-1":
                    return httpx.Response(
                        401, json={"type": "unauthorized", "message": "Unauthorized"}
                    )
                order = {
                    "id": "order_1",
                    "display_id": 7,
                    "status": "pending",
                    "payment_status": "authorized",
                    "total": 24,
                    "currency_code": "eur",
                    "email": "guest@example.com",
                }
                if path == "/admin/api-keys":
                    return _ok(
                        {
                            "api_keys": [
                                {"token": "pk_revoked", "revoked_at": "2026-01-01T00:00:00Z"},
                                {"token": KEY, "revoked_at": None},
                            ]
                        }
                    )
                return _ok({"orders": [order]} if path == "/admin/orders" else {"order": order})
        return httpx.Response(
            404, json={"type": "not_found", "message": f"no route {method} {path}"}
        )


def _shop(fake: Handler) -> MedusaStorefront:
    return MedusaStorefront(BASE, KEY, transport=httpx.MockTransport(fake))


def test_the_guest_flow_makes_the_documented_calls_in_order_with_the_publishable_key() -> None:
    fake = FakeMedusa()
    with _shop(fake) as shop:
        placed = shop.place_guest_order("guest@example.com", quantity=2)

    assert [(r.method, r.url.path) for r in fake.requests] == [
        ("GET", "/store/regions"),
        ("GET", "/store/products"),
        ("POST", "/store/carts"),
        ("POST", "/store/carts/cart_1/line-items"),
        ("POST", "/store/carts/cart_1"),
        ("GET", "/store/shipping-options"),
        ("POST", "/store/carts/cart_1/shipping-methods"),
        ("POST", "/store/payment-collections"),
        ("POST", "/store/payment-collections/pay_col_1/payment-sessions"),
        ("POST", "/store/carts/cart_1/complete"),
    ]
    assert all(r.headers["x-publishable-api-key"] == KEY for r in fake.requests)
    products = fake.requests[1].url.params
    assert products["region_id"] == "reg_1"
    assert products["fields"] == "*variants.calculated_price"
    bodies: list[Any] = [json.loads(r.content) if r.content else None for r in fake.requests]
    assert bodies[2] == {"region_id": "reg_1", "email": "guest@example.com"}
    assert bodies[3] == {"variant_id": "var_1", "quantity": 2}, "the first variant with a price"
    address = bodies[4]["shipping_address"]
    assert address == bodies[4]["billing_address"]
    assert address["country_code"] == "de", "the region's first country"
    assert {"first_name", "last_name", "address_1", "city", "postal_code", "phone"} <= set(address)
    assert fake.requests[5].url.params["cart_id"] == "cart_1"
    assert bodies[6] == {"option_id": "so_1"}
    assert bodies[7] == {"cart_id": "cart_1"}
    assert bodies[8] == {"provider_id": "pp_system_default"}
    assert (placed.id, placed.number, placed.status) == ("order_1", "7", "pending")
    assert (placed.total, placed.currency) == (Decimal(24), "eur")


def _fails(fake: FakeMedusa) -> OrderStepError:
    with pytest.raises(OrderStepError) as failure, _shop(fake) as shop:
        shop.place_guest_order("guest@example.com")
    return failure.value


@pytest.mark.parametrize(
    ("override", "step", "words"),
    [
        (
            {
                "POST /store/carts/cart_1/line-items": lambda r: httpx.Response(
                    400, json={"type": "invalid_data", "message": "Variant var_1 does not exist"}
                )
            },
            "add line item",
            "POST /store/carts/cart_1/line-items answered HTTP 400: Variant var_1 does not exist (invalid_data)",
        ),
        (
            {"GET /store/shipping-options": lambda r: _ok({"shipping_options": []})},
            "list shipping options",
            "no shipping option for cart cart_1 (country de): does a service zone cover it",
        ),
        (
            {
                "POST /store/carts/cart_1/complete": lambda r: _ok(
                    {
                        "type": "cart",
                        "cart": {"id": "cart_1"},
                        "error": {"message": "Payment authorization failed"},
                    }
                )
            },
            "complete cart",
            "cart cart_1 was not turned into an order: Payment authorization failed",
        ),
        (
            {"GET /store/products": lambda r: _ok({"products": [{"id": "p", "variants": []}]})},
            "list products",
            "no product has a variant priced in region reg_1",
        ),
        (
            {"GET /store/regions": lambda r: _ok({"regions": []})},
            "list regions",
            "the store has no region with a country: was it seeded?",
        ),
        (
            {"POST /store/carts": lambda r: _ok({"cart": None})},
            "create cart",
            "unexpected answer: cart is missing or null",
        ),
        (
            {
                "GET /store/regions": lambda r: httpx.Response(
                    502, text="<html><h1>502 Bad Gateway</h1></html>"
                )
            },
            "list regions",
            "GET /store/regions answered HTTP 502: <html><h1>502 Bad Gateway</h1></html>",
        ),
        (
            {"GET /store/regions": lambda r: httpx.Response(200, text="<html>a login page</html>")},
            "list regions",
            "answered HTTP 200 with a body that is not JSON: <html>a login page</html>",
        ),
    ],
    ids=[
        "the engine's own message when a step is refused",
        "no shipping option for the cart",
        "a cart that does not complete says why",
        "no priced product",
        "an unseeded store",
        "an answer without the expected object",
        "a proxy error page",
        "a 200 that is not JSON",
    ],
)
def test_a_failed_step_says_which_and_what_medusa_answered(
    override: dict[str, Handler], step: str, words: str
) -> None:
    error = _fails(FakeMedusa(**override))
    assert error.step == step
    assert str(error).startswith(f"medusa: {step}: ")
    assert words in str(error)


def test_an_unreachable_store_is_said_plainly() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    with pytest.raises(OrderStepError) as failure, _shop(refuse) as shop:
        shop.place_guest_order("guest@example.com")
    assert failure.value.status is None
    assert "cannot reach the store at http://shop.localtest.me" in str(failure.value)


def test_a_publishable_key_is_required() -> None:
    with pytest.raises(ValueError, match="publishable API key is required"):
        MedusaStorefront(BASE, "")


def test_the_admin_logs_in_once_and_reads_orders_and_the_publishable_key() -> None:
    fake = FakeMedusa()
    with MedusaAdmin(BASE, "admin@shop", "secret", transport=httpx.MockTransport(fake)) as admin:
        assert admin.publishable_key() == KEY, "revoked keys are skipped"
        order = admin.order("order_1")
        orders = admin.orders(limit=3)
    assert [r.url.path for r in fake.requests].count("/auth/user/emailpass") == 1
    assert (order.id, order.number, order.payment_status) == ("order_1", "7", "authorized")
    assert order.total == Decimal(24)
    assert [o.id for o in orders] == ["order_1"]
    assert fake.requests[-1].url.params["limit"] == "3"


def test_a_wrong_admin_password_is_a_login_failure() -> None:
    fake = FakeMedusa()
    with (
        pytest.raises(OrderStepError) as failure,
        MedusaAdmin(BASE, "admin@shop", "nope", transport=httpx.MockTransport(fake)) as admin,
    ):
        admin.orders()
    assert failure.value.step == "admin login"
    assert failure.value.status == 401
    assert "Invalid email or password (unauthorized) (check the credentials or key)" in str(
        failure.value
    )
