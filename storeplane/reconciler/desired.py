"""What a store should look like in the cluster: its namespace, platform objects and the
objects rendered from its engine's chart. Computed fresh for each pass (rendering is cached)."""

from __future__ import annotations

from dataclasses import dataclass

from storeplane.domain.backups import RestoreStage
from storeplane.domain.conditions import Reason
from storeplane.domain.errors import InvalidRequestError, TerminalError
from storeplane.domain.ports import Manifest, ObjectRef
from storeplane.domain.store import Store
from storeplane.engines import profile_for
from storeplane.engines.backups import engine_version, stopped_values
from storeplane.engines.maintenance import maintenance_manifests
from storeplane.engines.registry import CREDENTIAL_KEYS, CREDENTIALS_SECRET
from storeplane.reconciler import backup_jobs, manifests
from storeplane.reconciler.context import ReconcileContext

# Kinds that live outside a namespace; everything else rendered is placed in the store's.
_CLUSTER_SCOPED = frozenset({"Namespace", "ClusterRole", "ClusterRoleBinding", "PersistentVolume"})


@dataclass(frozen=True)
class DesiredState:
    namespace: Manifest
    policies: list[Manifest]
    # Created once if absent and never compared by content (generated secrets).
    create_once: list[Manifest]
    workloads: list[Manifest]

    def refs(self) -> set[ObjectRef]:
        every = [*self.policies, *self.create_once, *self.workloads]
        return {ObjectRef.of(m) for m in every}


def _own(store: Store, manifest: Manifest) -> Manifest:
    """Place a rendered object in the store's namespace and make sure it carries its labels,
    even if a chart forgot them (storeplane finds, prunes and audits objects by label)."""
    meta = manifest.setdefault("metadata", {})
    if manifest.get("kind") in _CLUSTER_SCOPED:
        raise ValueError(
            f"chart rendered a cluster-scoped {manifest.get('kind')} {meta.get('name')}; "
            "store charts may only create namespaced objects"
        )
    meta["namespace"] = store.namespace
    meta["labels"] = {**(meta.get("labels") or {}), **manifests.store_labels(store)}
    return manifest


async def desired_state(store: Store, ctx: ReconcileContext) -> DesiredState:
    profile = profile_for(store.spec.engine)
    try:
        release = profile.release(store, ctx.image_repositories, ctx.catalogue)
    except InvalidRequestError as exc:  # the version left the catalogue: nothing to render
        raise TerminalError(exc.message, reason=Reason.RENDER_FAILED) from exc
    values = profile.values(store, ctx.exposure, release)
    # A restore stops the engine's workloads until the database is loaded (stage by stage;
    # see storeplane.domain.backups), and its Job is one of the store's objects meanwhile.
    loading = store.restore if store.restoring else None
    if loading is not None and loading.stage in (RestoreStage.STOPPING, RestoreStage.RESTORING):
        values = stopped_values(values, store)
    rendered = await ctx.renderer.render(
        ctx.charts_dir / profile.chart, store.id, store.namespace, values
    )
    if store.spec.suspended:
        # The chart points the Ingress at this backend while suspended (see its module).
        rendered = [*rendered, *maintenance_manifests(store, ctx.platform.maintenance_image)]
    if (
        loading is not None
        and loading.migrates(engine_version(store))
        and loading.stage in (RestoreStage.STOPPING, RestoreStage.RESTORING)
    ):
        # An older version's dump: this version's migration Job is left out (pruned) until the
        # load is done, then rendered again, so it runs on the loaded data, as for an upgrade.
        rendered = [m for m in rendered if not _is_migration(m, profile.migration_component)]
    workloads = [_own(store, m) for m in rendered]
    if loading is not None and loading.stage is RestoreStage.RESTORING:
        workloads.append(_own(store, backup_jobs.restore_job(store, loading, ctx.backups)))
    policies = manifests.policies(store, ctx.platform)
    if ctx.backups.s3 is not None:
        policies += await ctx.backups.s3.namespace_objects(store, ctx.cluster)
    elif ctx.backups.enabled:
        policies.append(backup_jobs.backup_claim(store))
    return DesiredState(
        namespace=manifests.namespace(store, profile.pod_security),
        policies=policies,
        create_once=[manifests.credentials_secret(store, CREDENTIALS_SECRET, CREDENTIAL_KEYS)],
        workloads=workloads,
    )


def _is_migration(manifest: Manifest, component: str | None) -> bool:
    labels = manifest.get("metadata", {}).get("labels") or {}
    return (
        component is not None
        and manifest.get("kind") == "Job"
        and labels.get("app.kubernetes.io/component") == component
    )
