"""The engine registry: what storeplane knows about each store engine.

Per engine: its chart, the values computed from a store's spec and plan, the Pod Security
level its pods need, and the health check behind the ``StoreReachable`` condition. Called by
the reconciler (values, health) and the API (display names).
"""

from storeplane.engines.registry import ENGINES, EngineProfile, Exposure, HealthCheck, profile_for

__all__ = ["ENGINES", "EngineProfile", "Exposure", "HealthCheck", "profile_for"]
