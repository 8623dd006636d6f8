"""Backups of a store's database, and the restore that puts one back, as recorded values.

A backup is asked for by the API (``services.backups.request_backup``), by the schedule or by a
deletion with ``final_backup``; a backup runner on the reconciler side
(``reconciler.backups``) claims it, runs a Job in the store's namespace with the engine's own
database image (``pg_dump`` for Medusa, ``mariadb-dump`` for WooCommerce) that writes the dump
to the backup target, and finishes it ``Succeeded`` (with its size) or ``Failed`` (with the
cause). A Job writes ``<id>.partial`` and renames it to ``<id>.dump`` only when the dump
finished, so a failed backup never replaces (or looks like) a good one. Where the engine keeps
uploaded files on a claim (Medusa), the Job also archives them next to the dump
(:func:`uploads_location`, ``<id>.uploads.tar.gz``); the backup's size counts both.

A restore is part of the store's intent (``Store.restore``, phase ``Restoring``) and is driven
by the reconciler through its stages (:class:`RestoreStage`): workloads stopped, database
restored by a Job, workloads started. A clone is a new store created with such a restore
already requested (``restore_from``).

Crash story: the backup row holds a runner and a lease like a smoke check. A backup whose
runner died is taken over and its Job (named after the backup, so never run twice) is looked
at again: resumed if it still runs, finished from its outcome otherwise. A restore's stage is
saved with the store, and every stage is idempotent, so a restarted reconciler resumes it.
"""

from __future__ import annotations

import re
import secrets
import string
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from storeplane.domain.errors import InvalidRequestError

BACKUP_ID_PREFIX = "backup-"
_ID_ALPHABET = string.ascii_lowercase + string.digits
BACKUP_ID_PATTERN = re.compile(rf"^{BACKUP_ID_PREFIX}[{_ID_ALPHABET}]{{10}}$")
DUMP_SUFFIX = ".dump"
UPLOADS_SUFFIX = ".uploads.tar.gz"


def uploads_location(location: str) -> str:
    """The uploaded files' archive beside a dump: ``<store>/<id>.dump`` ->
    ``<store>/<id>.uploads.tar.gz`` (a folder target's file, an S3 target's key)."""
    return location.removesuffix(DUMP_SUFFIX) + UPLOADS_SUFFIX


class BackupStatus(StrEnum):
    RUNNING = "Running"
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"


class BackupKind(StrEnum):
    """Why a backup was taken (it decides retention: manual ones are kept until deleted)."""

    MANUAL = "manual"
    SCHEDULED = "scheduled"
    FINAL = "final"  # taken before the store was deleted; kept N days after Deleted


def new_backup_id() -> str:
    return BACKUP_ID_PREFIX + "".join(secrets.choice(_ID_ALPHABET) for _ in range(10))


def is_backup_id(text: str) -> bool:
    return BACKUP_ID_PATTERN.fullmatch(text) is not None


