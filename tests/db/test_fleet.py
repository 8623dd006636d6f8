"""``SqlFleetReader``: the fleet's counts, provisioning durations, failing stores and recent
events as the database computes them, for the whole fleet and for one owner; on SQLite and
PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from storeplane.db import SqlStoreRepository, SqlUserRepository
from storeplane.db.fleet import SqlFleetReader
from storeplane.domain.conditions import Reason
from storeplane.domain.events import Event
from storeplane.domain.plans import PlanName
from storeplane.domain.store import Engine, Phase, Store
from storeplane.domain.users import Role
from storeplane.services import auth
from tests.db.helpers import T0, created_event, make_store

OWNER = "fleet-test"


def _status(repo: SqlStoreRepository, store: Store, **changes: object) -> Store:
    """Write status fields the way the reconciler does: under the store's lease."""
    (leased,) = repo.claim_ids([store.id], owner=OWNER, now=T0, lease=timedelta(minutes=1))
    changed = replace(leased, **changes)  # type: ignore[arg-type]
    assert repo.save_status(changed, owner=OWNER)
    repo.release(store.id, owner=OWNER)
    return changed


def _ready_after(repo: SqlStoreRepository, store: Store, seconds: float) -> None:
    repo.append_events(
        [
            Event.normal(
                store.id,
                Reason.PHASE_CHANGED,
                "Provisioning → Ready: store is ready",
                time=store.created_at + timedelta(seconds=seconds),
                generation=1,
            )
        ]
    )


@pytest.fixture
def fleet(repo: SqlStoreRepository) -> tuple[SqlFleetReader, str, str]:
    """Five stores: four of an admin's (two Ready after 10 s and 40 s, one Failed, one
    Pending) and one of a member's, Ready after 100 s. Returns the reader and both user ids."""
    users = SqlUserRepository(repo.engine)
    admin = auth.create_user(users, "root", Role.ADMIN)
    member = auth.create_user(users, "alice")
    made = []
    for i, (engine, plan, owner) in enumerate(
        [
            (Engine.MEDUSA, PlanName.SMALL, admin.id),
            (Engine.MEDUSA, PlanName.MEDIUM, admin.id),
            (Engine.WOOCOMMERCE, PlanName.SMALL, admin.id),
            (Engine.MEDUSA, PlanName.SMALL, admin.id),
            (Engine.MEDUSA, PlanName.LARGE, member.id),
        ]
    ):
        store = replace(
            make_store(f"shop-{i}", now=T0 + timedelta(minutes=i), engine=engine, plan=plan),
            owner_id=owner,
        )
        made.append(repo.create(store, [created_event(store)]))
    _ready_after(repo, made[0], 10)
    _status(repo, made[0], phase=Phase.READY)
    _ready_after(repo, made[1], 40)
    _status(repo, made[1], phase=Phase.READY)
    _status(repo, made[2], phase=Phase.FAILED, last_error="DeadlineExceeded: pods never ready")
    _ready_after(repo, made[4], 100)
    _status(repo, made[4], phase=Phase.READY)
    return SqlFleetReader(repo.engine), admin.id, member.id


def test_an_admin_sees_the_whole_fleet_counted_by_the_database(
    fleet: tuple[SqlFleetReader, str, str],
) -> None:
    reader, _, _ = fleet
    summary = reader.summary(owner_id=None)
    assert summary.total == 5
    assert summary.by_phase == {"Ready": 3, "Failed": 1, "Pending": 1}
    assert summary.by_engine == {"medusa": 4, "woocommerce": 1}
    assert summary.by_plan == {"small": 3, "medium": 1, "large": 1}
    assert summary.durations.sample == 3
    assert (summary.durations.p50, summary.durations.max) == (40.0, 100.0)
    assert sum(b.count for b in summary.durations.buckets) == 3
    assert [(f.name, f.message) for f in summary.failing] == [
        ("shop-2", "DeadlineExceeded: pods never ready")
    ]
    ids = [e.event.id for e in summary.recent_events]
    assert ids == sorted(ids, reverse=True) and len(ids) == 8  # 5 Created + 3 PhaseChanged


def test_a_member_sees_only_its_own_stores_in_every_figure(
    fleet: tuple[SqlFleetReader, str, str],
) -> None:
    reader, _, member = fleet
    summary = reader.summary(owner_id=member)
    assert (summary.total, summary.by_phase, summary.by_plan) == (1, {"Ready": 1}, {"large": 1})
    assert (summary.durations.sample, summary.durations.p50) == (1, 100.0)
    assert summary.failing == ()
    assert {e.store_name for e in summary.recent_events} == {"shop-4"}


def test_the_duration_sample_is_the_newest_stores_only(
    fleet: tuple[SqlFleetReader, str, str],
) -> None:
    reader, _, _ = fleet
    # The two newest stores: the member's (100 s) and the Pending one (not Ready: no figure).
    durations = reader.summary(owner_id=None, sample=2).durations
    assert (durations.sample, durations.p50) == (1, 100.0)


def test_the_change_feed_reads_events_after_an_id_oldest_first(
    fleet: tuple[SqlFleetReader, str, str],
) -> None:
    reader, _, member = fleet
    latest = reader.latest_event_id()
    every = reader.recent_events(owner_id=None, limit=100, after_id=0)
    assert [e.event.id for e in every] == sorted(e.event.id or 0 for e in every)
    assert every[-1].event.id == latest
    assert reader.recent_events(owner_id=None, limit=100, after_id=latest) == []
    assert {e.owner_id for e in reader.recent_events(owner_id=member, limit=100, after_id=0)} == {
        member
    }


def test_live_stores_are_counted_per_owner(fleet: tuple[SqlFleetReader, str, str]) -> None:
    reader, admin, member = fleet
    assert reader.live_stores_by_owner() == {admin: 4, member: 1}
