"""SIGKILL of ``storeplane dev`` in the middle of a restore: after a restart the restore is
resumed from its saved stage and the store ends Ready with the restore done, said once.

Workloads are simulated here (the real-Medusa journey, tests/scenarios/test_backups_real.py,
takes minutes): the restore Job completes after the simulator's Job delay, which is long
enough for the kill to land while the store is at ``RestoringDatabase``. The backup it
restores is recorded directly in storeplane's database (a simulated store has no data to
dump); what is tested is the control plane's crash story, not pg_restore's.
"""

from __future__ import annotations

from datetime import UTC, datetime

from storeplane.db import SqlBackupRepository, create_engine_for
from storeplane.domain.backups import Backup, BackupKind
from tests.scenarios.dev_process import DevProcess, wait_until


def _recorded_backup(dev: DevProcess, store_id: str) -> Backup:
    url = dev.database_url or f"sqlite:///{(dev.data_dir / 'storeplane.db').resolve()}"
    engine = create_engine_for(url)
    try:
        now = datetime.now(UTC)
        backup = Backup.request(
            store_id, engine="medusa", engine_version="2.21.2", target="folder",
            kind=BackupKind.MANUAL, requested_by="tester", now=now,
        ).succeeded(5, "dump of 5 bytes (recorded by the test)", now=now)  # fmt: skip
        folder = dev.data_dir / "backups" / store_id
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{backup.id}.dump").write_bytes(b"PGDMP")
        return SqlBackupRepository(engine).create(backup, [])
    finally:
        engine.dispose()


def test_sigkill_during_restore_then_restart_ends_ready_with_the_restore_done(
    dev: DevProcess,
) -> None:
    dev.stop()
    dev.ready_delay = 3.0  # the restore Job runs 3 s: the kill lands while it runs
    dev.start()
    store_id = dev.api("POST", "/stores", json={"name": "restored", "engine": "medusa"}).json()[
        "id"
    ]
    dev.wait_for(store_id, {"Ready"}, timeout=90)
    backup = _recorded_backup(dev, store_id)
    asked = dev.api("POST", f"/stores/{store_id}/restore", json={"backup_id": backup.id})
    assert asked.status_code == 202, asked.text
    wait_until(
        lambda: dev.store(store_id),
        lambda s: (s.get("restore") or {}).get("stage") == "RestoringDatabase",
        60,
        "the restore to reach RestoringDatabase",
        dev.log_path,
    )
    dev.kill()

    dev.start()
    done = dev.wait_for(store_id, {"Ready", "Failed"}, timeout=90)
    assert done["phase"] == "Ready", done
    assert done["restore"] is None
    reasons = [e["reason"] for e in dev.events(store_id)]
    assert reasons.count("RestoreRequested") == 1
    assert reasons.count("RestoreSucceeded") == 1, reasons
    assert reasons.count("RestoreProgressing") == 2, reasons
    assert reasons.index("RestoreSucceeded") > reasons.index("RestoreRequested")
