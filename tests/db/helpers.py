"""Small builders for repository tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from storeplane.domain.conditions import Reason
from storeplane.domain.events import Event
from storeplane.domain.plans import PlanName
from storeplane.domain.store import Engine, Store, StoreSpec, new_store_id

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def make_store(
    name: str = "acme-shop",
    *,
    now: datetime = T0,
    engine: Engine = Engine.MEDUSA,
    plan: PlanName = PlanName.SMALL,
) -> Store:
    store_id = new_store_id()
    return Store.create(
        StoreSpec(name=name, engine=engine, plan=plan),
        store_id=store_id,
        url=f"http://{store_id}.localtest.me",
        now=now,
        deadline=timedelta(minutes=10),
    )


def created_event(store: Store) -> Event:
    return Event.normal(
        store.id, Reason.CREATED, "created", time=store.created_at, generation=1, actor="tester"
    )
