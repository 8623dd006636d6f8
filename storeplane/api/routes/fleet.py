"""``/api/v1/fleet``: the fleet at a glance, for the console's overview page.

Thin: :mod:`storeplane.services.fleet` asks the database (counts, a bounded sample, the newest
rows) through the app's :class:`storeplane.domain.ports.FleetReader`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from storeplane.api.deps import CurrentUserDep, FleetDep
from storeplane.api.routing import ApiRoute
from storeplane.api.schemas import FleetPublic
from storeplane.domain.fleet import MAX_SAMPLE
from storeplane.services import fleet as service

router = APIRouter(prefix="/api/v1", tags=["fleet"], route_class=ApiRoute)


@router.get(
    "/fleet",
    response_model=FleetPublic,
    summary="The fleet at a glance",
    description=(
        "Counts of stores by phase, engine, plan and engine version; how long the newest "
        "`sample` stores took from `Created` to their first `Ready` (percentiles and histogram "
        "buckets); the failed stores with their reasons, newest first; the newest events of "
        "every store. An admin sees the whole fleet, a member only its own stores. Computed "
        "by the database, so it costs the same at 10 stores and at 10,000."
    ),
    responses={503: {"description": "This server keeps no fleet figures (no SQL database)."}},
)
def fleet_overview(
    fleet: FleetDep,
    user: CurrentUserDep,
    sample: Annotated[
        int, Query(ge=1, le=MAX_SAMPLE, description="How many of the newest stores to time.")
    ] = 100,
    failing: Annotated[int, Query(ge=0, le=20, description="How many failed stores.")] = 10,
    events: Annotated[int, Query(ge=0, le=100, description="How many recent events.")] = 20,
) -> FleetPublic:
    summary = service.fleet_summary(fleet, user, sample=sample, failing=failing, events=events)
    return FleetPublic.from_domain(summary)
