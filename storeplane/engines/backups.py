"""How each engine's database is dumped and loaded: the engine's own database image, the tool
(``pg_dump``/``pg_restore`` for Medusa's PostgreSQL, ``mariadb-dump``/``mariadb`` for
WooCommerce's MariaDB), its connection environment and the chart values that stop the
engine's workloads while a restore loads the data.

Read by the reconciler's backup and restore Jobs (``reconciler/backup_jobs.py``). The Jobs
write into ``/backups``: ``<id>.partial`` first, renamed to ``<id>.dump`` only once the dump
tool succeeded, so a failed or killed backup never leaves a file that looks good.

Uploaded files: where the engine's chart keeps them on a claim (Medusa: ``medusa-uploads``,
the local file provider's folder), the Jobs mount it at ``/uploads``. The backup archives it
(``tar -czf``) as ``<id>.uploads.partial``, renamed to ``<id>.uploads.tar.gz`` before the dump
is renamed; the restore unpacks the archive into a folder inside the claim first, loads the
database, then replaces the claim's files with the unpacked ones (a failed load leaves the
files as they were too).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from functools import cache
from typing import Any

import yaml

from storeplane.domain.store import Engine, Store
from storeplane.engines.base import CREDENTIALS_SECRET, Values
from storeplane.render.charts import CHARTS_DIR

MOUNT = "/backups"
UPLOADS_MOUNT = "/uploads"
# Inside the uploads claim: where a restore unpacks the archive before it replaces the files
# (a dot folder: Medusa's static file server does not serve it; backups leave it out).
UPLOADS_STAGE = ".storeplane-restore"


def _secret_env(name: str, key: str) -> dict[str, Any]:
    return {"name": name, "valueFrom": {"secretKeyRef": {"name": CREDENTIALS_SECRET, "key": key}}}


@dataclass(frozen=True, slots=True)
class BackupRecipe:
    engine: Engine
    chart: str
    image: str  # the engine's own database image (the chart's database.image default)
    uid: int  # the image's database user, as the chart runs its tools
    env: tuple[dict[str, Any], ...]
    dump: str  # shell: writes the dump to "$PARTIAL"
    stream: str  # shell: writes the dump to standard output (the S3 uploader reads it)
    load: str  # shell: loads "$DUMP" into the database, all or nothing
    restorable: bool  # whether storeplane restores it (it can stop the engine's workloads)
    s3_tag: str  # the S3 target's Job image tag (images/backup-s3 built FROM ``image``)
    # shell: load "$DUMP" of an older engine version, replacing the whole schema, all or
    # nothing ("": such a restore is not supported for the engine)
    load_older: str = ""
    # The chart's claim of uploaded files, archived with the dump ("": none is backed up).
    uploads_claim: str = ""
    # What a real backup of the engine would hold besides the dump (said by simulated ones).
    files_note: str = ""

    def archive_script(self, output: str) -> str:
        """The uploaded files (the claim's top-level entries, not a restore's staging folder)
        as a gzipped tar to ``output`` ("-": standard output). Entries, not ".": extracting
        "." would try to change the mount point's owner and times, which a Job may not."""
        return (
            f"cd {UPLOADS_MOUNT}; find . -mindepth 1 -maxdepth 1 ! -name {UPLOADS_STAGE} "
            f"> /tmp/uploads.list; tar -czf {output} -T /tmp/uploads.list"
        )

    def backup_script(self, name: str) -> str:
        """The folder target's backup: the dump and, with an uploads claim, its archive; each
        written as a partial file and renamed only when it is complete, the dump last."""
        if not self.uploads_claim:
            return self.dump_script(name)
        partial, final = f"{MOUNT}/{name}.uploads.partial", f"{MOUNT}/{name}.uploads.tar.gz"
        dump_partial, dump_final = f"{MOUNT}/{name}.partial", f"{MOUNT}/{name}.dump"
        return (
            f'set -e; PARTIAL="{dump_partial}"; rm -f "$PARTIAL" "{partial}"; {self.dump}; '
            f'({self.archive_script(partial)}); mv "{partial}" "{final}"; '
            f'echo "uploaded files archived: $(wc -c < "{final}") bytes"; '
            f'mv "$PARTIAL" "{dump_final}"; echo "dump written: $(wc -c < "{dump_final}") bytes"'
        )

    def restore_files_scripts(self, archive: str) -> tuple[str, str]:
        """(before the load, after it): unpack ``archive`` into the claim's staging folder;
        then replace the claim's files with the unpacked ones. Both idempotent: a retried Job
        unpacks again."""
        stage = f"{UPLOADS_MOUNT}/{UPLOADS_STAGE}"
        before = (
            f'test -s "{archive}" || {{ echo "no uploads archive at {archive}" >&2; exit 2; }}; '
            f'rm -rf "{stage}"; mkdir -p "{stage}"; tar -xzf "{archive}" -C "{stage}"'
        )
        after = (
            f"find {UPLOADS_MOUNT} -mindepth 1 -maxdepth 1 ! -name {UPLOADS_STAGE} "
            f"-exec rm -rf {{}} \\; ; "
            f'find "{stage}" -mindepth 1 -maxdepth 1 -exec mv {{}} {UPLOADS_MOUNT}/ \\; ; '
            f'rmdir "{stage}"; '
            f'echo "uploaded files restored: $(find {UPLOADS_MOUNT} -type f | wc -l) files"'
        )
        return before, after

    def dump_script(self, name: str) -> str:
        partial, final = f"{MOUNT}/{name}.partial", f"{MOUNT}/{name}.dump"
        return (
            f'set -e; PARTIAL="{partial}"; rm -f "$PARTIAL"; {self.dump}; '
            f'mv "$PARTIAL" "{final}"; echo "dump written: $(wc -c < "{final}") bytes"'
        )

    def load_script(self, name: str, *, migrate: bool = False, uploads: bool = False) -> str:
        archive = f"{MOUNT}/{name}.uploads.tar.gz" if uploads else ""
        return self.load_script_for(f"{MOUNT}/{name}.dump", migrate=migrate, uploads=archive)

    def load_script_for(self, dump: str, *, migrate: bool = False, uploads: str = "") -> str:
        """Load ``dump``; ``migrate``: it is of an older engine version, so it replaces the
        whole schema (and the record of finished migrations: the migration Job runs again);
        ``uploads``: the uploaded files' archive, which replaces the claim's files once the
        database is loaded ("": the files are left as they are)."""
        load = self.load_older if migrate and self.load_older else self.load
        before, after = self.restore_files_scripts(uploads) if uploads else ("", "")
        return (
            f'set -e; DUMP="{dump}"; test -s "$DUMP" || {{ echo "no dump at $DUMP" >&2; exit 2; }}; '
            f"{before + '; ' if before else ''}{load}; {after + '; ' if after else ''}echo restored"
        )

    def stream_script(self) -> str:
        """The dump to standard output (the S3 uploader reads it from there)."""
        return f"set -e; {self.stream}"


