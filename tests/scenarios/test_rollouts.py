"""Fleet rollouts end to end against a real ``storeplane dev`` (simulated workloads):

- five stores at A, a rollout to B in waves ``[1, 2, "100%"]``: Succeeded, every store at B,
  the store events show the waves in order;
- the same to a version whose migration Job fails: the first wave's store keeps serving A, the
  rollout halts after wave 1 with the cause, the other stores are never touched; once the
  migration is fixed, ``resume`` retries that store and goes on to Succeeded;
- SIGKILL of storeplane during a wave: after the restart the rollout ends Succeeded and no
  store was asked for the new version twice.

One ``storeplane dev`` serves the module; each test selects its own stores by a label. The
failing version's migration Job runs for real (a local script that exits 1 until a marker file
exists: tests/engine_catalogues.py ``failing_runtime``); every other container stays simulated.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.engine_catalogues import (
    FAILING,
    A,
    B,
    failing_runtime,
    failing_version,
    write_catalogue,
)
from tests.scenarios.dev_process import DevProcess, wait_until

MIGRATION_ERROR = 'column "total" of relation "order" already exists'


@dataclass
class Fleet:
    dev: DevProcess
    fixed: Path  # touch it to fix the FAILING version's migration


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    root = tmp_path_factory.mktemp("rollouts")
    fixed = root / "migration-fixed"
    # Only the FAILING image runs as a process (a script whose db:migrate exits 1 until
    # ``fixed`` exists); every other container stays simulated.
    runtimes = failing_runtime(root, fixed_marker=fixed)
    catalogue = write_catalogue(root / "catalogue.yaml", extra=(failing_version(),))
    process = DevProcess(
        root / "data",
        None,
        ready_delay=0.3,
        simulate_workloads=False,
        extra_args=("--runtimes", str(runtimes)),
        env={"STOREPLANE_ENGINE_CATALOGUE": str(catalogue)},
    )
    process.start()
    try:
        yield Fleet(process, fixed)
    finally:
        process.stop()


@pytest.fixture
def dev(fleet: Fleet) -> DevProcess:
    return fleet.dev


def five_stores(dev: DevProcess, group: str, count: int = 5) -> list[str]:
    """Five (or ``count``) Ready stores at version A labelled ``group=<group>``; their ids."""
    ids = []
    for n in range(count):
        response = dev.api(
            "POST",
            "/stores",
            json={
                "name": f"{group}-{n}",
                "engine": "medusa",
                "engine_version": A,
                "labels": {"group": group},
            },
        )
        assert response.status_code == 202, response.text
        ids.append(response.json()["id"])
    for store_id in ids:
        assert dev.wait_for(store_id, {"Ready"}, timeout=90)["running_engine_version"] == A
    return ids


def start(dev: DevProcess, group: str, version: str, **extra: Any) -> dict[str, Any]:
    body = {
        "engine": "medusa",
        "to_version": version,
        "selector": {"labels": {"group": group}},
        "waves": [1, 2, "100%"],
        **extra,
    }
    response = dev.api("POST", "/rollouts", json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


def rollout(dev: DevProcess, rollout_id: str) -> dict[str, Any]:
    return dict(dev.api("GET", f"/rollouts/{rollout_id}").json())


def wait_phase(
    dev: DevProcess, rollout_id: str, phases: set[str], timeout: float = 120
) -> dict[str, Any]:
    return dict(
        wait_until(
            lambda: rollout(dev, rollout_id),
            lambda r: r["phase"] in phases,
            timeout,
            f"rollout {rollout_id} to reach {phases}",
            dev.log_path,
        )
    )


def rollout_events(dev: DevProcess, store_id: str, rollout_id: str) -> list[dict[str, Any]]:
    return [e for e in dev.events(store_id) if e["actor"] == f"rollout:{rollout_id}"]


def version_requests(dev: DevProcess, store_id: str, version: str) -> int:
    """How many times the store was asked to change to ``version``."""
    return sum(
        1
        for e in dev.events(store_id)
        if e["reason"] == "UpdateRequested" and f"to {version}" in e["message"]
    )


def wave_started_at(dev: DevProcess, store_id: str, rollout_id: str) -> int:
    """The event id of the store's RolloutWaveStarted (ids grow with time)."""
    (started,) = [
        e for e in rollout_events(dev, store_id, rollout_id) if e["reason"] == "RolloutWaveStarted"
    ]
    return int(started["id"])


