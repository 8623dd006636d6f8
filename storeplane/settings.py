"""One typed settings object, read from ``STOREPLANE_*`` environment variables (or a ``.env`` file).

Every entry point (``storeplane dev``, ``serve``, the tests) builds one :class:`Settings` and
passes it down; nothing else reads the environment.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATA_DIR = Path(".data")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="STOREPLANE_", env_file=".env", extra="ignore")

    data_dir: Path = Field(
        default=DEFAULT_DATA_DIR,
        description="Where SQLite, the simulator's state and the dev kubeconfig live.",
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL; default sqlite:///<data_dir>/storeplane.db. PostgreSQL: postgresql+psycopg://user:pass@host/db",
    )
    base_domain: str = Field(
        default="localtest.me", description="Stores are served at <store-id>.<base_domain>."
    )
    store_url_port: int | None = Field(
        default=None,
        ge=1,
        le=65535,
        description="Port in store URLs when the ingress does not listen on the scheme's default "
        "port (storeplane dev sets its own port); the Ingress host has none.",
    )
    ingress_class: str = "nginx"
    ingress_namespace: str = Field(
        default="ingress-nginx",
        description="Namespace of the ingress controller, allowed in by each store's NetworkPolicy.",
    )
    tls: bool = Field(
        default=False, description="Serve stores over https (cert-manager issues the certificates)."
    )
    cluster_issuer: str = ""
    maintenance_image: str = Field(
        default="docker.io/library/python:3.12-alpine",
        description="Image of a suspended store's maintenance page (any image with python3 "
        "3.8+ on PATH; a mirror of the default in a private registry, say).",
    )
    engine_catalogue: Path | None = Field(
        default=None,
        description="An operator's engine catalogue (YAML, the format of charts/catalogue.yaml) "
        "used instead of the shipped one: which engine versions stores may run and upgrade to.",
    )
    medusa_image_repository: str = Field(
        default="ghcr.io/storeplane/medusa-store",
        min_length=1,
        description="Registry and repository of the Medusa store image (images/medusa); each "
        "catalogue version names its tag.",
    )
    woocommerce_image_repository: str = Field(
        default="wordpress",
        min_length=1,
        description="Registry and repository of the WordPress images (server and its cli-* "
        "tags for the setup Job); each catalogue version names the tags.",
    )
    provision_deadline_seconds: float = Field(
        default=600.0,
        gt=0,
        description="A store not Ready within this time after a change is Failed.",
    )
    lease_seconds: float = Field(
        default=30.0,
        gt=0,
        description="How long one replica owns a store's reconcile before another may take it over.",
    )
    resync_seconds: float = Field(
        default=600.0,
        gt=0,
        description="Periodic re-check of a Ready store; watches catch changes sooner. Each costs one health check.",
    )
    outage_log_every_seconds: float = Field(
        default=30.0,
        gt=0,
        description="While the database or the cluster stays unreachable, how often the log "
        "says so again (one line; the first and the last line come at once).",
    )
    poll_seconds: float = Field(
        default=1.0, gt=0, description="How soon to look again while waiting on the cluster."
    )
    stream_poll_seconds: float = Field(
        default=1.0,
        gt=0,
        le=60,
        description="How often each API process reads new events for its open event streams "
        "(GET /api/v1/stream): one query per process, whatever the number of open pages.",
    )
    stream_heartbeat_seconds: float = Field(
        default=15.0,
        gt=0,
        le=300,
        description="Quiet time after which an event stream sends a keep-alive comment and "
        "checks the caller's token again (a revoked token's stream ends then).",
    )
    backoff_base_seconds: float = Field(default=1.0, gt=0)
    backoff_cap_seconds: float = Field(default=300.0, gt=0)
    workers: int = Field(
        default=4, ge=1, le=256, description="Stores reconciled concurrently by this process."
    )
    api_threads: int = Field(
        default=8,
        ge=1,
        le=256,
        description="Threads serving the API's database work. More than a few only add GIL "
        "contention (50 clients on 2 cores: p99 of a page fell from ~300 to ~150 ms going "
        "from 40 to 4-12; see bench/RESULTS.md).",
    )
    api_processes: int = Field(
        default=1,
        ge=1,
        le=64,
        description="Processes serving the API on one listening socket (storeplane serve). The "
        "reconciler still runs once, in the first; the others wake it through a pipe. Rate "
        "limits, token caches and /metrics counters are per process.",
    )
    max_request_bytes: int = Field(default=64 * 1024, ge=1024)
    max_stores_per_user: int = Field(
        default=5,
        ge=0,
        description="Live (not yet Deleted) stores a member may own, unless the user has its "
        "own limit (storeplane users create --max-stores). Admins have no limit by default.",
    )
    watch_store_objects: bool = Field(
        default=True,
        description="Watch Kubernetes Store objects (kind Store, storeplane.dev/v1alpha1) and "
        "manage a store for each, once the cluster serves the Store CRD (docs/gitops.md).",
    )
    store_object_user: str = Field(
        default="kubernetes",
        description="The user that stores made from Store objects belong to (a member, made "
        "at start-up when missing); admins see them all.",
    )
    store_object_limit: int = Field(
        default=100,
        ge=0,
        description="Live stores Store objects may make together; beyond it an object's "
        "status says why its store was not made.",
    )
    rate_limit_per_second: float = Field(
        default=10.0,
        ge=0,
        description="Sustained API requests per second per user (0 turns the limit off).",
    )
    rate_limit_burst: int = Field(
        default=200, ge=1, description="Requests a user may make at once before the rate applies."
    )
    anonymous_rate_limit_per_second: float = Field(
        default=1.0,
        ge=0,
        description="Sustained requests per second from one client address without a valid API "
        "token (answered 401 until then, 429 after; 0 turns the limit off).",
    )
    anonymous_rate_limit_burst: int = Field(
        default=20,
        ge=1,
        description="Requests without a valid token one client address may make at once.",
    )

    backups_enabled: bool = Field(
        default=True,
        description="Offer backups, restore and clones (to backup_target; see docs/backups.md).",
    )
    backup_dir: Path | None = Field(
        default=None,
        description="The folder backup target: each store's dumps go to <backup_dir>/<store id>. "
        "Default <data_dir>/backups. It must be a folder the cluster's node sees at the same "
        "path (the simulator's node does; a single-node kind/k3s with a host mount).",
    )
    backup_target: Literal["folder", "s3"] = Field(
        default="folder",
        description="Where backups go: folder (backup_dir, dev's default) or s3 (an "
        "S3-compatible bucket, for production; the backup_s3_* settings).",
    )
    backup_s3_bucket: str = Field(default="", description="The S3 target's bucket.")
    backup_s3_prefix: str = Field(
        default="storeplane/",
        description="Key prefix in the bucket: dumps go to <prefix><store id>/<backup id>.dump.",
    )
    backup_s3_endpoint_url: str = Field(
        default="",
        description="An S3-compatible service's URL (MinIO, Ceph, R2...; path-style requests); "
        "empty: AWS S3 in backup_s3_region.",
    )
    backup_s3_region: str = Field(default="us-east-1", description="The bucket's region.")
    backup_s3_secret: str = Field(
        default="storeplane-backup-s3",
        description="Name of the Secret (in backup_s3_secret_namespace) with the keys "
        "access-key-id and secret-access-key; storeplane copies it into each store's "
        "namespace for its backup Jobs.",
    )
    backup_s3_secret_namespace: str = Field(
        default="storeplane",
        description="Namespace of backup_s3_secret (the platform chart sets its own).",
    )
    backup_s3_image_repository: str = Field(
        default="ghcr.io/storeplane/backup-s3",
        min_length=1,
        description="Repository of the S3 target's Job image (images/backup-s3: the engine's "
        "database image plus python3); its tag names the database image (pg16, mariadb11).",
    )
    backup_s3_egress_cidrs: str = Field(
        default="",
        description="Comma-separated CIDRs the backup Jobs may connect to (the S3 endpoint's "
        "addresses; a "
        "NetworkPolicy names no host names). Default: the endpoint's address when it is one, "
        "else 0.0.0.0/0 on the endpoint's port only.",
    )
    final_backup_default: bool = Field(
        default=True,
        description="final_backup of a store created without one: take a backup before deleting "
        "it (storeplane dev defaults this to false).",
    )
    final_backup_days: float = Field(
        default=7.0,
        gt=0,
        description="Days a store's final backup is kept after the store is deleted.",
    )
    backup_schedules: bool = Field(
        default=True,
        description="Take the scheduled backups of each plan (or store) policy.",
    )

    @property
    def backup_folder(self) -> Path:
        return (self.backup_dir or self.data_dir / "backups").resolve()

    @model_validator(mode="after")
    def _s3_target_complete(self) -> Settings:
        """An S3 target without a bucket stops storeplane at start, naming the setting."""
        if self.backups_enabled and self.backup_target == "s3" and not self.backup_s3_bucket:
            raise ValueError(
                "backup_target is s3 but backup_s3_bucket is empty: set STOREPLANE_BACKUP_S3_BUCKET"
            )
        return self

    @field_validator("engine_catalogue")
    @classmethod
    def _loadable_catalogue(cls, value: Path | None) -> Path | None:
        """An operator's catalogue is checked when the settings are read (at start), so a
        broken file stops storeplane with its reason instead of failing store creates."""
        if value is not None:
            # Imported here: the engines package reads Settings itself.
            from storeplane.engines.catalogue import load_catalogue

            load_catalogue(value)  # CatalogueError is a ValueError: pydantic names the field
        return value

    @property
    def sqlalchemy_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'storeplane.db').resolve()}"

    @property
    def provision_deadline(self) -> timedelta:
        return timedelta(seconds=self.provision_deadline_seconds)

    @property
    def lease(self) -> timedelta:
        return timedelta(seconds=self.lease_seconds)
