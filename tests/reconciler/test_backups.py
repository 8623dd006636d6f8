"""The backup runner's bookkeeping against a real database (SQLite and PostgreSQL): schedules
come due as time passes (the clock is driven, nothing sleeps), retention deletes the oldest
scheduled backups past the limit from the folder target, expired final backups go, and a
backup whose runner died is taken over rather than lost."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from storeplane.db import SqlBackupRepository, SqlStoreRepository
from storeplane.domain.backups import (
    Backup,
    BackupKind,
    BackupPolicy,
    BackupStatus,
    uploads_location,
)
from storeplane.domain.store import Phase, Store
from storeplane.reconciler.backup_jobs import BackupTargetConfig
from storeplane.reconciler.backups import BackupRunner
from storeplane.reconciler.context import ReconcileContext
from tests.db.helpers import T0, created_event, make_store
from tests.reconciler.conftest import Harness


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self):  # type: ignore[no-untyped-def]
        return self.now


@pytest.fixture
def backups(repo: SqlStoreRepository) -> SqlBackupRepository:
    return SqlBackupRepository(repo.engine)


def _runner(
    repo: SqlStoreRepository, backups: SqlBackupRepository, folder: Path, clock: Clock
) -> BackupRunner:
    ctx = ReconcileContext(
        cluster=None,  # type: ignore[arg-type]  # bookkeeping only: no Job is started here
        renderer=None,  # type: ignore[arg-type]
        charts_dir=folder,
        backups=BackupTargetConfig(folder=folder),
        clock=clock,
    )
    return BackupRunner(
        backups, repo, ctx, owner="test", lease=timedelta(seconds=30), final_backup_days=7
    )


def _ready(repo: SqlStoreRepository, name: str = "acme-shop", **spec: object) -> Store:
    store = make_store(name)
    store = replace(
        store, spec=replace(store.spec, **spec), phase=Phase.READY, observed_generation=1
    )
    return repo.create(store, [created_event(store)])


def _succeeded(
    backups: SqlBackupRepository, folder: Path, store: Store, kind: BackupKind, at
) -> Backup:  # type: ignore[no-untyped-def]
    backup = Backup.request(
        store.id, engine="medusa", engine_version="2.21.2", target="folder", kind=kind,
        requested_by="system", now=at,
    )  # fmt: skip
    backup = backup.succeeded(5, "dump of 5 bytes", now=at)
    (folder / store.id).mkdir(parents=True, exist_ok=True)
    (folder / backup.location).write_bytes(b"PGDMP")
    (folder / uploads_location(backup.location)).write_bytes(b"files")  # the files' archive
    return backups.create(backup, [])


async def test_retention_deletes_the_oldest_scheduled_backups_past_the_limit(
    repo: SqlStoreRepository, backups: SqlBackupRepository, tmp_path: Path
) -> None:
    clock = Clock()
    store = _ready(repo, backup_policy=BackupPolicy(every_hours=24, keep=3))
    runner = _runner(repo, backups, tmp_path, clock)
    manual = _succeeded(backups, tmp_path, store, BackupKind.MANUAL, T0)
    made = [
        _succeeded(backups, tmp_path, store, BackupKind.SCHEDULED, T0 + timedelta(days=d))
        for d in range(5)
    ]
    await runner._apply_retention(store)
    left = {b.id for b in backups.list_for(store.id)}
    assert left == {manual.id, *(b.id for b in made[2:])}
    for gone in made[:2]:
        assert not (tmp_path / gone.location).exists()
        assert not (tmp_path / uploads_location(gone.location)).exists(), "both artifacts go"
    assert (tmp_path / manual.location).exists(), "manual backups are not counted"
    assert (tmp_path / uploads_location(manual.location)).exists()
    reasons = [e.reason for e in repo.events(store.id)]
    assert reasons.count("BackupExpired") == 2


async def test_a_schedule_comes_due_one_period_after_the_last_scheduled_backup(
    repo: SqlStoreRepository, backups: SqlBackupRepository, tmp_path: Path
) -> None:
    clock = Clock()
    store = _ready(repo)  # small: daily, keep 7
    runner = _runner(repo, backups, tmp_path, clock)
    clock.now = T0 + timedelta(hours=23)
    assert await runner.request_scheduled(store, clock.now) is None
    clock.now = T0 + timedelta(hours=24)
    first = await runner.request_scheduled(store, clock.now)
    assert first is not None and first.kind is BackupKind.SCHEDULED
    assert await runner.request_scheduled(store, clock.now) is None, "one at a time"
    off = _ready(repo, "no-schedule", backup_policy=BackupPolicy(every_hours=0, keep=1))
    clock.now = T0 + timedelta(days=30)
    assert await runner.request_scheduled(off, clock.now) is None


async def test_a_schedule_sweep_asks_for_exactly_the_backups_each_stores_history_makes_due(
    repo: SqlStoreRepository, backups: SqlBackupRepository, tmp_path: Path
) -> None:
    clock = Clock()
    runner = _runner(repo, backups, tmp_path, clock)
    day = timedelta(days=1)
    never = _ready(repo, "never-backed-up")  # daily: due a day after it was made
    recent = _ready(repo, "backed-up-recently")
    _succeeded(backups, tmp_path, recent, BackupKind.SCHEDULED, T0 + day + timedelta(hours=20))
    stale = _ready(repo, "backed-up-long-ago")
    _succeeded(backups, tmp_path, stale, BackupKind.SCHEDULED, T0 + day)
    _succeeded(backups, tmp_path, stale, BackupKind.MANUAL, T0 + day * 2)  # not the schedule's
    busy = _ready(repo, "backup-running")
    backups.create(
        Backup.request(
            busy.id, engine="medusa", engine_version="2.21.2", target="folder",
            kind=BackupKind.MANUAL, requested_by="admin", now=T0,
        ),
        [],
    )  # fmt: skip
    off = _ready(repo, "no-schedule", backup_policy=BackupPolicy(every_hours=0, keep=1))
    marks = backups.schedule_marks()
    assert marks[stale.id].last_scheduled == T0 + day and not marks[stale.id].running
    assert marks[busy.id].running and marks[busy.id].last_scheduled is None
    assert never.id not in marks
    clock.now = T0 + day * 2 + timedelta(hours=1)
    stores = [never, recent, stale, busy, off]
    made = await runner.run_schedules(stores, clock.now)
    assert sorted(b.store_id for b in made) == sorted([never.id, stale.id])
    assert await runner.run_schedules(stores, clock.now) == [], "one at a time"


async def test_an_expired_final_backup_is_deleted_and_a_live_one_stays(
    repo: SqlStoreRepository, backups: SqlBackupRepository, tmp_path: Path
) -> None:
    clock = Clock()
    store = _ready(repo)
    runner = _runner(repo, backups, tmp_path, clock)
    final = _succeeded(backups, tmp_path, store, BackupKind.FINAL, T0)
    backups.set_expiry_of(final.id, T0 + timedelta(days=7), [])
    clock.now = T0 + timedelta(days=6)
    await runner.expire(clock.now)
    assert backups.get(store.id, final.id).usable(clock.now)
    clock.now = T0 + timedelta(days=7, seconds=1)
    await runner.expire(clock.now)
    assert backups.list_for(store.id) == []
    assert not (tmp_path / final.location).exists()
    assert not (tmp_path / uploads_location(final.location)).exists()


async def test_a_failed_backup_leaves_none_of_its_files_and_earlier_backups_untouched(
    repo: SqlStoreRepository, backups: SqlBackupRepository, tmp_path: Path
) -> None:
    """A Job that failed between its two renames (the archive complete, the dump partial):
    neither is a backup; the earlier backup's dump and archive stay."""
    clock = Clock()
    store = _ready(repo)
    runner = _runner(repo, backups, tmp_path, clock)
    earlier = _succeeded(backups, tmp_path, store, BackupKind.MANUAL, T0)
    failing = backups.create(
        Backup.request(
            store.id, engine="medusa", engine_version="2.21.2", target="folder",
            kind=BackupKind.MANUAL, requested_by="ann", now=T0,
        ),
        [],
    )  # fmt: skip
    stem = tmp_path / failing.location.removesuffix(".dump")
    left = [
        Path(f"{stem}.partial"),
        Path(f"{stem}.uploads.partial"),
        Path(f"{stem}.uploads.tar.gz"),
    ]
    for path in left:
        path.write_bytes(b"half")
    (failing,) = backups.claim(
        owner="test", now=T0, until=T0 + timedelta(seconds=30), limit=8, restarted=False
    )
    await runner._finish(failing, store, "Job failed: BackoffLimitExceeded", 0)
    assert backups.get(store.id, failing.id).status is BackupStatus.FAILED
    assert not [p for p in left if p.exists()]
    assert (tmp_path / earlier.location).exists()
    assert (tmp_path / uploads_location(earlier.location)).exists()


