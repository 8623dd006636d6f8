"""fail_migration: when the new version's migration Job fails (a real process that exits 1,
run by the simulator's node), the store is Failed with the Job's cause and keeps serving the
version it ran: server and worker untouched, nothing rolled back, said once."""

from __future__ import annotations

from pathlib import Path

from storeplane.domain.store import Phase
from tests.engine_catalogues import FAILING, FAILING_TAG, A
from tests.reconciler.conftest import FailingSim
from tests.reconciler.upgrades import images, jobs, messages, ready_at, upgrade_harness, upgraded

REPO_IMAGE = "ghcr.io/storeplane/medusa-store"


async def test_a_failed_migration_fails_the_store_with_its_cause_and_keeps_the_old_version(
    failing_sim: FailingSim, tmp_path: Path
) -> None:
    async with upgrade_harness(failing_sim.sim, tmp_path) as harness:
        store = await ready_at(harness, A)
        before = images(harness, store)
        store = await harness.until(
            upgraded(harness, store, FAILING), {Phase.READY, Phase.FAILED}, passes=200
        )

        assert store.phase == Phase.FAILED
        assert store.running_engine_version == A  # what it still serves
        cause = store.last_error or ""
        assert f"upgrade of medusa from {A} to {FAILING}" in cause
        assert "BackoffLimitExceeded" in cause
        assert "container migrate exited with code 1" in cause
        assert 'column "total" of relation "order" already exists' in cause  # its log tail
        assert f"still serves {A}" in cause and "retry" in cause
        assert images(harness, store) == before  # server and worker untouched
        assert f"{REPO_IMAGE}:{FAILING_TAG}" in jobs(harness, store).values()  # kept to inspect

        for _ in range(3):  # later passes (resyncs) keep the cause and do not repeat it
            store = (await harness.once(store)).store
        assert store.phase == Phase.FAILED and store.last_error == cause
        assert messages(harness, store, "MigrationFailed") == [cause]
        assert images(harness, store) == before
