"""``/healthz`` (the process answers) and ``/readyz`` (the database answers too)."""

from __future__ import annotations

import logging
from typing import Protocol, runtime_checkable

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from storeplane.api.deps import RepositoryDep
from storeplane.api.errors import problem_response
from storeplane.api.routing import ApiRoute
from storeplane.api.schemas import Health

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
def healthz() -> Health:
    return Health(status="ok")


@router.get(
    "/readyz",
    response_model=Health,
    summary="Readiness",
    description="200 when the database answers `SELECT 1`; 503 (a problem document) otherwise.",
    responses={503: {"description": "The database is unreachable."}},
)
def readyz(repo: RepositoryDep) -> Health | JSONResponse:
    if isinstance(repo, SupportsPing):
        try:
            repo.ping()
        except Exception as exc:
            log.warning("readiness check failed: %s", exc)
            return problem_response(
                503, f"the database is unreachable ({type(exc).__name__}); check database_url"
            )
    return Health(status="ok")
