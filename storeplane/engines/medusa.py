"""MedusaJS v2: the ``medusa-store`` chart (server, worker, migration and seed Jobs, PostgreSQL,
Redis) and its health check, Medusa's ``GET /health`` answering ``OK``."""

from __future__ import annotations

from storeplane.domain.store import Engine, Store
from storeplane.engines.base import (
    EngineProfile,
    Exposure,
    HealthCheck,
    Release,
    Values,
    admin_email,
)

SERVER_SERVICE = "medusa-server"
PORT = 9000
# Our own image recipe (images/medusa), one tag per catalogue version.
IMAGE_REPOSITORY = "ghcr.io/storeplane/medusa-store"


def _values(store: Store, exposure: Exposure, release: Release) -> Values:
    # The seed Job creates the admin with this login; storeplane knows it without reading
    # the chart (e.g. for an order check through the admin API).
    return {
        "image": release.image("medusa"),
        "seed": {"enabled": True, "adminEmail": admin_email(store, exposure)},
    }


def _healthy(code: int, body: str) -> bool:
    return code == 200 and body.strip() == "OK"


PROFILE = EngineProfile(
    engine=Engine.MEDUSA,
    display_name="MedusaJS",
    chart="medusa-store",
    # Every container runs as non-root with a read-only root, no capabilities: see the README.
    pod_security="restricted",
    health=HealthCheck(
        service=SERVER_SERVICE,
        port=PORT,
        path="/health",
        accepts=_healthy,
        expectation='HTTP 200 "OK"',
    ),
    default_image_repository=IMAGE_REPOSITORY,
    # `medusa db:migrate` (templates/migrate-job.yaml): gates server and worker on upgrades.
    migration_component="migrate",
    engine_values=_values,
)
