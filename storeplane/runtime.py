"""Assemble and run one storeplane process: migrations, the API server and the reconciler.

Called by ``storeplane dev`` (with the in-process simulator) and ``storeplane serve`` (against
the cluster in KUBECONFIG or in-cluster config). Both run the same code; only the cluster
connection and the settings differ.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import uvicorn

from storeplane.api.app import create_app
from storeplane.cluster import KubernetesCluster
from storeplane.cluster.cache import ObjectCache
from storeplane.cluster.cached import CachedCluster
from storeplane.cluster.store_objects import StoreObjects, install_crd
from storeplane.cluster.watch import ClusterWatcher
from storeplane.db import (
    SqlBackupRepository,
    SqlCheckRepository,
    SqlRolloutRepository,
    SqlStoreRepository,
    SqlUserRepository,
    create_engine_for,
    migrate,
)
from storeplane.db.steps import SqlStepJournal
from storeplane.dev_ingress import StoreHostForwarder
from storeplane.domain.checks import SmokeCheck, not_checkable
from storeplane.domain.conditions import Reason
from storeplane.domain.events import Event
from storeplane.domain.ports import ClusterPort
from storeplane.domain.store import Store
from storeplane.engines import exposure_from
from storeplane.engines.base import image_repositories
from storeplane.engines.catalogue import catalogue_from
from storeplane.observability.metrics import StoreCollector, install_store_collector
from storeplane.observability.outages import CLUSTER, DATABASE
from storeplane.reconciler.backup_jobs import BackupTargetConfig, S3Target
from storeplane.reconciler.backups import BackupRunner
from storeplane.reconciler.checks import CheckRunner
from storeplane.reconciler.context import ReconcileContext, Timing
from storeplane.reconciler.inventory import StoreInventory
from storeplane.reconciler.loop import ReconcileLoop
from storeplane.reconciler.manifests import PlatformConfig
from storeplane.reconciler.rollouts import RolloutDriver
from storeplane.render.cache import RenderCache
from storeplane.render.charts import CHARTS_DIR
from storeplane.services import auth
from storeplane.services.store_objects import StoreObjectSync
from storeplane.settings import Settings
from storeplane.wakes import WakePipe

log = logging.getLogger(__name__)
STORE_CRD = CHARTS_DIR / "platform" / "crds" / "stores.storeplane.dev.yaml"
DASHBOARD_DIR = Path(__file__).resolve().parent.parent / "dashboard" / "dist"
# How long the reconciler waits for the watches' first lists before its first claim with no
# page of them answered (they take seconds, minutes for 400,000 objects on a busy machine;
# a cluster that refuses connections or the lists ends the wait at once).
FIRST_LISTS_WAIT = 120.0


@dataclass(frozen=True)
class Bound:
    """A listening socket bound before the server starts, so port 0 resolves to a real port."""

    sock: socket.socket
    host: str
    port: int

    @property
    def url(self) -> str:
        host = "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host
        return f"http://{host}:{self.port}"


def bind(host: str, port: int) -> Bound:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise SystemExit(
            f"cannot listen on {host}:{port} ({exc.strerror}); pick another port with --port"
        ) from exc
    sock.listen(128)
    sock.set_inheritable(True)
    return Bound(sock, host, sock.getsockname()[1])


def backup_target(settings: Settings) -> BackupTargetConfig:
    """The backup target of ``settings``: a folder or an S3 bucket (none when backups are off)."""
    if not settings.backups_enabled:
        return BackupTargetConfig()
    if settings.backup_target == "s3":
        return BackupTargetConfig(
            s3=S3Target(
                bucket=settings.backup_s3_bucket,
                prefix=settings.backup_s3_prefix,
                endpoint_url=settings.backup_s3_endpoint_url,
                region=settings.backup_s3_region,
                secret=settings.backup_s3_secret,
                secret_namespace=settings.backup_s3_secret_namespace,
                image_repository=settings.backup_s3_image_repository,
                egress_cidrs=tuple(
                    c.strip() for c in settings.backup_s3_egress_cidrs.split(",") if c.strip()
                ),
            )
        )
    folder = settings.backup_folder
    folder.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0 and not _reachable_by_others(folder):
        log.warning(
            "backup folder %s is not reachable by other users; as root the simulator's node runs "
            "the database tools as their own users (postgres), so backups will fail: make its "
            "parent folders traversable (chmod o+x) or set STOREPLANE_BACKUP_DIR",
            folder,
        )
    return BackupTargetConfig(folder=folder)


def _reachable_by_others(folder: Path) -> bool:
    return all(os.stat(p).st_mode & 0o001 for p in (folder, *folder.parents))


def reconcile_context(settings: Settings, cluster: ClusterPort) -> ReconcileContext:
    return ReconcileContext(
        backups=backup_target(settings),
        cluster=cluster,
        renderer=RenderCache(),
        charts_dir=CHARTS_DIR,
        exposure=exposure_from(settings),
        platform=PlatformConfig(
            ingress_namespace=settings.ingress_namespace,
            maintenance_image=settings.maintenance_image,
        ),
        catalogue=catalogue_from(settings.engine_catalogue),
        image_repositories=image_repositories(settings),
        timing=Timing(
            poll=timedelta(seconds=settings.poll_seconds),
            resync=timedelta(seconds=settings.resync_seconds),
            deadline=settings.provision_deadline,
            backoff_base=settings.backoff_base_seconds,
            backoff_cap=settings.backoff_cap_seconds,
        ),
    )


def default_owner() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"


async def run(
    settings: Settings,
    cluster: KubernetesCluster,
    bound: Bound,
    *,
    owner: str,
    on_started: Callable[[str], None] | None = None,
    on_bootstrap: Callable[[str], None] | None = None,
    token_file: Path | None = None,
    store_ingress: str | None = None,
    store_crd: Path | None = None,
    wakes: WakePipe | None = None,
    children: Sequence[int] = (),
) -> int:
    """Migrate, then serve the API and run the reconciler until interrupted (SIGINT/SIGTERM).

    On a database without users, an ``admin`` user and its first token are made and the token
    is handed to ``on_bootstrap`` (to print once). With ``token_file`` (``storeplane dev``) a
    working admin token is kept in that file (mode 0600) instead. With ``store_ingress`` (the
    simulator's ingress listener, ``storeplane dev``) requests for ``*.localhost`` store hosts
    on the same port are forwarded there. With ``store_crd`` (``storeplane dev``) the Store
    CRD in that file is applied to the cluster first (a real cluster gets it from the
    platform chart).

    With ``wakes`` (``storeplane serve --api-processes N``), the API processes forked as
    ``children`` send their writes' wake-ups through that pipe; this process runs the runners
    once for all of them. If a child exits, this process stops too (status 1, so the
    supervisor restarts the whole set) rather than serve on with fewer processes unnoticed.
    Returns the exit status.
    """
    for dependency in (DATABASE, CLUSTER):
        dependency.report_every(settings.outage_log_every_seconds)
    migrate(settings.sqlalchemy_url)
    if store_crd is not None:
        await install_crd(cluster.client, store_crd)
    engine = create_engine_for(settings.sqlalchemy_url)
    repo = SqlStoreRepository(engine)
    users = SqlUserRepository(engine)
    if token_file is not None:
        auth.ensure_token_file(users, token_file)
    else:
        token = auth.bootstrap_admin(users)
        if token is not None and on_bootstrap is not None:
            on_bootstrap(token)
    # Reads come from a watch-fed cache; every watch event wakes the store it belongs to.
    cache = ObjectCache()
    watcher = ClusterWatcher(cluster.client, cache, lambda store_id: loop.wake(store_id))
    backups = SqlBackupRepository(engine)

    async def teardown_hold(store_id: str) -> str | None:
        running = await asyncio.to_thread(backups.running_for, store_id)
        return f"backup {running.id} is being taken" if running is not None else None

    ctx = replace(
        reconcile_context(settings, CachedCluster(cluster, cache, watcher)),
        # Every cluster write is recorded before and after it (reconciler/steps.py).
        journal=SqlStepJournal(engine, owner=owner),
        teardown_hold=teardown_hold,
    )
    loop = ReconcileLoop(
        repo,
        ctx,
        owner=owner,
        workers=settings.workers,
        lease=settings.lease,
        on_saved=lambda store, events: after_restore(store, events),
        before_first_claim=lambda: watcher.first_lists(FIRST_LISTS_WAIT),
    )
    # Order checks the API records run here, where the cluster (and the admin password in
    # each store's Secret) is reachable; see reconciler/checks.py for the replica story.
    checks = SqlCheckRepository(engine)
    check_runner = CheckRunner(checks, repo, ctx, owner=owner, lease=settings.lease)
    # Backups the API, schedules and deletions record are driven here (reconciler/backups.py).
    backup_runner = BackupRunner(
        backups,
        repo,
        ctx,
        owner=owner,
        lease=settings.lease,
        final_backup_days=settings.final_backup_days,
        schedules=settings.backup_schedules,
    )

    def after_restore(store: Store, events: Sequence[Event]) -> None:
        # A restore ends as a deploy does with gate: smoke: an order check where the store is
        # a real shop (its outcome is the check's event).
        if (
            any(e.reason == Reason.RESTORE_SUCCEEDED for e in events)
            and not_checkable(store) is None
        ):
            check = SmokeCheck.request(store.id, requested_by="system", now=ctx.clock())
            event = Event.normal(
                store.id,
                Reason.SMOKE_TEST_REQUESTED,
                f"order check {check.id} after the restore: a guest order placed at "
                f"{store.url} and looked up in the store's admin",
                time=ctx.clock(),
                generation=store.generation,
            )
            checks.create(check, [event])
            check_runner.wake(store.id)

    # Rollouts are driven here too, each by one replica at a time (reconciler/rollouts.py);
    # their store moves wake the loop and the check runner like an API write does.
    rollout_driver = RolloutDriver(
        SqlRolloutRepository(engine),
        repo,
        checks,
        settings,
        owner=owner,
        clock=ctx.clock,
        lease=settings.lease,
        # It polls its stores' states as the reconciler polls workloads, at the same pace.
        tick=settings.poll_seconds,
        on_change=lambda store_id: on_change(store_id),
    )

    def on_change(store_id: str) -> None:
        loop.wake(store_id)
        check_runner.wake(store_id)
        rollout_driver.wake(store_id)
        backup_runner.wake(store_id)

    store_objects = None
    if settings.watch_store_objects:
        door = auth.ensure_user(
            users, settings.store_object_user, max_live_stores=settings.store_object_limit
        )
        store_objects = StoreObjectSync(
            repo, StoreObjects(cluster.client), settings, door, on_change=on_change
        )
    install_store_collector(
        StoreCollector(repo.phase_counts, repo.due_summary, lambda: loop.queue_depth)
    )
    app = create_app(
        settings,
        repo,
        users=users,
        checks=checks,
        pod_logs=cluster,
        store_objects=StoreInventory(ctx),
        dashboard_dir=DASHBOARD_DIR if (DASHBOARD_DIR / "index.html").exists() else None,
        on_change=on_change,
    )
    served: Any = app if store_ingress is None else StoreHostForwarder(app, store_ingress)
    server = uvicorn.Server(
        uvicorn.Config(
            served, log_level="warning", access_log=False, lifespan="on", log_config=None
        )
    )
    stop = asyncio.Event()
    stop_listening = wakes.listen(on_change) if wakes is not None else None
    lost_child = asyncio.create_task(_first_exit(children), name="api-children")
    lost_child.add_done_callback(lambda _: setattr(server, "should_exit", True))
    watching = asyncio.create_task(watcher.run(stop), name="watches")
    reconciler = asyncio.create_task(loop.run(stop), name="reconciler")
    checking = asyncio.create_task(check_runner.run(stop), name="checks")
    objects_task = (
        asyncio.create_task(store_objects.run(stop), name="store-objects")
        if store_objects is not None
        else None
    )
    rolling = asyncio.create_task(rollout_driver.run(stop), name="rollouts")
    backing_up = asyncio.create_task(backup_runner.run(stop), name="backups")
    serving = asyncio.create_task(server.serve(sockets=[bound.sock]), name="api")
    while not server.started and not serving.done():
        await asyncio.sleep(0.02)
    if on_started and server.started:
        on_started(bound.url)
    try:
        await serving  # returns when uvicorn handled SIGINT/SIGTERM (or a child exited)
    finally:
        if stop_listening is not None:
            stop_listening()
        stopped_child = lost_child.result() if lost_child.done() else None
        lost_child.cancel()
        stop.set()
        await reconciler
        await checking
        if objects_task is not None:
            await objects_task
        await rolling
        await backing_up
        await watching
        await cluster.close()
        engine.dispose()
    if stopped_child is not None:
        pid, status = stopped_child
        log.error(
            "API process %d exited (%s); stopping so that the supervisor restarts storeplane",
            pid,
            _describe(status),
        )
        return 1
    return 0


async def _first_exit(children: Sequence[int]) -> tuple[int, int] | None:
    """Wait until one of ``children`` (API processes) exits: its pid and wait status. Never
    returns when there are none."""
    if not children:
        await asyncio.Event().wait()
    while True:
        for pid in children:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                return pid, status
        await asyncio.sleep(0.5)


def _describe(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"killed by signal {os.WTERMSIG(status)}"
    return f"exit status {os.waitstatus_to_exitcode(status)}"


async def serve_api(
    settings: Settings, cluster: KubernetesCluster, bound: Bound, wakes: WakePipe
) -> None:
    """One API process of ``storeplane serve --api-processes N`` (a forked child): the API on
    the inherited socket, its writes' wake-ups sent to the parent through ``wakes``. No runner
    runs here; reads of live objects (the store's object list, pod logs) go to the cluster
    directly, without the parent's watch-fed cache."""
    engine = create_engine_for(settings.sqlalchemy_url)
    repo = SqlStoreRepository(engine)
    # The queue's in-flight passes are the parent's; this process reports the due backlog.
    install_store_collector(StoreCollector(repo.phase_counts, repo.due_summary, lambda: 0))
    app = create_app(
        settings,
        repo,
        users=SqlUserRepository(engine),
        checks=SqlCheckRepository(engine),
        pod_logs=cluster,
        store_objects=StoreInventory(reconcile_context(settings, cluster)),
        dashboard_dir=DASHBOARD_DIR if (DASHBOARD_DIR / "index.html").exists() else None,
        on_change=wakes.send,
    )
    server = uvicorn.Server(
        uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on", log_config=None)
    )
    try:
        await server.serve(sockets=[bound.sock])
    finally:
        await cluster.close()
        engine.dispose()
