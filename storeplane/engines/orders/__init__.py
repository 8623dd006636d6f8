"""Placing a guest order in a store, and finding it again, through the engine's own HTTP APIs.

This is how storeplane proves that a store works as a shop, not merely that its pods are up:
the cluster end-to-end kit (``tests/e2e/cluster``) and the local Medusa test
(``tests/e2e/medusa``) call it after a store is ``Ready``. One module per engine:

- :mod:`.medusa`: :class:`MedusaStorefront` (the Store API with a publishable key: regions,
  products, cart, line item, addresses, shipping, payment collection and session, complete)
  and :class:`MedusaAdmin` (``POST /auth/user/emailpass`` for a token, then ``/admin/orders``).
- :mod:`.woocommerce`: :class:`WooCommerceStorefront` (the Store API with a ``Cart-Token``,
  checkout with cash on delivery) and :class:`WooCommerceAdmin` (``/wp-json/wc/v3/orders``
  with REST API keys: basic auth over https, OAuth 1.0a signatures over plain http).

The steps follow ``docs/engines.md`` ("A guest order"). Every failure is an :class:`OrderStepError` that
names the step, the request and what the engine answered, so a red test says where the
checkout broke. Clients are synchronous (``httpx.Client``); pass ``transport=`` to test them
without a network.
"""

from storeplane.engines.orders.base import Address, AdminOrder, OrderStepError, PlacedOrder
from storeplane.engines.orders.medusa import MedusaAdmin, MedusaStorefront
from storeplane.engines.orders.woocommerce import (
    WooCommerceAdmin,
    WooCommerceStorefront,
    oauth1_query,
    signature_base_string,
)

__all__ = [
    "Address",
    "AdminOrder",
    "MedusaAdmin",
    "MedusaStorefront",
    "OrderStepError",
    "PlacedOrder",
    "WooCommerceAdmin",
    "WooCommerceStorefront",
    "oauth1_query",
    "signature_base_string",
]