@dataclass(frozen=True, slots=True)
class Backup:
    id: str
    store_id: str
    status: BackupStatus
    kind: BackupKind
    engine: str
    engine_version: str
    target: str  # "folder" | "s3": where the dump went
    location: str  # the dump's key within the target (e.g. "store-x/backup-y.dump")
    requested_by: str
    started_at: datetime
    message: str = ""
    size_bytes: int | None = None
    finished_at: datetime | None = None
    # Kept until then (None: until someone deletes it); set for final backups and by retention.
    expires_at: datetime | None = None
    # Which control-plane replica drives its Job, and until when its claim holds.
    runner: str | None = None
    lease_expires_at: datetime | None = None

    @property
    def finished(self) -> bool:
        return self.status is not BackupStatus.RUNNING

    @property
    def job_name(self) -> str:
        """The Job that takes it: one per backup, so a retried runner never dumps twice."""
        return self.id

    @classmethod
    def request(
        cls,
        store_id: str,
        *,
        engine: str,
        engine_version: str,
        target: str,
        kind: BackupKind,
        requested_by: str,
        now: datetime,
    ) -> Backup:
        backup_id = new_backup_id()
        return cls(
            id=backup_id,
            store_id=store_id,
            status=BackupStatus.RUNNING,
            kind=kind,
            engine=engine,
            engine_version=engine_version,
            target=target,
            location=f"{store_id}/{backup_id}.dump",
            requested_by=requested_by,
            started_at=now,
            message="waiting for a backup runner to start its Job",
        )

    def with_message(self, message: str) -> Backup:
        return replace(self, message=message)

    def succeeded(self, size_bytes: int, message: str, *, now: datetime) -> Backup:
        return replace(
            self,
            status=BackupStatus.SUCCEEDED,
            size_bytes=size_bytes,
            message=message,
            finished_at=now,
            runner=None,
            lease_expires_at=None,
        )

    def failed(self, message: str, *, now: datetime) -> Backup:
        return replace(
            self,
            status=BackupStatus.FAILED,
            message=message,
            finished_at=now,
            runner=None,
            lease_expires_at=None,
        )

    def expiring(self, at: datetime | None) -> Backup:
        return replace(self, expires_at=at)

    def usable(self, now: datetime) -> bool:
        """Whether it can be restored or cloned from now."""
        return self.status is BackupStatus.SUCCEEDED and (
            self.expires_at is None or self.expires_at > now
        )


class RestoreStage(StrEnum):
    """Where a restore stands; each stage is idempotent, so a restarted pass resumes it."""

    STOPPING = "StoppingWorkloads"  # the engine's server and worker scaled to zero
    RESTORING = "RestoringDatabase"  # the restore Job loads the dump in one transaction
    STARTING = "StartingWorkloads"  # workloads back; Ready ends the restore
    FAILED = "Failed"  # the Job failed: the transaction rolled back, the data is as before


@dataclass(frozen=True, slots=True)
class RestoreOp:
    """A restore the store's intent asks for (``Store.restore``)."""

    backup_id: str
    source_store_id: str  # the store the backup was taken of (another one for a clone)
    location: str  # the dump's key in the target
    stage: RestoreStage
    requested_at: datetime
    clone: bool = False  # the store was created from the backup: its seed runs after the load
    message: str = ""
    # The engine version the dump was taken at ("": the store's own); another one means the
    # store's migrations run again after the load, as for an upgrade.
    engine_version: str = ""
    # The uploaded files' archive in the target, once the restore saw it there ("": the backup
    # has none, e.g. one made before uploads were backed up: the files are left as they are).
    uploads: str = ""

    def migrates(self, store_version: str) -> bool:
        """Whether the loaded data is of an older version than the store runs."""
        return bool(self.engine_version) and self.engine_version != store_version

    @property
    def active(self) -> bool:
        return self.stage is not RestoreStage.FAILED

    @property
    def job_name(self) -> str:
        return f"restore-{self.backup_id}"

    def at(self, stage: RestoreStage, message: str = "") -> RestoreOp:
        return replace(self, stage=stage, message=message)

    def to_json(self) -> dict[str, object]:
        return {
            "backup_id": self.backup_id,
            "source_store_id": self.source_store_id,
            "location": self.location,
            "stage": self.stage.value,
            "requested_at": self.requested_at.isoformat(),
            "clone": self.clone,
            "message": self.message,
            "engine_version": self.engine_version,
            "uploads": self.uploads,
        }

    @classmethod
    def from_json(cls, data: dict[str, object]) -> RestoreOp:
        return cls(
            backup_id=str(data["backup_id"]),
            source_store_id=str(data["source_store_id"]),
            location=str(data["location"]),
            stage=RestoreStage(str(data["stage"])),
            requested_at=datetime.fromisoformat(str(data["requested_at"])),
            clone=bool(data.get("clone", False)),
            message=str(data.get("message", "")),
            engine_version=str(data.get("engine_version", "")),
            uploads=str(data.get("uploads", "")),
        )


