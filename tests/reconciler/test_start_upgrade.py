"""start_upgrade: a store asked for another engine version gets that version's migration Job,
and only it; server and worker keep running the version the store serves."""

from __future__ import annotations

from pathlib import Path

from storeplane.domain.store import Phase
from storeplane.sim.runner import RunningSimulator
from tests.engine_catalogues import A, B
from tests.reconciler.upgrades import images, jobs, messages, ready_at, upgrade_harness, upgraded

REPO_IMAGE = "ghcr.io/storeplane/medusa-store"


async def test_the_new_versions_migration_job_is_applied_alone_first(
    sim: RunningSimulator, tmp_path: Path
) -> None:
    async with upgrade_harness(sim, tmp_path) as harness:
        store = await ready_at(harness, A)
        before = images(harness, store)
        assert set(before.values()) >= {f"{REPO_IMAGE}:{A}"}
        (old_job,) = [n for n in jobs(harness, store) if n.startswith("medusa-migrate-")]

        store = (await harness.once(upgraded(harness, store, B))).store

        assert store.phase == Phase.UPDATING
        assert images(harness, store) == before  # server and worker untouched
        migrate = {n: i for n, i in jobs(harness, store).items() if n.startswith("medusa-migrate-")}
        assert migrate[old_job] == f"{REPO_IMAGE}:{A}"
        (new_job,) = set(migrate) - {old_job}
        assert migrate[new_job] == f"{REPO_IMAGE}:{B}"
        (started,) = messages(harness, store, "UpgradeStarted")
        assert f"medusa {A} → {B}" in started and new_job in started
        assert f"server and worker stay at {A}" in started
        assert store.running_engine_version == A
