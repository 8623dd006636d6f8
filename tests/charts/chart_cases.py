"""The cases the chart tests run: every engine chart x plan x TLS, and a render helper that
renders each set of values once per session (through a shared ``RenderCache``)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from storeplane.domain.domains import tls_secret_name
from storeplane.render import RenderCache, chart_path

STORE_ID = "store-ab12cd34"
BASE_DOMAIN = "shops.example.test"
CHARTS = ("medusa-store", "woocommerce-store")
PLANS = ("small", "medium", "large")


@dataclass(frozen=True)
class Case:
    """One way storeplane renders a chart: which chart, which plan, TLS or not, suspended or
    not, with custom domains or not, and (Medusa) an uploads claim size and StorageClass of
    its own instead of the plan's and the cluster default."""

    chart: str
    plan: str
    tls: bool
    suspended: bool = False
    domains: tuple[str, ...] = ()
    uploads: tuple[str, ...] = ()  # (storage, storageClassName); () = the defaults

    @property
    def id(self) -> str:
        state = ", suspended" if self.suspended else ""
        state += f", with domains {', '.join(self.domains)}" if self.domains else ""
        state += f", with {self.uploads[0]} of uploads on {self.uploads[1]}" if self.uploads else ""
        return f"{self.chart} on the {self.plan} plan with TLS {'on' if self.tls else 'off'}{state}"

    def values(self) -> dict[str, Any]:
        """Values shaped like the ones storeplane computes (defaults for the rest)."""
        return {
            "store": {"id": STORE_ID, "name": "My Shop", "plan": self.plan},
            "baseDomain": BASE_DOMAIN,
            "ingress": {
                "className": "nginx",
                "annotations": {"cert-manager.io/cluster-issuer": "letsencrypt"}
                if self.tls
                else {},
                "tls": {"enabled": self.tls, "secretName": ""},
            },
            "credentialsSecret": "store-credentials",
            "suspended": self.suspended,
            "maintenance": {"service": "storeplane-maintenance"},
            "domains": [{"host": d, "secretName": tls_secret_name(d)} for d in self.domains],
            **(
                {"uploads": {"storage": self.uploads[0], "storageClassName": self.uploads[1]}}
                if self.uploads
                else {}
            ),
        }


DOMAINS = ("shop.example.com", "www.example.org")
# Every chart x plan x TLS, each plain, suspended, with custom domains, and both at once on
# the small plan (the options are independent templates; the full product adds nothing).
CASES = [
    Case(chart, plan, tls, suspended, domains)
    for chart in CHARTS
    for plan in PLANS
    for tls in (False, True)
    for suspended, domains in ((False, ()), (True, ()), (False, DOMAINS), (True, DOMAINS))
    if plan == "small" or not (suspended and domains)
] + [
    # The uploads claim's own size and StorageClass (Medusa's only; the plan's size otherwise).
    Case("medusa-store", plan, False, uploads=("3Gi", "fast-ssd"))
    for plan in PLANS
]


_cache = RenderCache()


def render_values(helm: str, chart: str, values: dict[str, Any]) -> list[dict[str, Any]]:
    """Render ``chart`` with ``values`` through a cache shared by the whole session."""
    return asyncio.run(_cache.render(chart_path(chart), "store", STORE_ID, values, helm_bin=helm))
