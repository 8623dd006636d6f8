"""``BackupRunner``: drives the backups the API, the schedule and deletions record.

Each control-plane process runs one beside its reconcile loop (``runtime.run``). Every
``tick`` (or at once after ``wake()``) it:

1. claims running backups nobody drives (new ones, ones whose runner's lease expired, and at
   start the ones this owner id held before a restart) and, for each, makes sure its Job
   exists (``create_if_absent``: the Job is named after the backup, so a taken-over backup
   is followed, never dumped twice), then follows the Job to its outcome: ``Succeeded`` with
   the dump's size, or ``Failed`` with the Job's cause. A Job that disappeared (its
   namespace went) fails the backup with that cause: never silently lost;
2. requests the scheduled backups that are due (:class:`RetentionPolicy` per plan, or the
   store's own, :func:`storeplane.domain.backups.policy_for`) and expires the scheduled ones
   past its ``keep``;
3. deletes expired backups from the target and their rows, with a ``BackupExpired`` event.

The dumps themselves are written by the Jobs; this runner only reads their size and deletes
them, in the folder target (:class:`storeplane.reconciler.backup_jobs.BackupTargetConfig`).
A backup of an engine whose uploaded files are backed up (Medusa) has two artifacts, the dump
and the files' archive (:func:`storeplane.domain.backups.uploads_location`): it is
``Succeeded`` only when both are in the target, its ``size_bytes`` is their sum, and expiry,
retention, DELETE and a failure remove both.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TypeVar

from storeplane.db.outage import note_outage
from storeplane.domain.backups import (
    DUMP_SUFFIX,
    Backup,
    BackupKind,
    BackupPolicy,
    ScheduleMark,
    expired_by_retention,
    policy_for,
    uploads_location,
)
from storeplane.domain.conditions import Reason
from storeplane.domain.errors import ReconcileError, StoreNotFoundError
from storeplane.domain.events import Event
from storeplane.domain.ports import BackupRepository, ObjectRef, StoreRepository
from storeplane.domain.store import Phase, Store, WorkloadRuntime
from storeplane.engines.backups import engine_version, recipe_for
from storeplane.reconciler import backup_jobs
from storeplane.reconciler.context import ReconcileContext

log = logging.getLogger(__name__)
T = TypeVar("T")
SIMULATED_CONDITION = "sim.storeplane.dev/Simulated"


class BackupRunner:
    def __init__(
        self,
        backups: BackupRepository,
        stores: StoreRepository,
        ctx: ReconcileContext,
        *,
        owner: str,
        lease: timedelta,
        tick: float = 1.0,
        final_backup_days: float = 7.0,
        schedule: Callable[[Store], BackupPolicy] | None = None,
        schedules: bool = True,
        schedule_every: float = 60.0,
    ) -> None:
        self._backups = backups
        self._stores = stores
        self._ctx = ctx
        self._owner = owner
        self._lease = lease
        self._tick = tick
        self._final_days = final_backup_days
        self._schedule = schedule or (
            lambda store: policy_for(store.spec.plan.value, store.spec.backup_policy)
        )
        self._schedule_every = schedule_every
        self._wake = asyncio.Event()
        self._running: dict[str, asyncio.Task[None]] = {}
        self._restarted = True
        self._last_schedule = 0.0

    def wake(self, _store_id: str | None = None) -> None:
        self._wake.set()

    async def _db(self, fn: Callable[..., T], *args: object, **kwargs: object) -> T:
        return await asyncio.to_thread(fn, *args, **kwargs)

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.step()
            except (
                Exception
            ) as exc:  # look again next tick; an outage is logged once (db/outage.py)
                if not note_outage(exc):
                    log.exception("backup runner pass failed")
            self._wake.clear()
            waiter = asyncio.ensure_future(self._wake.wait())
            stopper = asyncio.ensure_future(stop.wait())
            await asyncio.wait(
                {waiter, stopper},
                timeout=self._tick * random.uniform(0.9, 1.1),
                return_when=asyncio.FIRST_COMPLETED,
            )
            waiter.cancel()
            stopper.cancel()
        for task in self._running.values():
            task.cancel()
        await asyncio.gather(*self._running.values(), return_exceptions=True)

    async def step(self) -> None:
        """One pass: claim and start following backups, schedules, expiry."""
        now = self._ctx.clock()
        claimed = await self._db(
            self._backups.claim,
            owner=self._owner,
            now=now,
            until=now + self._lease,
            limit=8,
            restarted=self._restarted,
        )
        self._restarted = False
        for backup in claimed:
            if backup.id not in self._running:
                self._running[backup.id] = asyncio.create_task(
                    self._follow(backup), name=f"backup {backup.id}"
                )
        for backup_id, task in list(self._running.items()):
            if task.done():
                del self._running[backup_id]
        await self.expire(now)
        loop_now = asyncio.get_running_loop().time()
        if self._schedule is not None and loop_now - self._last_schedule >= self._schedule_every:
            self._last_schedule = loop_now
            await self.run_schedules(await self._ready_stores(), now)

    async def _ready_stores(self) -> list[Store]:
        stores: list[Store] = []
        cursor: str | None = None
        while True:
            page = await self._db(
                self._stores.list_page, phase=Phase.READY, limit=200, cursor=cursor
            )
            stores += page.items
            cursor = page.next_cursor
            if cursor is None:
                return stores

    # --- one backup ---------------------------------------------------------------------

    async def _follow(self, backup: Backup) -> None:
        try:
            await self._drive(backup)
        except Exception as exc:
            if note_outage(exc):
                # Nothing can be recorded now; the backup stays Running and, once its lease
                # runs out, the next claim follows its Job again (it is not run twice).
                return
            log.exception("backup %s crashed", backup.id)
            await self._finish(
                backup, None, f"storeplane could not follow the backup Job: {exc}", 0
            )

    async def _drive(self, backup: Backup) -> None:
        try:
            store = await self._db(self._stores.get, backup.store_id)
        except StoreNotFoundError:
            await self._finish(backup, None, "the store no longer exists", 0)
            return
        if store.phase is Phase.DELETED:
            await self._finish(backup, store, "the store was deleted before its Job ran", 0)
            return
        s3 = self._ctx.backups.s3
        if s3 is not None:
            try:  # without the keys the Job's pod could only wait for its Secret
                await s3.client(self._ctx.cluster)
            except backup_jobs.S3CredentialsMissing as exc:
                await self._finish(backup, store, str(exc), 0)
                return
        job = backup_jobs.backup_job(store, backup, self._ctx.backups)
        ref = ObjectRef.of(job)
        created = await self._ctx.cluster.create_if_absent(job)
        if created:
            image = job["spec"]["template"]["spec"]["containers"][0]["image"]
            await self._event(
                store,
                Event.normal(
                    store.id,
                    Reason.BACKUP_STARTED,
                    f"backup {backup.id}: Job {ref.name} runs {image} to dump the database "
                    f"into the {backup.target} target",
                    time=self._ctx.clock(),
                    generation=store.generation,
                ),
            )
        while True:
            live = await self._ctx.cluster.get(ref)
            if live is None:
                await self._finish(
                    backup,
                    store,
                    f"Job {ref.name} disappeared before it finished (its namespace was deleted, "
                    "or someone deleted it); no dump was kept",
                    0,
                )
                return
            outcome = _job_outcome(live)
            if outcome is not None:
                ok, why = outcome
                if ok:
                    await self._succeeded(backup, store, ref)
                else:
                    said = await self._output(store, backup)
                    await self._finish(backup, store, f"Job {ref.name} failed: {why}{said}", 0)
                return
            renewed = replace(
                backup.with_message(f"Job {ref.name} is dumping the database"),
                lease_expires_at=self._ctx.clock() + self._lease,
            )
            if not await self._db(self._backups.save_progress, renewed, runner=self._owner):
                log.warning("backup %s is no longer ours; another runner follows it", backup.id)
                return
            backup = renewed
            await asyncio.sleep(self._tick)

    async def _output(self, store: Store, backup: Backup) -> str:
        """The dump container's last lines, to say why it failed (the Job's own words)."""
        try:
            pods = await self._ctx.cluster.list_labelled(
                "v1", "Pod", store.namespace, {backup_jobs.BACKUP_ID_LABEL: backup.id}
            )
            if not pods:
                return ""
            name = str(pods[0]["metadata"]["name"])
            text = await self._ctx.cluster.pod_log(store.namespace, name, "dump", tail=3)
        except Exception:  # the cause stays the Job's condition
            return ""
        lines = " | ".join(line.strip() for line in text.splitlines() if line.strip())
        return f"; its output: {lines[-400:]}" if lines else ""

    async def _succeeded(self, backup: Backup, store: Store, ref: ObjectRef) -> None:
        pods = await self._ctx.cluster.list_labelled(
            "v1", "Pod", store.namespace, {backup_jobs.BACKUP_ID_LABEL: backup.id}
        )
        # Simulated: the simulator's node ran nothing for the Job's image (its pod says so),
        # or nothing of the store runs at all (its health answer said so).
        simulated = any(_simulated(p) for p in pods)
        recipe = recipe_for(store.spec.engine)
        if simulated or store.workload_runtime is WorkloadRuntime.SIMULATED:
            would = f" (a real one would hold the database dump and {recipe.files_note})"
            await self._finish(
                backup,
                store,
                f"simulated: Job {ref.name} ran in the simulator and nothing ran for "
                f"{recipe.image} (no local runtime for it, or the store's workloads are "
                "simulated), so no dump was written and there is nothing to restore"
                f"{would if recipe.files_note else ''}",
                0,
                ok=True,
            )
            return
        size = await self._artifact_size(backup.location)
        if size is None:
            await self._finish(
                backup,
                store,
                f"Job {ref.name} completed but the target has no dump at {backup.location}",
                0,
            )
            return
        if not recipe.uploads_claim:
            await self._finish(
                backup,
                store,
                f"dump of {size} bytes written by Job {ref.name} to the {backup.target} target",
                size,
                ok=True,
            )
            return
        archive = uploads_location(backup.location)
        files = await self._artifact_size(archive)
        if files is None:
            await self._finish(
                backup,
                store,
                f"Job {ref.name} completed but the target has no uploaded files' archive at "
                f"{archive}",
                0,
            )
            return
        await self._finish(
            backup,
            store,
            f"dump of {size} bytes and uploaded files' archive of {files} bytes written by Job "
            f"{ref.name} to the {backup.target} target (size_bytes counts both)",
            size + files,
            ok=True,
        )

    async def _artifact_size(self, location: str) -> int | None:
        """The size of a dump or archive in the target, or None when it is not there."""
        s3 = self._ctx.backups.s3
        if s3 is not None:
            client = await s3.client(self._ctx.cluster)
            return await asyncio.to_thread(client.size, s3.key(location))
        path = self._ctx.backups.dump_path(location)
        return path.stat().st_size if path.is_file() else None

    async def _remove_dump(self, location: str, *, unfinished: bool = False) -> None:
        """Delete a backup's dump and its uploaded files' archive from the target (a backup
        made before files were backed up has no archive: deleting it is a no-op).
        ``unfinished``: the backup failed, so also what its Job left instead: a folder's
        partial files, an S3 multipart upload a killed Job could not abort."""
        archive = uploads_location(location)
        s3 = self._ctx.backups.s3
        if s3 is not None:
            client = await s3.client(self._ctx.cluster)
            for key in (s3.key(archive), s3.key(location)):
                if unfinished:
                    await asyncio.to_thread(client.abort_unfinished, key)
                await asyncio.to_thread(client.delete, key)
        elif self._ctx.backups.enabled:
            stem = location.removesuffix(DUMP_SUFFIX)
            leftovers = [f"{stem}.partial", f"{stem}.uploads.partial"] if unfinished else []
            for name in [*leftovers, archive, location]:
                self._ctx.backups.dump_path(name).unlink(missing_ok=True)

    async def _finish(
        self, backup: Backup, store: Store | None, message: str, size: int, *, ok: bool = False
    ) -> None:
        now = self._ctx.clock()
        if ok:
            done = backup.succeeded(size, message, now=now)
            if backup.kind is BackupKind.FINAL:
                done = done.expiring(now + timedelta(days=self._final_days))
            event = Event.normal(
                backup.store_id,
                Reason.BACKUP_SUCCEEDED,
                f"backup {backup.id} ({backup.kind.value}, {backup.engine} "
                f"{backup.engine_version}) succeeded: {message}",
                time=now,
                generation=store.generation if store else 0,
            )
        else:
            # What the failed Job wrote (partial or complete) is not a backup: it goes; earlier
            # backups' dumps and archives stay as they are.
            try:
                await self._remove_dump(backup.location, unfinished=True)
            except Exception as exc:  # the bucket's lifecycle rule aborts it in the end
                log.warning("backup %s: could not drop its unfinished dump: %s", backup.id, exc)
            done = backup.failed(f"{message}; earlier backups are untouched", now=now)
            event = Event.warning(
                backup.store_id,
                Reason.BACKUP_FAILED,
                f"backup {backup.id} failed: {done.message}",
                time=now,
                generation=store.generation if store else 0,
            )
        if await self._db(self._backups.finish, done, runner=self._owner, events=[event]):
            log.info("%s: %s", event.reason, event.message)
            if store is not None:
                await self._post(store, event)
            if ok and backup.kind is BackupKind.SCHEDULED and store is not None:
                await self._apply_retention(store)
            self.wake()

    async def _event(self, store: Store, event: Event) -> None:
        await self._db(self._stores.append_events, [event])
        await self._post(store, event)

    async def _post(self, store: Store, event: Event) -> None:
        try:
            await self._ctx.cluster.record_event(
                store.namespace, event.type.value, event.reason, event.message
            )
        except Exception as exc:  # best effort, like the reconciler's events
            log.debug("could not post event %s: %s", event.reason, exc)

    # --- schedules, retention, expiry ---------------------------------------------------

    async def request_scheduled(self, store: Store, now: datetime) -> Backup | None:
        """Record a scheduled backup of ``store`` if its policy says one is due."""
        if self._schedule is None or not self._ctx.backups.enabled:
            return None
        policy = self._schedule(store)
        mark = ScheduleMark.of(await self._db(self._backups.list_for, store.id))
        if not _scheduled_backup_due(policy, store, mark, now):
            return None
        backup = Backup.request(
            store.id,
            engine=store.spec.engine.value,
            engine_version=engine_version(store),
            target=self._ctx.backups.kind,
            kind=BackupKind.SCHEDULED,
            requested_by="system",
            now=now,
        )
        event = Event.normal(
            store.id,
            Reason.BACKUP_REQUESTED,
            f"scheduled backup {backup.id} requested ({policy.describe()})",
            time=now,
            generation=store.generation,
        )
        await self._db(self._backups.create, backup, [event])
        return backup

    async def _apply_retention(self, store: Store) -> None:
        if self._schedule is None:
            return
        policy = self._schedule(store)
        backups = await self._db(self._backups.list_for, store.id)
        now = self._ctx.clock()
        for old in expired_by_retention(backups, policy.keep):
            if old.expires_at is None or old.expires_at > now:
                await self._delete(
                    old,
                    f"backup {old.id} expired: the store keeps its {policy.keep} newest "
                    "scheduled backups",
                )

    async def expire(self, now: datetime) -> None:
        """Delete every backup whose expiry passed (final backups of deleted stores)."""
        for backup in await self._db(self._backups.expired, now=now):
            assert backup.expires_at is not None
            await self._delete(
                backup, f"backup {backup.id} expired at {backup.expires_at.isoformat()}"
            )

    async def _delete(self, backup: Backup, message: str) -> None:
        try:
            await self._remove_dump(backup.location)
        except Exception as exc:
            # Kept (and expired now, so the next pass tries again) rather than forgotten.
            log.warning("backup %s: could not delete its dump yet: %s", backup.id, exc)
            if backup.expires_at is None or backup.expires_at > self._ctx.clock():
                await self._db(self._backups.set_expiry_of, backup.id, self._ctx.clock(), [])
            return
        event = Event.normal(
            backup.store_id,
            Reason.BACKUP_EXPIRED,
            f"{message}; its dump (and its uploaded files' archive, if it has one) was deleted "
            f"from the {backup.target} target",
            time=self._ctx.clock(),
            generation=0,
        )
        if await self._db(self._backups.remove, backup, [event]):
            log.info("%s: %s", event.reason, event.message)

    async def run_schedules(self, stores: list[Store], now: datetime) -> list[Backup]:
        # One read of every store's backup history, then a store's own backups only where a
        # backup looks due: a sweep of 10,000 stores was 10,000 queries a minute.
        marks = await self._db(self._backups.schedule_marks)
        requested = []
        for store in stores:
            mark = marks.get(store.id, ScheduleMark())
            if (
                store.phase is Phase.READY
                and not store.is_deleting
                and self._schedule is not None
                and _scheduled_backup_due(self._schedule(store), store, mark, now)
            ):
                try:
                    made = await self.request_scheduled(store, now)
                except ReconcileError:
                    continue
                if made is not None:
                    requested.append(made)
        return requested


def _scheduled_backup_due(
    policy: BackupPolicy, store: Store, mark: ScheduleMark, now: datetime
) -> bool:
    """One scheduled backup at a time; the first comes one period after the store was made."""
    return not mark.running and policy.due(mark.last_scheduled or store.created_at, now)


def _job_outcome(job: dict[str, object]) -> tuple[bool, str] | None:
    """(succeeded, why) once the Job finished; None while it runs."""
    status = job.get("status") or {}
    assert isinstance(status, dict)
    for condition in status.get("conditions") or []:
        if condition.get("status") != "True":
            continue
        if condition.get("type") == "Complete":
            return True, ""
        if condition.get("type") == "Failed":
            return False, str(condition.get("message") or condition.get("reason") or "failed")
    return None


def _simulated(pod: dict[str, object]) -> bool:
    status = pod.get("status") or {}
    assert isinstance(status, dict)
    return any(
        c.get("type") == SIMULATED_CONDITION and c.get("status") == "True"
        for c in status.get("conditions") or []
    )