def test_a_backup_whose_runner_died_is_taken_over_not_lost(
    repo: SqlStoreRepository, backups: SqlBackupRepository
) -> None:
    store = _ready(repo)
    running = Backup.request(
        store.id, engine="medusa", engine_version="2.21.2", target="folder",
        kind=BackupKind.MANUAL, requested_by="tester", now=T0,
    )  # fmt: skip
    backups.create(running, [])
    [first] = backups.claim(owner="a", now=T0, until=T0 + timedelta(seconds=30), limit=5)
    assert backups.claim(owner="b", now=T0, until=T0 + timedelta(seconds=30), limit=5) == []
    later = T0 + timedelta(seconds=31)
    [taken] = backups.claim(owner="b", now=later, until=later + timedelta(seconds=30), limit=5)
    assert taken.id == first.id and taken.runner == "b"
    # The one that lost it can no longer write its outcome.
    assert not backups.finish(first.failed("x", now=later), runner="a", events=[])
    assert backups.get(store.id, first.id).status is BackupStatus.RUNNING
    # A restarted process takes back what it held at once.
    [again] = backups.claim(
        owner="b", now=later, until=later + timedelta(seconds=30), limit=5, restarted=True
    )
    assert again.id == first.id


async def test_a_woocommerce_backup_runs_as_a_job_in_the_simulator_and_says_it_is_simulated(
    repo: SqlStoreRepository, backups: SqlBackupRepository, harness: Harness, tmp_path: Path
) -> None:
    from storeplane.domain.store import Engine

    harness.ctx = replace(harness.ctx, backups=BackupTargetConfig(folder=tmp_path / "backups"))
    store = await harness.until(harness.new_store(Engine.WOOCOMMERCE), {Phase.READY}, passes=200)
    repo.create(store, [created_event(store)])
    runner = BackupRunner(
        backups, repo, harness.ctx, owner="test", lease=timedelta(seconds=30), tick=0.1
    )
    backup = Backup.request(
        store.id, engine="woocommerce", engine_version="6", target="folder",
        kind=BackupKind.MANUAL, requested_by="tester", now=harness.ctx.clock(),
    )  # fmt: skip
    backups.create(backup, [])
    await runner.step()
    for _ in range(200):
        done = backups.get(store.id, backup.id)
        if done.finished:
            break
        await asyncio.sleep(0.05)
    assert done.status is BackupStatus.SUCCEEDED, done.message
    assert done.size_bytes == 0
    assert done.message.startswith("simulated:") and "mariadb:11" in done.message
    assert "wp-content" in done.message  # what a real backup of WooCommerce would hold
    job = harness.kube.get(f"/apis/batch/v1/namespaces/{store.namespace}/jobs/{backup.id}")
    assert job.status_code == 200
    assert "mariadb-dump" in job.json()["spec"]["template"]["spec"]["containers"][0]["command"][2]
    reasons = [e.reason for e in repo.events(store.id)]
    assert "BackupStarted" in reasons and "BackupSucceeded" in reasons