def test_a_rollout_in_three_waves_takes_five_stores_to_b(dev: DevProcess) -> None:
    ids = five_stores(dev, "ready")
    created = start(dev, "ready", B)
    assert [len(w["stores"]) for w in created["waves"]] == [1, 1, 3]
    done = wait_phase(dev, created["id"], {"Succeeded", "Halted"})
    assert done["phase"] == "Succeeded", done["message"]
    assert [(w["done"], w["failed"]) for w in done["waves"]] == [(1, 0), (1, 0), (3, 0)]
    for store_id in ids:
        store = dev.store(store_id)
        assert (store["engine_version"], store["running_engine_version"]) == (B, B)
        assert store["phase"] == "Ready" and store["rollout_id"] is None
        reasons = [e["reason"] for e in rollout_events(dev, store_id, created["id"])]
        assert reasons[0] == "RolloutWaveStarted" and "RolloutStoreUpgraded" in reasons, reasons
        assert version_requests(dev, store_id, B) == 1
    # The waves in order: every store of wave n was done before any store of wave n+1 began.
    wave_of = {s["store_id"]: s["wave"] for s in done["stores"]}
    for earlier in ids:
        for later in ids:
            if wave_of[earlier] < wave_of[later]:
                upgraded = [
                    e["id"]
                    for e in rollout_events(dev, earlier, created["id"])
                    if e["reason"] == "RolloutStoreUpgraded"
                ]
                assert upgraded[0] < wave_started_at(dev, later, created["id"])


def test_a_failing_migration_halts_after_the_first_wave_and_resume_continues(
    fleet: Fleet,
) -> None:
    dev = fleet.dev
    ids = five_stores(dev, "failing")
    created = start(dev, "failing", FAILING)
    canary = created["waves"][0]["stores"][0]
    halted = wait_phase(dev, created["id"], {"Halted", "Succeeded"})
    assert halted["phase"] == "Halted"
    assert halted["current_wave"] == 1
    assert "1 store failed, more than max_failures=0 allows" in halted["message"]
    assert MIGRATION_ERROR in halted["message"], halted["message"]
    store = dev.store(canary)
    # The canary keeps serving A and says why the upgrade failed.
    assert store["running_engine_version"] == A and store["engine_version"] == FAILING
    assert MIGRATION_ERROR in (store["last_error"] or "")
    assert store["rollout_id"] == created["id"]
    for other in ids:
        if other != canary:
            untouched = dev.store(other)
            assert (untouched["engine_version"], untouched["phase"]) == (A, "Ready")
            assert rollout_events(dev, other, created["id"]) == []
    # The operator fixes the migration, then resumes: the failed store is retried first.
    fleet.fixed.touch()
    assert dev.api("POST", f"/rollouts/{created['id']}/resume").json()["phase"] == "Running"
    done = wait_phase(dev, created["id"], {"Succeeded", "Halted"})
    assert done["phase"] == "Succeeded", done["message"]
    for store_id in ids:
        assert dev.store(store_id)["running_engine_version"] == FAILING
        assert version_requests(dev, store_id, FAILING) == 1
    assert "RolloutStoreRetried" in [
        e["reason"] for e in rollout_events(dev, canary, created["id"])
    ]


def test_sigkill_during_a_wave_resumes_and_upgrades_no_store_twice(dev: DevProcess) -> None:
    ids = five_stores(dev, "crash", count=3)
    created = start(dev, "crash", B, waves=[1, "100%"])
    during = wait_until(
        lambda: rollout(dev, created["id"]),
        lambda r: r["current_wave"] == 2 or r["phase"] != "Running",
        90,
        "the second wave to start",
        dev.log_path,
    )
    # Killed while wave 2 runs: its two stores were asked for B, and are not done yet.
    assert during["phase"] == "Running" and during["waves"][1]["done"] < 2, during
    dev.kill()
    dev.start()
    done = wait_phase(dev, created["id"], {"Succeeded", "Halted"})
    assert done["phase"] == "Succeeded", done["message"]
    for store_id in ids:
        assert dev.store(store_id)["running_engine_version"] == B
        assert version_requests(dev, store_id, B) == 1, dev.events(store_id)
        reasons = [e["reason"] for e in rollout_events(dev, store_id, created["id"])]
        assert reasons.count("RolloutWaveStarted") == 1, reasons
