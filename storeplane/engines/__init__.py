"""The engine registry: what storeplane knows about each store engine.

Per engine (``medusa.py``, ``woocommerce.py``; shared shapes in ``base.py``): its chart, the
values computed from a store's spec and plan, the Pod Security level its pods need, the
health check behind the ``StoreReachable`` condition and the store's URL. Called by the
reconciler (values, health) and the API (display names).
"""

from storeplane.engines.base import CREDENTIAL_KEYS, CREDENTIALS_SECRET, exposure_from
from storeplane.engines.registry import ENGINES, EngineProfile, Exposure, HealthCheck, profile_for

__all__ = [
    "CREDENTIALS_SECRET",
    "CREDENTIAL_KEYS",
    "ENGINES",
    "EngineProfile",
    "Exposure",
    "HealthCheck",
    "exposure_from",
    "profile_for",
]