# PostgreSQL: the custom format (compressed, pg_restore --clean). storeplane's own
# bookkeeping table (which migration Job finished) is not part of a store's data: the store
# being restored keeps its own, so its workloads start without waiting for a migration.
_MEDUSA = BackupRecipe(
    engine=Engine.MEDUSA,
    chart="medusa-store",
    image="postgres:16-alpine",
    uid=70,
    env=(
        {"name": "PGHOST", "value": "medusa-postgres"},
        {"name": "PGUSER", "value": "medusa"},
        {"name": "PGDATABASE", "value": "medusa"},
        _secret_env("PGPASSWORD", "db-password"),
    ),
    dump=(
        "pg_dump --format=custom --no-owner --no-privileges "
        '--exclude-table=storeplane_migrations --file="$PARTIAL"'
    ),
    # --no-sync: a pipe cannot be fsynced (pg_dump would fail with EINVAL).
    stream=(
        "pg_dump --format=custom --no-owner --no-privileges --no-sync "
        "--exclude-table=storeplane_migrations"
    ),
    # One transaction: a failed or interrupted load rolls back and leaves the data as it was.
    load=(
        "pg_restore --clean --if-exists --no-owner --no-privileges --single-transaction "
        '--exit-on-error --dbname="$PGDATABASE" "$DUMP"'
    ),
    restorable=True,
    s3_tag="pg16",
    uploads_claim="medusa-uploads",  # charts/medusa-store/templates/uploads-pvc.yaml
    # An older version's dump replaces the whole schema (a newer schema's tables, which --clean
    # would leave, must go, or the migrations that make them fail), storeplane_migrations with
    # it, so the store's migration Job runs again. Still one transaction: the SQL is written
    # out first, then the drop and the load run together in psql --single-transaction.
    load_older=(
        'pg_restore --no-owner --no-privileges --file=/tmp/restore.sql "$DUMP"; '
        "psql -v ON_ERROR_STOP=1 --quiet --single-transaction "
        '-c "DROP SCHEMA public CASCADE; CREATE SCHEMA public;" -f /tmp/restore.sql; '
        "rm -f /tmp/restore.sql"
    ),
)

