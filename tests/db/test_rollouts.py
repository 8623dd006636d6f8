"""``SqlRolloutRepository`` on SQLite and PostgreSQL: a store in one active rollout at a time,
saves guarded by revision and lease, one driver per rollout, stores freed when it ends."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from storeplane.db import SqlRolloutRepository, SqlStoreRepository
from storeplane.domain.errors import InvalidTransitionError, RolloutNotFoundError
from storeplane.domain.rollouts import (
    Candidate,
    Gate,
    MemberStatus,
    Rollout,
    RolloutPhase,
    Selector,
    new_rollout_id,
    plan_waves,
)
from storeplane.domain.store import Store
from tests.db.helpers import T0, created_event, make_store

LEASE = timedelta(seconds=30)


def rollout_of(stores: list[Store], **changes: object) -> Rollout:
    members = plan_waves(
        [Candidate(s.id, s.name, "2.20.1") for s in stores], [1, "100%"], "2.21.2", now=T0
    )
    rollout = Rollout(
        id=new_rollout_id(),
        engine="medusa",
        to_version="2.21.2",
        selector=Selector(labels={"tier": "gold"}),
        waves=(1, "100%"),
        max_failures=0,
        gate=Gate.READY,
        phase=RolloutPhase.RUNNING,
        current_wave=0,
        message="created",
        created_by="admin",
        created_at=T0,
        updated_at=T0,
        members=members,
    )
    return replace(rollout, **changes)  # type: ignore[arg-type]


@pytest.fixture
def rollouts(repo: SqlStoreRepository) -> SqlRolloutRepository:
    return SqlRolloutRepository(repo.engine)


def stores_in(repo: SqlStoreRepository, *names: str) -> list[Store]:
    made = [make_store(name) for name in names]
    for store in made:
        repo.create(store, [created_event(store)])
    return made


def test_a_rollout_reads_back_as_it_was_written(
    repo: SqlStoreRepository, rollouts: SqlRolloutRepository
) -> None:
    rollout = rollouts.create(rollout_of(stores_in(repo, "shop-b", "shop-a")))
    assert rollouts.get(rollout.id) == rollout
    assert [r.id for r in rollouts.list_recent()] == [rollout.id]
    with pytest.raises(RolloutNotFoundError):
        rollouts.get("rollout-nothere0")


def test_a_store_in_an_active_rollout_cannot_join_another_until_it_ends(
    repo: SqlStoreRepository, rollouts: SqlRolloutRepository
) -> None:
    shops = stores_in(repo, "shop-a", "shop-b")
    first = rollouts.create(rollout_of(shops))
    with pytest.raises(InvalidTransitionError, match=f"shop-a \\({first.id}\\)"):
        rollouts.create(rollout_of(shops[:1]))
    ended = rollouts.save(first.abort(now=T0, by="admin"))
    assert ended is not None
    rollouts.create(rollout_of(shops[:1]))


def test_a_save_from_a_stale_read_is_refused(
    repo: SqlStoreRepository, rollouts: SqlRolloutRepository
) -> None:
    rollout = rollouts.create(rollout_of(stores_in(repo, "shop-a")))
    paused = rollouts.save(rollout.pause(now=T0, by="admin"))
    assert paused is not None and paused.revision == 2
    assert rollouts.save(rollout.abort(now=T0, by="admin")) is None  # read before the pause
    assert rollouts.get(rollout.id).phase == RolloutPhase.PAUSED


def test_one_driver_holds_a_rollout_until_its_lease_expires(
    repo: SqlStoreRepository, rollouts: SqlRolloutRepository
) -> None:
    rollout = rollouts.create(rollout_of(stores_in(repo, "shop-a")))
    assert rollouts.claim(owner="one", now=T0, lease=LEASE, limit=5) == [rollout.id]
    assert rollouts.claim(owner="two", now=T0, lease=LEASE, limit=5) == []
    # Only the holder's save lands.
    assert rollouts.save(rollout, owner="two") is None
    saved = rollouts.save(rollout, owner="one")
    assert saved is not None
    later = T0 + LEASE + timedelta(seconds=1)
    assert rollouts.claim(owner="two", now=later, lease=LEASE, limit=5) == [rollout.id]
    assert rollouts.lease_of(rollout.id)[0] == "two"


def test_a_finished_rollout_is_not_claimed_and_frees_its_stores(
    repo: SqlStoreRepository, rollouts: SqlRolloutRepository
) -> None:
    (shop,) = stores_in(repo, "shop-a")
    rollout = rollouts.create(rollout_of([shop]))
    driven = replace(repo.get(shop.id), rollout_id=rollout.id, revision=shop.revision + 1)
    assert repo.save_intent(driven, expected_revision=shop.revision, events=[])
    assert repo.get(shop.id).rollout_id == rollout.id
    done = replace(
        rollout,
        phase=RolloutPhase.SUCCEEDED,
        members=tuple(replace(m, status=MemberStatus.DONE) for m in rollout.members),
    )
    assert rollouts.save(done) is not None
    assert repo.get(shop.id).rollout_id is None
    assert rollouts.claim(owner="one", now=T0, lease=LEASE, limit=5) == []
