"""The catalogue the API and CLI show: plans (static, from the domain) and engines with their
versions (the engine catalogue, engines/catalogue.py, with the platform's image repositories)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from storeplane.domain.plans import PLANS, Plan
from storeplane.domain.store import Engine
from storeplane.engines import profile_for
from storeplane.engines.base import Release, image_repositories
from storeplane.engines.catalogue import catalogue_from
from storeplane.settings import Settings

ENGINE_DISPLAY_NAMES: dict[Engine, str] = {
    Engine.MEDUSA: "MedusaJS",
    Engine.WOOCOMMERCE: "WooCommerce",
}


@dataclass(frozen=True, slots=True)
class EngineVersionInfo:
    version: str
    default: bool
    images: Mapping[str, str]  # name -> repository:tag
    chart_version: str
    upgrades_from: tuple[str, ...]
    schema_migrations: bool
    restorable_from: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class EngineInfo:
    name: Engine
    display_name: str
    default_version: str = ""
    versions: tuple[EngineVersionInfo, ...] = field(default=())


def list_plans() -> list[Plan]:
    return list(PLANS.values())


def list_engines(settings: Settings | None = None) -> list[EngineInfo]:
    """Every engine with its catalogue versions, newest first (``settings`` choose the
    catalogue file and the image repositories; default: the shipped ones)."""
    settings = settings or Settings()
    catalogue = catalogue_from(settings.engine_catalogue)
    repositories = image_repositories(settings)
    infos = []
    for engine in Engine:
        versions = catalogue.for_engine(engine)
        repository = repositories.get(engine) or profile_for(engine).default_image_repository
        infos.append(
            EngineInfo(
                engine,
                ENGINE_DISPLAY_NAMES[engine],
                versions.default.version,
                tuple(
                    EngineVersionInfo(
                        v.version,
                        v.default,
                        Release(v, repository).image_refs(),
                        v.chart_version,
                        v.upgrades_from,
                        v.schema_migrations,
                        v.restorable_from,
                    )
                    for v in versions.versions
                ),
            )
        )
    return infos
