"""``Annotated`` dependency shortcuts for the routers: repository, settings, actor, notifier.

``create_app`` puts the shared objects on ``app.state``; these read them back, so a test can
build an app around any repository.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request

from storeplane.domain.ports import StoreRepository
from storeplane.services.stores import API_ACTOR
from storeplane.settings import Settings

log = logging.getLogger(__name__)


def get_repository(request: Request) -> StoreRepository:
    repository: StoreRepository = request.app.state.repository
    return repository


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_actor() -> str:
    """Who is acting. Until the API has authentication, every caller is ``api``."""
    return API_ACTOR


def get_notifier(request: Request) -> Callable[[str], None]:
    """Call with a store id after an intent write so the in-process reconciler wakes it."""
    on_change: Callable[[str], None] | None = request.app.state.on_change

    def notify(store_id: str) -> None:
        if on_change is None:
            return
        try:
            on_change(store_id)
        except Exception:  # the write succeeded; a missed wake-up is healed by the resync
            log.exception("on_change hook failed for store %s", store_id)

    return notify


RepositoryDep = Annotated[StoreRepository, Depends(get_repository)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
ActorDep = Annotated[str, Depends(get_actor)]
NotifyDep = Annotated[Callable[[str], None], Depends(get_notifier)]
