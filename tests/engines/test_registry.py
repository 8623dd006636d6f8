"""Engine profiles: for every engine and plan, the values render with the real helm into a
store whose health check, Ingress host, TLS and URL agree with the platform's Exposure."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import yaml

from storeplane.domain.plans import PlanName
from storeplane.domain.store import Engine, Store, StoreSpec
from storeplane.engines.registry import ENGINES, Exposure, profile_for
from storeplane.render.cache import RenderCache
from storeplane.render.charts import CHARTS_DIR, chart_path

STORE_LABEL = "storeplane.dev/store-id"
ISSUER_ANNOTATION = "cert-manager.io/cluster-issuer"
NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)

EXPOSURES = [
    ("plain HTTP", Exposure(base_domain="localtest.me")),
    (
        "TLS with a cert-manager issuer",
        Exposure(base_domain="shops.example.com", tls=True, cluster_issuer="letsencrypt"),
    ),
    ("TLS with a certificate managed elsewhere", Exposure(base_domain="example.org", tls=True)),
]
CASES = [
    pytest.param(engine, plan, exposure, id=f"{engine.value} on the {plan.value} plan with {what}")
    for engine in Engine
    for plan in PlanName
    for what, exposure in EXPOSURES
]


@pytest.fixture(scope="module")
def cache() -> RenderCache:
    return RenderCache()


def _store(engine: Engine, plan: PlanName, exposure: Exposure) -> Store:
    store_id = f"store-{engine.value[:4]}{plan.value[:4]}"
    return Store.create(
        StoreSpec(name=f"{engine.value}-{plan.value}-shop", engine=engine, plan=plan),
        store_id=store_id,
        url=exposure.url(store_id),
        now=NOW,
        deadline=timedelta(minutes=15),
    )


async def _render(cache: RenderCache, store: Store, exposure: Exposure) -> list[dict[str, Any]]:
    profile = profile_for(store.spec.engine)
    values = profile.values(store, exposure)
    return await cache.render(CHARTS_DIR / profile.chart, store.id, store.namespace, values)


def _plan_presets(chart: str, plan: PlanName) -> list[dict[str, Any]]:
    """The resource presets the chart's own values.yaml defines for ``plan``."""
    values = yaml.safe_load((CHARTS_DIR / chart / "values.yaml").read_text())
    return list(values["planResources"][plan.value].values())


