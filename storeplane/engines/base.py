"""What every engine has in common: the platform's exposure settings, the health check shape,
the engine profile and the chart values every engine chart shares.

The reconciler reads a profile (through :func:`storeplane.engines.profile_for`) for the chart
to render, the values to render it with, the Pod Security level of the store's namespace and
the health check behind ``StoreReachable``. Readiness needs nothing per engine: every rendered
object is judged by its kind's rule in :mod:`storeplane.cluster.readiness` (Deployment
available, StatefulSet ready, Job complete, PersistentVolumeClaim bound).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from storeplane.domain.domains import tls_secret_name
from storeplane.domain.store import Engine, Store
from storeplane.engines import maintenance
from storeplane.engines.catalogue import EngineVersion, shipped_catalogue
from storeplane.settings import Settings

CREDENTIALS_SECRET = "store-credentials"
# Keys of the generated Secret; every engine chart reads the ones it needs by name.
CREDENTIAL_KEYS = (
    "db-password",
    "db-root-password",
    "admin-password",
    "jwt-secret",
    "cookie-secret",
)
ISSUER_ANNOTATION = "cert-manager.io/cluster-issuer"

Values = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Exposure:
    """How stores are exposed: the platform's ingress settings (from Settings)."""

    base_domain: str = "localtest.me"
    ingress_class: str = "nginx"
    tls: bool = False
    cluster_issuer: str = ""
    # The ingress's port when it is not the scheme's default (storeplane dev's own port).
    public_port: int | None = None

    def host(self, store_id: str) -> str:
        return f"{store_id}.{self.base_domain}"

    def url(self, store_id: str) -> str:
        """The store's public URL, no trailing slash (Medusa's CORS breaks on one)."""
        scheme = "https" if self.tls else "http"
        default = 443 if self.tls else 80
        port = f":{self.public_port}" if self.public_port not in (None, default) else ""
        return f"{scheme}://{self.host(store_id)}{port}"


def exposure_from(settings: Settings) -> Exposure:
    """The exposure the platform's settings describe: the one source of store URLs, for the
    API (a new store's ``url``) and the reconciler (the chart values)."""
    return Exposure(
        base_domain=settings.base_domain,
        ingress_class=settings.ingress_class,
        tls=settings.tls,
        cluster_issuer=settings.cluster_issuer,
        public_port=settings.store_url_port,
    )


@dataclass(frozen=True, slots=True)
class HealthCheck:
    """An HTTP GET on a Service, through the API server's service proxy."""

    service: str
    port: int
    path: str
    accepts: Callable[[int, str], bool]
    expectation: str  # what a healthy answer looks like, for the failure message


def common_values(store: Store, exposure: Exposure) -> Values:
    """The values every engine chart takes the same way: the store, its host and TLS, and the
    credentials Secret storeplane creates before the chart's objects."""
    return {
        "store": {"id": store.id, "name": store.name, "plan": store.spec.plan.value},
        "baseDomain": exposure.base_domain,
        "publicPort": exposure.public_port,
        "ingress": {
            "className": exposure.ingress_class,
            "annotations": (
                {ISSUER_ANNOTATION: exposure.cluster_issuer}
                if exposure.tls and exposure.cluster_issuer
                else {}
            ),
            "tls": {
                "enabled": exposure.tls,
                "secretName": f"{store.id}-tls" if exposure.tls else "",
            },
        },
        "credentialsSecret": CREDENTIALS_SECRET,
        "domains": [{"host": d, "secretName": tls_secret_name(d)} for d in store.spec.domains],
        **maintenance.chart_values(store),
    }


def admin_email(store: Store, exposure: Exposure) -> str:
    """The store admin's login: ``admin@<host>`` (its password is the Secret's admin-password)."""
    return f"admin@{exposure.host(store.id)}"


@dataclass(frozen=True, slots=True)
class Release:
    """What a store renders with: its catalogue version and the platform's image repository
    of its engine (settings ``medusa_image_repository``, ``woocommerce_image_repository``)."""

    version: EngineVersion
    repository: str

    def image(self, name: str) -> dict[str, str]:
        """The chart's ``{repository, tag}`` of the version's image ``name``."""
        return {"repository": self.repository, "tag": self.version.images[name]}

    def image_refs(self) -> dict[str, str]:
        """Every image of the version as ``repository:tag`` (what ``GET /engines`` shows)."""
        return {name: f"{self.repository}:{tag}" for name, tag in self.version.images.items()}


def deep_merge(base: Mapping[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` with ``extra`` merged in, mappings key by key (``extra`` wins)."""
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def image_repositories(settings: Settings) -> dict[Engine, str]:
    """The platform's image repository of each engine, from its settings."""
    return {
        Engine.MEDUSA: settings.medusa_image_repository,
        Engine.WOOCOMMERCE: settings.woocommerce_image_repository,
    }


@dataclass(frozen=True, slots=True)
class EngineProfile:
    engine: Engine
    display_name: str
    chart: str
    # Pod Security Standard enforced on the store's namespace. "restricted" unless the engine's
    # official images cannot run under it (see the chart README for the reason).
    pod_security: str
    health: HealthCheck
    # Where the engine's images come from unless the platform sets another repository.
    default_image_repository: str = ""
    # The app.kubernetes.io/component of the chart's migration Job, or None: an upgrade to
    # another engine version applies this Job alone first, and the rest only once it succeeded.
    migration_component: str | None = None
    # The engine's own values on top of common_values (pure; keys must exist in the chart's
    # values.schema.json, which rejects unknown keys), given the release the store runs.
    engine_values: Callable[[Store, Exposure, Release], Values] = field(
        default=lambda store, exposure, release: {}
    )

    def release(
        self, store: Store, repositories: Mapping[Engine, str] | None = None, catalogue: Any = None
    ) -> Release:
        """The store's catalogue version (``spec.engine_version``; "" is the default) with the
        platform's repository (``repositories``, else this profile's default)."""
        catalogue = catalogue or shipped_catalogue()
        version = catalogue.resolve(self.engine, store.spec.engine_version)
        repository = (repositories or {}).get(self.engine) or self.default_image_repository
        return Release(version, repository)

    def values(self, store: Store, exposure: Exposure, release: Release | None = None) -> Values:
        """The chart values for ``store``: a pure function of its spec, its release (default:
        its version in the shipped catalogue) and the platform config. Helm merges them over
        the chart's defaults; a version's own ``values`` from the catalogue go on top."""
        release = release or self.release(store)
        values = {**common_values(store, exposure), **self.engine_values(store, exposure, release)}
        return deep_merge(values, release.version.values)

    def url(self, store: Store, exposure: Exposure) -> str:
        """Where the store is served (its Ingress host)."""
        return exposure.url(store.id)

    def admin_email(self, store: Store, exposure: Exposure) -> str:
        return admin_email(store, exposure)
