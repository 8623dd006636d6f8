"""``/metrics``: Prometheus exposition of the metric set in :mod:`storeplane.observability.metrics`."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from storeplane.api.routing import ApiRoute

router = APIRouter(tags=["health"], route_class=ApiRoute)


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    description="Reconcile counts and durations, work-queue depth, stores by phase, "
    "provisioning duration and API latency, in the Prometheus text format.",
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}, "description": "Prometheus text format."}},
)
def metrics() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
