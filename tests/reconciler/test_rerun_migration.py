"""rerun_migration: after a failed migration was fixed, a retry deletes the failed Job and its
pods and runs it again, and the upgrade completes from there."""

from __future__ import annotations

from pathlib import Path

from storeplane.domain.store import Phase
from tests.engine_catalogues import FAILING, A
from tests.reconciler.conftest import FailingSim
from tests.reconciler.upgrades import messages, ready_at, upgrade_harness, upgraded


async def test_a_retry_after_the_fix_reruns_the_migration_and_completes_the_upgrade(
    failing_sim: FailingSim, tmp_path: Path
) -> None:
    async with upgrade_harness(failing_sim.sim, tmp_path) as harness:
        failing_sim.fixed.unlink(missing_ok=True)
        store = await ready_at(harness, A)
        store = await harness.until(
            upgraded(harness, store, FAILING), {Phase.READY, Phase.FAILED}, passes=200
        )
        assert store.phase == Phase.FAILED

        failing_sim.fixed.touch()  # the operator's fix
        try:
            ctx = harness.ctx
            retried = store.request_retry(now=ctx.clock(), deadline=ctx.timing.deadline)
            store = await harness.until(retried, {Phase.READY, Phase.FAILED}, passes=200)
        finally:
            failing_sim.fixed.unlink(missing_ok=True)

        assert store.phase == Phase.READY, store.last_error
        assert store.running_engine_version == FAILING
        (retry,) = messages(harness, store, "MigrationRetried")
        assert f"medusa {A} → {FAILING}: retrying" in retry and "Pod " in retry and "Job " in retry
        reasons = harness.reasons(store)
        assert reasons.count("MigrationFailed") == 1
        assert reasons.count("UpgradeStarted") == 2  # the first run and the rerun
        assert "UpgradeCompleted" in reasons
