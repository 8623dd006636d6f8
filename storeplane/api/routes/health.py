"""``/healthz`` (the process answers) and ``/readyz`` (the database answers too; and what
this process knows of the cluster's reachability)."""

from __future__ import annotations

import logging
from typing import Protocol, runtime_checkable

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from storeplane.api.deps import RepositoryDep
from storeplane.api.errors import database_unavailable
from storeplane.api.routing import ApiRoute
from storeplane.api.schemas import Component, Health, Readiness
from storeplane.db.outage import as_outage
from storeplane.domain.errors import DatabaseUnavailableError
from storeplane.observability.outages import CLUSTER, DATABASE, DependencyState

router = APIRouter(tags=["health"], route_class=ApiRoute)
log = logging.getLogger(__name__)


@runtime_checkable
class SupportsPing(Protocol):
    def ping(self) -> None: ...


@router.get(
    "/healthz",
    response_model=Health,
    summary="Liveness",
    description="200 while the process can answer HTTP. Does not look at the database.",
)
async def healthz() -> Health:
    # Async: no I/O, so no trip through the thread pool (the API benchmark's floor).
    return Health(status="ok")


def _component(state: DependencyState) -> Component:
    if not state.available:
        status = "unavailable"
    else:
        status = "ok" if state.last_success is not None else "unknown"
    return Component(
        status=status,
        message=state.cause,
        down_since=state.down_since,
        last_success=state.last_success,
    )


@router.get(
    "/readyz",
    response_model=Readiness,
    summary="Readiness",
    description="200 when the database answers `SELECT 1`; 503 (a problem document, with "
    "`Retry-After`) otherwise. The body also says whether this process reaches the cluster "
    "(`components.cluster`, from the reconciler's observations: `unavailable` after two "
    "failed observations in a row, `ok` again after one that worked); an unreachable cluster "
    "makes the status `degraded` but stays 200, since the API still serves and takes intent.",
    responses={503: {"description": "The database is unreachable."}},
)
def readyz(repo: RepositoryDep) -> Readiness | JSONResponse:
    if isinstance(repo, SupportsPing):
        try:
            repo.ping()
        except Exception as exc:
            outage = as_outage(exc)
            if outage is None:
                log.warning("readiness check failed: %s", exc)
                outage = DatabaseUnavailableError(type(exc).__name__)
            return database_unavailable(outage)
        DATABASE.succeeded()
    components = {"database": _component(DATABASE.state())}
    cluster = CLUSTER.state()
    if cluster.last_success is not None or not cluster.available:
        components["cluster"] = _component(cluster)
    degraded = any(c.status == "unavailable" for c in components.values())
    return Readiness(status="degraded" if degraded else "ok", components=components)
