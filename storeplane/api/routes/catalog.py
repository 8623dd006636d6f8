"""``/api/v1/plans`` and ``/api/v1/engines``: what a store can be created with."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from storeplane.api.deps import SettingsDep, current_user
from storeplane.api.routing import ApiRoute
from storeplane.api.schemas import EnginePublic, EnginesPublic, PlanPublic, PlansPublic
from storeplane.services import catalog

router = APIRouter(
    prefix="/api/v1", tags=["catalog"], dependencies=[Depends(current_user)], route_class=ApiRoute
)


@router.get(
    "/plans",
    response_model=PlansPublic,
    summary="List plans",
    description="Each plan's namespace quota and the default requests and limits of its containers.",
)
def list_plans() -> PlansPublic:
    return PlansPublic(items=[PlanPublic.from_domain(p) for p in catalog.list_plans()])


@router.get(
    "/engines",
    response_model=EnginesPublic,
    summary="List engines",
    description="The e-commerce engines a store can run, each with its versions from the "
    "engine catalogue (newest first): the default, the images (`repository:tag`), the chart "
    "version and which versions each one upgrades from.",
)
def list_engines(settings: SettingsDep) -> EnginesPublic:
    return EnginesPublic(
        items=[EnginePublic.from_domain(e) for e in catalog.list_engines(settings)]
    )
