"""The catalogue the API and CLI show: plans and engines (static, from the domain)."""

from __future__ import annotations

from dataclasses import dataclass

from storeplane.domain.plans import PLANS, Plan
from storeplane.domain.store import Engine

ENGINE_DISPLAY_NAMES: dict[Engine, str] = {
    Engine.MEDUSA: "MedusaJS",
    Engine.WOOCOMMERCE: "WooCommerce",
}


@dataclass(frozen=True, slots=True)
class EngineInfo:
    name: Engine
    display_name: str


def list_plans() -> list[Plan]:
    return list(PLANS.values())


def list_engines() -> list[EngineInfo]:
    return [EngineInfo(engine, ENGINE_DISPLAY_NAMES[engine]) for engine in Engine]
