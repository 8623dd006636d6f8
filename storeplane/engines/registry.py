"""The engine registry: one profile per engine (``medusa.py``, ``woocommerce.py``), looked up
by the reconciler with :func:`profile_for`. The shared pieces live in ``base.py`` and are
re-exported here, where the reconciler has always imported them from."""

from __future__ import annotations

from storeplane.domain.store import Engine
from storeplane.engines import medusa, woocommerce
from storeplane.engines.base import (
    CREDENTIAL_KEYS,
    CREDENTIALS_SECRET,
    EngineProfile,
    Exposure,
    HealthCheck,
)

ENGINES: dict[Engine, EngineProfile] = {
    Engine.MEDUSA: medusa.PROFILE,
    Engine.WOOCOMMERCE: woocommerce.PROFILE,
}


def profile_for(engine: Engine) -> EngineProfile:
    return ENGINES[engine]


__all__ = [
    "CREDENTIALS_SECRET",
    "CREDENTIAL_KEYS",
    "ENGINES",
    "EngineProfile",
    "Exposure",
    "HealthCheck",
    "profile_for",
]
