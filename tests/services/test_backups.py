"""Restores and clones across engine versions, as the engine catalogue's ``restorable_from``
allows them (a real repository, SQLite and PostgreSQL; no cluster: the reconciler's side is
tests/reconciler/test_restore_across_versions.py)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
import yaml

from storeplane.db import SqlStoreRepository
from storeplane.db.backups import SqlBackupRepository
from storeplane.domain.backups import Backup, BackupKind
from storeplane.domain.errors import InvalidRequestError
from storeplane.domain.plans import PlanName
from storeplane.domain.store import Engine, Phase, Store, StoreSpec
from storeplane.engines.catalogue import CatalogueError, load_catalogue
from storeplane.services import backups as service
from storeplane.services import stores as store_service
from storeplane.settings import Settings
from tests.db.helpers import T0
from tests.engine_catalogues import A, B
from tests.services.test_stores import mark, who


def _catalogue(tmp_path: Path, restorable: dict[str, list[str]]) -> Path:
    from storeplane.engines.catalogue import SHIPPED_CATALOGUE

    raw = yaml.safe_load(SHIPPED_CATALOGUE.read_text())
    for entry in raw["engines"]["medusa"]["versions"]:
        entry["restorable_from"] = restorable.get(entry["version"], [])
    path = tmp_path / "catalogue.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return path


def _ready_store(repo: SqlStoreRepository, settings: Settings, version: str) -> Store:
    spec = StoreSpec(name=f"shop-{version.replace('.', '-')}", engine=Engine.MEDUSA,
                     plan=PlanName.SMALL, engine_version=version)  # fmt: skip
    store = store_service.create_store(repo, spec, settings, who(repo, "alice"), now=T0)
    return mark(repo, store, phase=Phase.READY, observed_generation=store.generation)


def _backup(repo: SqlStoreRepository, store: Store, version: str) -> Backup:
    backups = SqlBackupRepository(repo.engine)
    taken = Backup.request(
        store.id, engine="medusa", engine_version=version, target="folder",
        kind=BackupKind.MANUAL, requested_by="alice", now=T0,
    )  # fmt: skip
    return backups.create(
        taken.succeeded(50_000, "dump written", now=T0 + timedelta(seconds=5)), []
    )


def test_a_backup_of_a_version_the_catalogue_lists_is_restored_and_then_migrated(
    repo: SqlStoreRepository, tmp_path: Path
) -> None:
    settings = Settings(engine_catalogue=_catalogue(tmp_path, {B: [A]}))
    store = _ready_store(repo, settings, B)
    backup = _backup(repo, store, A)
    restoring = service.request_restore(
        repo, SqlBackupRepository(repo.engine), settings, store.id, backup.id, who(repo, "alice")
    )
    assert restoring.phase is Phase.RESTORING
    assert restoring.restore is not None
    assert restoring.restore.engine_version == A
    assert restoring.restore.migrates(B)


@pytest.mark.parametrize(
    ("restorable", "store_at", "backup_at", "allowed"),
    [
        ({}, B, A, "restores backups of 2.21.2 only"),
        ({B: [A]}, A, B, "restores backups of 2.20.1 only"),
    ],
    ids=[
        "a version the catalogue does not list is refused naming the allowed ones",
        "a newer version's backup is refused in an older store",
    ],
)
def test_other_versions_are_refused_with_a_422_naming_what_is_allowed(
    repo: SqlStoreRepository,
    tmp_path: Path,
    restorable: dict[str, list[str]],
    store_at: str,
    backup_at: str,
    allowed: str,
) -> None:
    settings = Settings(engine_catalogue=_catalogue(tmp_path, restorable))
    store = _ready_store(repo, settings, store_at)
    backup = _backup(repo, store, backup_at)
    with pytest.raises(InvalidRequestError) as refused:
        service.request_restore(
            repo, SqlBackupRepository(repo.engine), settings, store.id, backup.id,
            who(repo, "alice"),
        )  # fmt: skip
    assert refused.value.field == "backup_id"
    assert allowed in refused.value.message
    assert f"taken at medusa {backup_at}" in refused.value.message


def test_a_clone_may_run_a_newer_version_that_restores_the_backups_version(
    repo: SqlStoreRepository, tmp_path: Path
) -> None:
    catalogue = _catalogue(tmp_path, {B: [A]})
    settings = Settings(engine_catalogue=catalogue)
    source = _ready_store(repo, settings, A)
    backup = _backup(repo, source, A)
    backups = SqlBackupRepository(repo.engine)
    op, version = service.clone_source(
        repo, backups, source.id, backup.id, "medusa", B, who(repo, "alice"),
        catalogue_file=catalogue,
    )  # fmt: skip
    assert (version, op.engine_version, op.clone) == (B, A, True)
    # Without the entry the same clone is refused.
    with pytest.raises(InvalidRequestError, match=r"restores backups of 2\.21\.2 only"):
        service.clone_source(
            repo, backups, source.id, backup.id, "medusa", B, who(repo, "alice"),
            catalogue_file=_catalogue(tmp_path / "..", {}),
        )  # fmt: skip


@pytest.mark.parametrize(
    "restorable",
    [{A: [B]}, {B: [B]}, {B: ["1.0.0"]}],
    ids=["a newer version is refused", "the version itself is refused",
         "a version the catalogue does not list is refused"],
)  # fmt: skip
def test_a_catalogue_may_only_list_older_versions_it_knows(
    tmp_path: Path, restorable: dict[str, list[str]]
) -> None:
    with pytest.raises(CatalogueError, match="restorable_from names"):
        load_catalogue(_catalogue(tmp_path, restorable))


def test_the_store_keeps_its_version_after_a_restore_request(
    repo: SqlStoreRepository, tmp_path: Path
) -> None:
    settings = Settings(engine_catalogue=_catalogue(tmp_path, {B: [A]}))
    store = _ready_store(repo, settings, B)
    backup = _backup(repo, store, A)
    service.request_restore(
        repo, SqlBackupRepository(repo.engine), settings, store.id, backup.id, who(repo, "alice")
    )
    assert replace(repo.get(store.id)).spec.engine_version == B


def _final_backup_of_a_deleted_store(
    repo: SqlStoreRepository, settings: Settings, expires_in: timedelta
) -> tuple[Store, Backup]:
    store = _ready_store(repo, settings, B)
    store = mark(repo, store, phase=Phase.DELETED, deleted_at=T0 + timedelta(minutes=1))
    taken = Backup.request(
        store.id, engine="medusa", engine_version=B, target="folder", kind=BackupKind.FINAL,
        requested_by="alice", now=T0,
    )  # fmt: skip
    final = taken.succeeded(50_000, "dump written", now=T0).expiring(T0 + expires_in)
    return store, SqlBackupRepository(repo.engine).create(final, [])


def test_a_deleted_stores_final_backup_is_listed_and_cloned_from_until_it_expires(
    repo: SqlStoreRepository,
) -> None:
    settings = Settings()
    gone, final = _final_backup_of_a_deleted_store(repo, settings, timedelta(days=7))
    backups = SqlBackupRepository(repo.engine)
    alice = who(repo, "alice")
    assert [b.id for b in service.list_backups(repo, backups, gone.id, alice)] == [final.id]
    op, version = service.clone_source(
        repo, backups, gone.id, final.id, "medusa", None, alice, now=T0 + timedelta(days=6)
    )
    assert (op.source_store_id, op.location, version) == (gone.id, final.location, B)
    # A day after it expired the same clone is a 422 that says when it expired.
    with pytest.raises(InvalidRequestError) as refused:
        service.clone_source(
            repo, backups, gone.id, final.id, "medusa", None, alice, now=T0 + timedelta(days=8)
        )
    assert refused.value.field == "backup_id"
    assert f"expired at {(T0 + timedelta(days=7)).isoformat()}" in refused.value.message


def test_a_backup_in_another_target_than_this_storeplanes_is_refused(
    repo: SqlStoreRepository,
) -> None:
    folder = Settings()
    store = _ready_store(repo, folder, B)
    backup = _backup(repo, store, B)  # in the folder target
    to_s3 = Settings(backup_target="s3", backup_s3_bucket="shop-backups")
    with pytest.raises(InvalidRequestError, match="is in the folder target; this storeplane's"):
        service.request_restore(
            repo, SqlBackupRepository(repo.engine), to_s3, store.id, backup.id, who(repo, "alice")
        )
