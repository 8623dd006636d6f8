"""Engine profiles for MedusaJS and WooCommerce, and the values they give their charts."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from storeplane.domain.store import Engine, Store

CREDENTIALS_SECRET = "store-credentials"
# Keys of the generated Secret; every engine chart reads the ones it needs by name.
CREDENTIAL_KEYS = (
    "db-password",
    "db-root-password",
    "admin-password",
    "jwt-secret",
    "cookie-secret",
)


@dataclass(frozen=True, slots=True)
class Exposure:
    """How stores are exposed: the platform's ingress settings (from Settings)."""

    base_domain: str = "localtest.me"
    ingress_class: str = "nginx"
    tls: bool = False
    cluster_issuer: str = ""

    def host(self, store_id: str) -> str:
        return f"{store_id}.{self.base_domain}"

    def url(self, store_id: str) -> str:
        return f"{'https' if self.tls else 'http'}://{self.host(store_id)}"


@dataclass(frozen=True, slots=True)
class HealthCheck:
    """An HTTP GET on a Service, through the API server's service proxy."""

    service: str
    port: int
    path: str
    accepts: Callable[[int, str], bool]
    expectation: str  # what a healthy answer looks like, for the failure message


@dataclass(frozen=True, slots=True)
class EngineProfile:
    engine: Engine
    display_name: str
    chart: str
    # Pod Security Standard enforced on the store's namespace. "restricted" unless the engine's
    # official images cannot run under it (see the chart README for the reason).
    pod_security: str
    health: HealthCheck

    def values(self, store: Store, exposure: Exposure) -> dict[str, Any]:
        """The chart values for ``store``: a pure function of its spec and the platform config."""
        return {
            "store": {"id": store.id, "name": store.name, "plan": store.spec.plan.value},
            "baseDomain": exposure.base_domain,
            "ingress": {
                "className": exposure.ingress_class,
                "annotations": (
                    {"cert-manager.io/cluster-issuer": exposure.cluster_issuer}
                    if exposure.tls and exposure.cluster_issuer
                    else {}
                ),
                "tls": {
                    "enabled": exposure.tls,
                    "secretName": f"{store.id}-tls" if exposure.tls else "",
                },
            },
            "credentialsSecret": CREDENTIALS_SECRET,
        }


ENGINES: dict[Engine, EngineProfile] = {
    Engine.MEDUSA: EngineProfile(
        engine=Engine.MEDUSA,
        display_name="MedusaJS",
        chart="medusa-store",
        pod_security="restricted",
        health=HealthCheck(
            service="medusa-server",
            port=9000,
            path="/health",
            accepts=lambda code, body: code == 200 and body.strip() == "OK",
            expectation='HTTP 200 "OK"',
        ),
    ),
    Engine.WOOCOMMERCE: EngineProfile(
        engine=Engine.WOOCOMMERCE,
        display_name="WooCommerce",
        chart="woocommerce-store",
        # The chart runs WordPress as www-data (uid 33) and lets it bind port 80 through the
        # net.ipv4.ip_unprivileged_port_start sysctl, which "restricted" allows.
        pod_security="restricted",
        health=HealthCheck(
            service="woocommerce-wordpress",
            port=80,
            path="/wp-json/",
            accepts=lambda code, body: code == 200 and body.lstrip().startswith("{"),
            expectation="HTTP 200 with the WordPress REST index (JSON)",
        ),
    ),
}


def profile_for(engine: Engine) -> EngineProfile:
    return ENGINES[engine]
