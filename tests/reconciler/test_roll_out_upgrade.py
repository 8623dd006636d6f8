"""roll_out_upgrade: once the new version's migration Job succeeded, server and worker are
rolled out at the new version, the old Job is pruned, and the store is Ready running it."""

from __future__ import annotations

from pathlib import Path

from storeplane.domain.store import Phase
from storeplane.sim.runner import RunningSimulator
from tests.engine_catalogues import A, B
from tests.reconciler.upgrades import images, jobs, messages, ready_at, upgrade_harness, upgraded

REPO_IMAGE = "ghcr.io/storeplane/medusa-store"


async def test_an_upgrade_converges_at_the_new_version_with_its_events_in_order(
    sim: RunningSimulator, tmp_path: Path
) -> None:
    async with upgrade_harness(sim, tmp_path) as harness:
        store = await ready_at(harness, A)
        generation = store.generation
        store = await harness.until(upgraded(harness, store, B), {Phase.READY, Phase.FAILED})

        assert store.phase == Phase.READY, store.last_error
        assert (store.spec.engine_version, store.running_engine_version) == (B, B)
        assert store.observed_generation == generation + 1
        assert set(images(harness, store).values()) == {f"{REPO_IMAGE}:{B}", "redis:7-alpine"}
        migrate = [i for n, i in jobs(harness, store).items() if n.startswith("medusa-migrate-")]
        assert migrate == [f"{REPO_IMAGE}:{B}"]  # the previous version's Job was pruned
        reasons = [r for r in harness.reasons(store) if r in {
            "UpgradeStarted", "MigrationSucceeded", "WorkloadsApplied", "WorkloadsPruned",
            "UpgradeCompleted"}]  # fmt: skip
        # The first WorkloadsApplied is the provisioning at A.
        assert reasons[1:] == [
            "UpgradeStarted", "MigrationSucceeded", "WorkloadsApplied", "WorkloadsPruned",
            "UpgradeCompleted",
        ]  # fmt: skip
        (succeeded,) = messages(harness, store, "MigrationSucceeded")
        assert (
            f"medusa {A} → {B}" in succeeded
            and f"rolling out server and worker at {B}" in succeeded
        )
        (completed,) = messages(harness, store, "UpgradeCompleted")
        assert f"upgraded from {A} to {B}" in completed


async def test_a_converged_store_at_its_version_is_not_upgraded_again(
    sim: RunningSimulator, tmp_path: Path
) -> None:
    async with upgrade_harness(sim, tmp_path) as harness:
        store = await ready_at(harness, B)
        again = (await harness.once(store)).store
        assert again.phase == Phase.READY
        assert "UpgradeStarted" not in harness.reasons(store)
