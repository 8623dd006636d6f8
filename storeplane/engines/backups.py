"""How each engine's database is dumped and loaded: the engine's own database image, the tool
(``pg_dump``/``pg_restore`` for Medusa's PostgreSQL, ``mariadb-dump``/``mariadb`` for
WooCommerce's MariaDB), its connection environment and the chart values that stop the
engine's workloads while a restore loads the data.

Read by the reconciler's backup and restore Jobs (``reconciler/backup_jobs.py``). The Jobs
write into ``/backups``: ``<id>.partial`` first, renamed to ``<id>.dump`` only once the dump
tool succeeded, so a failed or killed backup never leaves a file that looks good.
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

    def dump_script(self, name: str) -> str:
        partial, final = f"{MOUNT}/{name}.partial", f"{MOUNT}/{name}.dump"
        return (
            f'set -e; PARTIAL="{partial}"; rm -f "$PARTIAL"; {self.dump}; '
            f'mv "$PARTIAL" "{final}"; echo "dump written: $(wc -c < "{final}") bytes"'
        )

    def load_script(self, name: str, *, migrate: bool = False) -> str:
        return self.load_script_for(f"{MOUNT}/{name}.dump", migrate=migrate)

    def load_script_for(self, dump: str, *, migrate: bool = False) -> str:
        """Load ``dump``; ``migrate``: it is of an older engine version, so it replaces the
        whole schema (and the record of finished migrations: the migration Job runs again)."""
        load = self.load_older if migrate and self.load_older else self.load
        return (
            f'set -e; DUMP="{dump}"; test -s "$DUMP" || {{ echo "no dump at $DUMP" >&2; exit 2; }}; '
            f"{load}; echo restored"
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