_WOOCOMMERCE = BackupRecipe(
    engine=Engine.WOOCOMMERCE,
    chart="woocommerce-store",
    image="mariadb:11",
    uid=999,
    env=(
        {"name": "DB_HOST", "value": "woocommerce-mariadb"},
        {"name": "DB_USER", "value": "wordpress"},
        {"name": "DB_NAME", "value": "wordpress"},
        _secret_env("MYSQL_PWD", "db-password"),
    ),
    dump=(
        'mariadb-dump --host="$DB_HOST" --user="$DB_USER" --single-transaction --routines '
        '"$DB_NAME" > "$PARTIAL"'
    ),
    stream='mariadb-dump --host="$DB_HOST" --user="$DB_USER" --single-transaction --routines "$DB_NAME"',
    load='mariadb --host="$DB_HOST" --user="$DB_USER" "$DB_NAME" < "$DUMP"',
    restorable=False,
    s3_tag="mariadb11",
    files_note="wp-content (uploaded media, themes and plugins)",
)

_RECIPES = {r.engine: r for r in (_MEDUSA, _WOOCOMMERCE)}


def recipe_for(engine: Engine) -> BackupRecipe:
    return _RECIPES[engine]


@cache
def _chart_defaults(chart: str) -> dict[str, Any]:
    loaded = yaml.safe_load((CHARTS_DIR / chart / "values.yaml").read_text())
    return loaded if isinstance(loaded, dict) else {}


def engine_version(store: Store) -> str:
    """The engine version a store's data is at: the version whose rollout converged, else the
    one its spec asks for, else (a hand-built spec) the version its chart deploys."""
    declared = store.running_engine_version or store.spec.engine_version
    if declared:
        return str(declared)
    tag = (_chart_defaults(recipe_for(store.spec.engine).chart).get("image") or {}).get("tag")
    return str(tag or "unknown")


def stopped_values(values: Values, store: Store) -> Values:
    """``values`` with the engine's workloads stopped for a restore (Medusa: server and worker
    at zero replicas). A clone's seed waits until its data is loaded: it then adds the clone's
    own admin login to the restored database."""
    result = copy.deepcopy(values)
    if store.spec.engine is Engine.MEDUSA:
        result["server"] = {**result.get("server", {}), "replicas": 0}
        result["worker"] = {**result.get("worker", {}), "replicas": 0}
        if store.restore is not None and store.restore.clone:
            result["seed"] = {**result.get("seed", {}), "enabled": False}
    return result