def restore_refusal(
    backup: Backup,
    *,
    engine: str,
    engine_version: str,
    now: datetime,
    restorable: tuple[str, ...] = (),
) -> str | None:
    """Why ``backup`` cannot be loaded into a store of ``engine`` at ``engine_version``, or
    None. ``restorable``: the versions whose dumps that version loads (the catalogue's
    ``restorable_from`` and itself); a dump of any other version is refused, naming them."""
    if backup.status is not BackupStatus.SUCCEEDED:
        return f"backup {backup.id} is {backup.status.value}, not Succeeded: only a finished backup can be restored"
    if backup.expires_at is not None and backup.expires_at <= now:
        return f"backup {backup.id} expired at {backup.expires_at.isoformat()}"
    if backup.engine != engine:
        return f"backup {backup.id} is of a {backup.engine} store; this store runs {engine}"
    allowed = restorable or (engine_version,)
    if backup.engine_version not in allowed:
        return (
            f"backup {backup.id} was taken at {backup.engine} {backup.engine_version}; the store "
            f"runs {engine_version}, which restores backups of {', '.join(allowed)} only (the "
            f"engine catalogue's restorable_from): restore into a store at "
            f"{backup.engine_version}"
        )
    return None


@dataclass(frozen=True)
class ScheduleMark:
    """What deciding a store's next scheduled backup needs of its history: when its last
    scheduled backup started (None: never) and whether one of its backups still runs."""

    last_scheduled: datetime | None = None
    running: bool = False

    @classmethod
    def of(cls, backups: list[Backup]) -> ScheduleMark:
        scheduled = [b.started_at for b in backups if b.kind is BackupKind.SCHEDULED]
        return cls(max(scheduled, default=None), any(not b.finished for b in backups))


@dataclass(frozen=True, slots=True)
class BackupPolicy:
    """How often a store is backed up (``every_hours``; 0: never on a schedule) and how many
    scheduled backups are kept. Plans have one (:data:`PLAN_POLICIES`); a store may have its own."""

    every_hours: float
    keep: int

    def __post_init__(self) -> None:
        if self.every_hours < 0:
            raise InvalidRequestError(
                f"every_hours must be 0 (no schedule) or more (got {self.every_hours})",
                field="backup_policy.every_hours",
            )
        if not 1 <= self.keep <= 1000:
            raise InvalidRequestError(
                f"keep must be 1 to 1000 backups (got {self.keep})", field="backup_policy.keep"
            )

    @property
    def every(self) -> timedelta | None:
        return timedelta(hours=self.every_hours) if self.every_hours > 0 else None

    def due(self, last: datetime | None, now: datetime) -> bool:
        every = self.every
        if every is None:
            return False
        return last is None or now - last >= every

    def describe(self) -> str:
        every = f"every {self.every_hours:g} h" if self.every_hours else "no schedule"
        return f"{every}, keep {self.keep}"

    def to_json(self) -> dict[str, object]:
        return {"every_hours": self.every_hours, "keep": self.keep}

    @classmethod
    def from_json(cls, data: dict[str, object]) -> BackupPolicy:
        return cls(every_hours=float(str(data["every_hours"])), keep=int(str(data["keep"])))


# Per plan: small daily keep 7, medium daily keep 14, large every 6 hours keep 28.
PLAN_POLICIES: dict[str, BackupPolicy] = {
    "small": BackupPolicy(every_hours=24, keep=7),
    "medium": BackupPolicy(every_hours=24, keep=14),
    "large": BackupPolicy(every_hours=6, keep=28),
}


def policy_for(plan: str, own: BackupPolicy | None) -> BackupPolicy:
    """The store's schedule: its own if it has one, else its plan's."""
    return own if own is not None else PLAN_POLICIES.get(plan, BackupPolicy(24, 7))


def expired_by_retention(backups: list[Backup], keep: int) -> list[Backup]:
    """The scheduled backups past the newest ``keep`` succeeded ones (oldest last kept)."""
    scheduled = sorted(
        (
            b
            for b in backups
            if b.kind is BackupKind.SCHEDULED and b.status is BackupStatus.SUCCEEDED
        ),
        key=lambda b: (b.started_at, b.id),
        reverse=True,
    )
    return scheduled[keep:]
