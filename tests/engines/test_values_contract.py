"""The values each engine module computes are exactly what its chart accepts: every key the
module sets exists in the chart's values.yaml, and the merged values validate against the
chart's values.schema.json for every plan and exposure (without a helm run)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import jsonschema
import pytest
import yaml

from storeplane.domain.plans import PlanName
from storeplane.domain.store import Engine, Store, StoreSpec
from storeplane.engines import CREDENTIAL_KEYS, CREDENTIALS_SECRET, ENGINES, Exposure, profile_for
from storeplane.engines.base import admin_email
from storeplane.render.charts import CHARTS_DIR

NOW = datetime(2026, 1, 2, tzinfo=UTC)
EXPOSURES = {
    "plain HTTP": Exposure(),
    "TLS with an issuer": Exposure(base_domain="shops.example.com", tls=True, cluster_issuer="le"),
}


def _store(engine: Engine, plan: PlanName) -> Store:
    return Store.create(
        StoreSpec(name="contract-shop", engine=engine, plan=plan),
        store_id="store-c0ntract",
        url=None,
        now=NOW,
        deadline=timedelta(minutes=10),
    )


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """Helm's merge of user values over a chart's defaults (maps merge, the rest replaces)."""
    merged = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _missing_keys(values: dict[str, Any], defaults: dict[str, Any], prefix: str = "") -> list[str]:
    missing = []
    for key, value in values.items():
        if key not in defaults:
            missing.append(prefix + key)
        elif isinstance(value, dict) and isinstance(defaults[key], dict) and defaults[key]:
            missing += _missing_keys(value, defaults[key], f"{prefix}{key}.")
    return missing


CASES = [
    pytest.param(engine, plan, exposure, id=f"{engine.value} on {plan.value} with {what}")
    for engine in Engine
    for plan in PlanName
    for what, exposure in EXPOSURES.items()
]


@pytest.mark.parametrize(("engine", "plan", "exposure"), CASES)
def test_engine_values_fit_the_chart_schema_exactly(
    engine: Engine, plan: PlanName, exposure: Exposure
) -> None:
    profile = profile_for(engine)
    chart = CHARTS_DIR / profile.chart
    defaults = yaml.safe_load((chart / "values.yaml").read_text())
    schema = json.loads((chart / "values.schema.json").read_text())
    values = profile.values(_store(engine, plan), exposure)
    assert _missing_keys(values, defaults) == [], "the module sets keys the chart does not have"
    jsonschema.validate(_merge(defaults, values), schema)


@pytest.mark.parametrize("engine", list(Engine), ids=[e.value for e in Engine])
def test_the_admin_login_and_url_follow_the_exposure(engine: Engine) -> None:
    store = _store(engine, PlanName.SMALL)
    exposure = EXPOSURES["TLS with an issuer"]
    profile = profile_for(engine)
    assert profile.url(store, exposure) == "https://store-c0ntract.shops.example.com"
    assert profile.admin_email(store, exposure) == "admin@store-c0ntract.shops.example.com"
    assert admin_email(store, exposure) == profile.admin_email(store, exposure)
    values = profile.values(store, exposure)
    section = values.get("seed") or values.get("setup")
    assert section is not None and section["adminEmail"] == profile.admin_email(store, exposure)


def test_woocommerce_asks_for_the_setup_egress_and_medusa_needs_none() -> None:
    store = _store(Engine.WOOCOMMERCE, PlanName.SMALL)
    values = profile_for(Engine.WOOCOMMERCE).values(store, Exposure())
    assert values["setup"]["egress"] == {"enabled": True}
    medusa = profile_for(Engine.MEDUSA).values(_store(Engine.MEDUSA, PlanName.SMALL), Exposure())
    assert "egress" not in json.dumps(medusa)


def test_the_public_names_the_reconciler_imports_are_kept() -> None:
    from storeplane.engines import registry

    assert CREDENTIALS_SECRET == registry.CREDENTIALS_SECRET == "store-credentials"
    assert registry.CREDENTIAL_KEYS == CREDENTIAL_KEYS
    assert {"db-password", "admin-password", "jwt-secret", "cookie-secret"} <= set(CREDENTIAL_KEYS)
    assert set(ENGINES) == set(Engine)
