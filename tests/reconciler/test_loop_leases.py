"""The loop never runs a pass without holding the store's lease, even when a pass ends (and
releases its lease) while a claim for more work is on its way: the claim had renewed that very
lease, so starting another pass on what it returned would run with no lease at all, and another
replica could take the store meanwhile (seen once in tests/scenarios/test_replicas.py)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Collection
from datetime import datetime, timedelta

from storeplane.db import SqlStoreRepository
from storeplane.domain.store import Phase, Store
from storeplane.reconciler.loop import ReconcileLoop
from tests.reconciler.conftest import Harness


class SlowClaims(SqlStoreRepository):
    """Holds back the answer of a claim that returned a store whose first pass is still running
    until that pass has released its lease: the interleaving the race needs, made certain."""

    def __init__(self, repo: SqlStoreRepository, store_id: str) -> None:
        super().__init__(repo.engine)
        self.store_id = store_id
        self.claims_returning_it = 0
        self.released = threading.Event()
        self.saves: list[bool] = []

    def claim_due(
        self,
        *,
        owner: str,
        now: datetime,
        lease: timedelta,
        limit: int,
        running: Collection[str] = (),
    ) -> list[Store]:
        got = super().claim_due(owner=owner, now=now, lease=lease, limit=limit, running=running)
        if any(s.id == self.store_id for s in got):
            self.claims_returning_it += 1
            if self.claims_returning_it > 1 and not self.released.is_set():
                self.released.wait(10)
        return got

    def release(self, store_id: str, *, owner: str) -> None:
        super().release(store_id, owner=owner)
        if store_id == self.store_id:
            self.released.set()

    def save_status(self, store: Store, *, owner: str, release: bool = False) -> bool:
        saved = super().save_status(store, owner=owner, release=release)
        if store.id == self.store_id:
            self.saves.append(saved)
        return saved


async def test_a_pass_ending_during_a_claim_does_not_start_another_without_the_lease(
    harness: Harness, repo: SqlStoreRepository
) -> None:
    store = harness.new_store()
    repo.create(store, [])
    slow = SlowClaims(repo, store.id)
    # A short tick: many claims are made while the store's first pass runs.
    loop = ReconcileLoop(
        slow, harness.ctx, owner="a", workers=4, lease=timedelta(seconds=30), tick=0.02
    )
    stop = asyncio.Event()
    task = asyncio.create_task(loop.run(stop))
    try:
        for _ in range(600):
            if slow.released.is_set() and loop.passes >= 2:
                break
            await asyncio.sleep(0.02)
    finally:
        stop.set()
        await task
    assert slow.released.is_set(), "the first pass never ended: the test proves nothing"
    assert slow.saves and all(slow.saves), (
        f"a pass ran without the lease: its status save was refused ({slow.saves})"
    )
    assert repo.get(store.id).phase in {Phase.PROVISIONING, Phase.READY}
