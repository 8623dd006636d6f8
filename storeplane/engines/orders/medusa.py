"""Medusa v2: a guest order through the Store API, checked through the Admin API.

Verified against Medusa 2.21.2 running as a local process (``tests/e2e/medusa``); the request
and answer shapes are the ones ``docs/engines.md`` records. Every Store API call carries the
store's publishable key (``x-publishable-api-key``), which :meth:`MedusaAdmin.publishable_key`
reads from the admin API when the caller does not know it (the seed creates one).
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

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
    snippet,
)

ENGINE = "medusa"
SYSTEM_PAYMENT_PROVIDER = "pp_system_default"
PUBLISHABLE_KEY_HEADER = "x-publishable-api-key"


class MedusaStorefront(ApiClient):
    """A guest shopping in a Medusa store through its Store API (``/store/...``).

    ``base_url`` is the store's own URL (no trailing slash needed); ``publishable_key`` a
    ``pk_...`` token of a key linked to the sales channel the product is in.
    """

    def __init__(
        self,
        base_url: str,
        publishable_key: str,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        transport: httpx.BaseTransport | None = None,
        verify: bool = True,
    ) -> None:
        if not publishable_key:
            raise ValueError(
                "a publishable API key is required (MedusaAdmin.publishable_key() reads it)"
            )
        self.api = JsonApi(
            ENGINE,
            base_url,
            headers={PUBLISHABLE_KEY_HEADER: publishable_key},
            timeout=timeout,
            transport=transport,
            verify=verify,
        )

    def place_guest_order(
        self,
        email: str,
        *,
        address: Address | None = None,
        quantity: int = 1,
        provider_id: str = SYSTEM_PAYMENT_PROVIDER,
    ) -> PlacedOrder:
        """Buy ``quantity`` of the first priced variant as a guest and complete the cart.

        Raises :class:`OrderStepError` naming the step that failed. The order is pending and
        its payment authorized by the system provider (nothing is charged).
        """
        api = self.api
        step = "list regions"
        body, _ = api.call(step, "GET", "/store/regions")
        regions = [r for r in dig(ENGINE, step, body, "regions") if r.get("countries")]
        if not regions:
            raise OrderStepError(
                ENGINE, step, "the store has no region with a country: was it seeded?"
            )
        region = regions[0]
        region_id = str(region["id"])
        countries = [str(c["iso_2"]).lower() for c in region["countries"] if c.get("iso_2")]
        address = address or Address()
        country = (address.country_code or countries[0]).lower()
        if country not in countries:
            raise OrderStepError(
                ENGINE,
                step,
                f"region {region.get('name')!r} ({region_id}) sells to {', '.join(countries)}, "
                f"not to {country!r}: pass an Address with one of those",
            )

        step = "list products"
        body, _ = api.call(
            step,
            "GET",
            "/store/products",
            # Prices are computed for a region only when asked for.
            params={"region_id": region_id, "fields": "*variants.calculated_price", "limit": "20"},
        )
        variant_id = _priced_variant(dig(ENGINE, step, body, "products"))
        if variant_id is None:
            raise OrderStepError(
                ENGINE,
                step,
                f"no product has a variant priced in region {region_id}: is a product published, "
                "in the key's sales channel, with a price in the region's currency?",
            )

        step = "create cart"
        body, _ = api.call(
            step, "POST", "/store/carts", json_body={"region_id": region_id, "email": email}
        )
        cart_id = str(dig(ENGINE, step, body, "cart", "id"))

        step = "add line item"
        body, _ = api.call(
            step,
            "POST",
            f"/store/carts/{cart_id}/line-items",
            json_body={"variant_id": variant_id, "quantity": quantity},
        )
        if not dig(ENGINE, step, body, "cart", "items"):
            raise OrderStepError(ENGINE, step, f"cart {cart_id} has no items after adding one")

        step = "set addresses"
        postal = _address(address, country)
        api.call(
            step,
            "POST",
            f"/store/carts/{cart_id}",
            json_body={"email": email, "shipping_address": postal, "billing_address": postal},
        )

        step = "list shipping options"
        body, _ = api.call(step, "GET", "/store/shipping-options", params={"cart_id": cart_id})
        options = dig(ENGINE, step, body, "shipping_options")
        if not options:
            raise OrderStepError(
                ENGINE,
                step,
                f"no shipping option for cart {cart_id} (country {country}): does a service zone "
                "cover it, with a stock location serving the sales channel?",
            )
        step = "add shipping method"
        api.call(
            step,
            "POST",
            f"/store/carts/{cart_id}/shipping-methods",
            json_body={"option_id": str(options[0]["id"])},
        )

        step = "create payment collection"
        body, _ = api.call(
            step, "POST", "/store/payment-collections", json_body={"cart_id": cart_id}
        )
        collection_id = str(dig(ENGINE, step, body, "payment_collection", "id"))
        step = "create payment session"
        api.call(
            step,
            "POST",
            f"/store/payment-collections/{collection_id}/payment-sessions",
            json_body={"provider_id": provider_id},
        )

        step = "complete cart"
        body, _ = api.call(step, "POST", f"/store/carts/{cart_id}/complete")
        if not isinstance(body, dict) or body.get("type") != "order":
            error = body.get("error") if isinstance(body, dict) else None
            said = (error.get("message") if isinstance(error, dict) else None) or snippet(str(body))
            raise OrderStepError(
                ENGINE, step, f"cart {cart_id} was not turned into an order: {said}", answer=said
            )
        order = dig(ENGINE, step, body, "order")
        return PlacedOrder(
            engine=ENGINE,
            id=str(order["id"]),
            number=str(order.get("display_id", "")),
            status=str(order.get("status", "")),
            total=money(order.get("total", 0)),
            currency=str(order.get("currency_code", "")),
            email=str(order.get("email") or email),
        )


class MedusaAdmin(ApiClient):
    """The store's admin through the Admin API: log in as a user, then read orders and keys.

    ``login`` is called on first use; the JWT it returns is sent as ``Authorization: Bearer``.
    """

    def __init__(
        self,
        base_url: str,
        email: str,
        password: str,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        transport: httpx.BaseTransport | None = None,
        verify: bool = True,
    ) -> None:
        self.email = email
        self._password = password
        self._token: str | None = None
        self.api = JsonApi(ENGINE, base_url, timeout=timeout, transport=transport, verify=verify)

    def login(self) -> str:
        """Exchange the e-mail and password for a JWT (``POST /auth/user/emailpass``)."""
        step = "admin login"
        body, _ = self.api.call(
            step,
            "POST",
            "/auth/user/emailpass",
            json_body={"email": self.email, "password": self._password},
        )
        self._token = str(dig(ENGINE, step, body, "token"))
        return self._token

    def _get(self, step: str, path: str, params: dict[str, str] | None = None) -> Any:
        token = self._token or self.login()
        body, _ = self.api.call(
            step, "GET", path, params=params, headers={"Authorization": f"Bearer {token}"}
        )
        return body

    def publishable_key(self) -> str:
        """The token (``pk_...``) of the first publishable key that is not revoked."""
        step = "read publishable key"
        body = self._get(step, "/admin/api-keys", {"type": "publishable", "limit": "50"})
        keys = [k for k in dig(ENGINE, step, body, "api_keys") if not k.get("revoked_at")]
        if not keys:
            raise OrderStepError(
                ENGINE, step, "the store has no publishable API key: was it seeded?"
            )
        return str(keys[0]["token"])

    def orders(self, limit: int = 20) -> list[AdminOrder]:
        """The newest orders first."""
        step = "list orders"
        body = self._get(
            step,
            "/admin/orders",
            {"limit": str(limit), "order": "-created_at", "fields": _ORDER_FIELDS},
        )
        return [_admin_order(o) for o in dig(ENGINE, step, body, "orders")]

    def order(self, order_id: str) -> AdminOrder:
        """One order by id; an unknown id is an :class:`OrderStepError` with HTTP 404."""
        step = "read order"
        body = self._get(step, f"/admin/orders/{order_id}", {"fields": _ORDER_FIELDS})
        return _admin_order(dig(ENGINE, step, body, "order"))


# Defaults plus the aggregated payment status and the totals.
_ORDER_FIELDS = "+payment_status,+email,+total,+currency_code,+display_id,+status"


def _priced_variant(products: list[dict[str, Any]]) -> str | None:
    for product in products:
        for variant in product.get("variants") or []:
            if variant.get("calculated_price"):
                return str(variant["id"])
    return None


def _address(address: Address, country: str) -> dict[str, str]:
    fields = asdict(address)
    fields["country_code"] = country
    return {k: v for k, v in fields.items() if v}


def _admin_order(order: dict[str, Any]) -> AdminOrder:
    return AdminOrder(
        engine=ENGINE,
        id=str(order.get("id", "")),
        number=str(order.get("display_id", "")),
        status=str(order.get("status", "")),
        payment_status=str(order.get("payment_status", "")),
        total=money(order.get("total") or 0),
        currency=str(order.get("currency_code", "")),
        email=str(order.get("email", "")),
        raw=order,
    )