async def test_without_the_s3_secret_a_store_works_and_its_backup_fails_at_once_saying_why(
    repo: SqlStoreRepository, backups: SqlBackupRepository, harness: Harness
) -> None:
    from storeplane.reconciler.backup_jobs import S3Target

    harness.ctx = replace(
        harness.ctx, backups=BackupTargetConfig(s3=S3Target(bucket="shop-backups"))
    )
    store = await harness.until(harness.new_store(), {Phase.READY}, passes=200)
    repo.create(store, [created_event(store)])
    runner = BackupRunner(
        backups, repo, harness.ctx, owner="test", lease=timedelta(seconds=30), tick=0.1
    )
    backup = Backup.request(
        store.id, engine="medusa", engine_version="2.21.2", target="s3",
        kind=BackupKind.MANUAL, requested_by="tester", now=harness.ctx.clock(),
    )  # fmt: skip
    backups.create(backup, [])
    await runner.step()
    for _ in range(100):
        done = backups.get(store.id, backup.id)
        if done.finished:
            break
        await asyncio.sleep(0.05)
    assert done.status is BackupStatus.FAILED
    assert "Secret storeplane/storeplane-backup-s3 does not exist" in done.message
    assert "kubectl create secret generic" in done.message
    job = harness.kube.get(f"/apis/batch/v1/namespaces/{store.namespace}/jobs/{backup.id}")
    assert job.status_code == 404  # no Job left waiting for a Secret that is not there