def _of_kind(objects: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [o for o in objects if o["kind"] == kind]


def test_every_engine_has_a_profile_with_a_chart_that_exists() -> None:
    assert set(ENGINES) == set(Engine)
    for engine, profile in ENGINES.items():
        assert profile.engine is engine
        assert chart_path(profile.chart) == CHARTS_DIR / profile.chart
        assert profile.pod_security in {"restricted", "baseline"}


@pytest.mark.parametrize(("engine", "plan", "exposure"), CASES)
async def test_values_render_into_a_store_the_profile_can_check_and_expose(
    cache: RenderCache, engine: Engine, plan: PlanName, exposure: Exposure
) -> None:
    store = _store(engine, plan, exposure)
    profile = profile_for(engine)
    objects = await _render(cache, store, exposure)

    # The health check targets a Service port the chart really renders.
    services = {s["metadata"]["name"]: s for s in _of_kind(objects, "Service")}
    assert profile.health.service in services, sorted(services)
    ports = [p["port"] for p in services[profile.health.service]["spec"]["ports"]]
    assert profile.health.port in ports

    # One Ingress, on <id>.<base domain>, routing to a rendered Service.
    (ingress,) = _of_kind(objects, "Ingress")
    host = f"{store.id}.{exposure.base_domain}"
    assert exposure.host(store.id) == host
    rules = ingress["spec"]["rules"]
    assert [rule["host"] for rule in rules] == [host]
    backends = [p["backend"]["service"]["name"] for p in rules[0]["http"]["paths"]]
    assert set(backends) <= set(services)
    assert ingress["spec"]["ingressClassName"] == exposure.ingress_class

    annotations = ingress["metadata"].get("annotations") or {}
    if exposure.tls:
        assert ingress["spec"]["tls"] == [{"hosts": [host], "secretName": f"{store.id}-tls"}]
        assert exposure.url(store.id) == f"https://{host}"
    else:
        assert "tls" not in ingress["spec"]
        assert exposure.url(store.id) == f"http://{host}"
    if exposure.tls and exposure.cluster_issuer:
        assert annotations[ISSUER_ANNOTATION] == exposure.cluster_issuer
    else:
        assert ISSUER_ANNOTATION not in annotations
    assert store.url == exposure.url(store.id)

    # Every object carries the store's label, which is how storeplane finds and prunes it.
    assert all(o["metadata"]["labels"][STORE_LABEL] == store.id for o in objects)

    # Every container gets its resources from the preset of the store's plan.
    presets = _plan_presets(profile.chart, plan)
    containers = [
        c
        for workload in (*_of_kind(objects, "Deployment"), *_of_kind(objects, "StatefulSet"))
        for key in ("initContainers", "containers")
        for c in workload["spec"]["template"]["spec"].get(key, [])
    ]
    assert containers
    for container in containers:
        assert container["resources"] in presets, container["name"]


@pytest.mark.parametrize(
    ("exposure", "scheme"),
    [
        (Exposure(base_domain="localtest.me"), "http"),
        (Exposure(base_domain="localtest.me", tls=True), "https"),
        (Exposure(base_domain="localtest.me", tls=True, cluster_issuer="ca"), "https"),
    ],
    ids=[
        "without TLS the URL is http",
        "with TLS the URL is https",
        "with TLS and an issuer the URL is https",
    ],
)
def test_url_scheme_follows_tls(exposure: Exposure, scheme: str) -> None:
    assert exposure.url("store-abc12345") == f"{scheme}://store-abc12345.localtest.me"


def test_an_issuer_without_tls_adds_no_annotation() -> None:
    store = _store(Engine.MEDUSA, PlanName.SMALL, Exposure())
    values = profile_for(Engine.MEDUSA).values(store, Exposure(cluster_issuer="letsencrypt"))
    assert values["ingress"]["annotations"] == {}
    assert values["ingress"]["tls"] == {"enabled": False, "secretName": ""}


@pytest.mark.parametrize(
    ("engine", "good", "bad"),
    [
        (Engine.MEDUSA, (200, "OK\n"), (200, "starting")),
        (Engine.WOOCOMMERCE, (200, ' {"name": "shop"}'), (200, "<html>install</html>")),
    ],
    ids=[
        "medusa is healthy only on OK",
        "woocommerce is healthy only on the JSON REST index",
    ],
)
def test_health_check_accepts_only_a_healthy_answer(
    engine: Engine, good: tuple[int, str], bad: tuple[int, str]
) -> None:
    health = profile_for(engine).health
    assert health.accepts(*good)
    assert not health.accepts(*bad)
    assert not health.accepts(503, good[1])
    assert health.expectation


@pytest.mark.parametrize(
    ("exposure", "url"),
    [
        (Exposure(base_domain="localhost", public_port=8080), "http://store-abc12345.localhost:8080"),
        (Exposure(base_domain="example.com", public_port=80), "http://store-abc12345.example.com"),
        (Exposure(base_domain="example.com", tls=True, public_port=443),
         "https://store-abc12345.example.com"),
        (Exposure(base_domain="example.com", tls=True, public_port=8443),
         "https://store-abc12345.example.com:8443"),
    ],
    ids=[
        "storeplane dev's port is part of the URL",
        "port 80 is left out of an http URL",
        "port 443 is left out of an https URL",
        "another https port is kept",
    ],
)  # fmt: skip
def test_the_public_port_is_in_the_url_unless_it_is_the_default(
    exposure: Exposure, url: str
) -> None:
    assert exposure.url("store-abc12345") == url


@pytest.mark.parametrize("engine", list(Engine), ids=lambda e: f"{e.value} chart")
def test_the_chart_urls_carry_the_public_port_but_the_ingress_host_does_not(
    engine: Engine,
) -> None:
    import asyncio

    from storeplane.render.charts import CHARTS_DIR
    from storeplane.render.helm import render_chart

    exposure = Exposure(base_domain="localhost", public_port=18080)
    store = _store(engine, PlanName.SMALL, exposure)
    profile = profile_for(engine)
    objects = asyncio.run(
        render_chart(CHARTS_DIR / profile.chart, store.id, store.namespace,
                     profile.values(store, exposure))
    )  # fmt: skip
    ingress = next(o for o in objects if o["kind"] == "Ingress")
    assert [r["host"] for r in ingress["spec"]["rules"]] == [f"{store.id}.localhost"]
    rendered = str(objects)
    assert f"http://{store.id}.localhost:18080" in rendered
