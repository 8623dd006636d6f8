"""What a store should look like in the cluster: its namespace, platform objects and the
objects rendered from its engine's chart. Computed fresh for each pass (rendering is cached);
``desired_key`` names it without rendering, so that a pass can tell it did not change."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

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


@dataclass(frozen=True)
class DesiredInputs:
    """Everything a store's desired state is made of except helm's output: the chart and
    values it renders with, and the objects storeplane makes itself. ``desired_state`` is a
    function of these (and the chart's files); ``key`` names them."""

    chart_dir: Path
    values: Mapping[str, Any]
    # Rendered objects are placed in the store's namespace with these labels (see _own).
    labels: dict[str, str]
    # Added to the rendered objects: the maintenance backend (suspended), a restore's Job.
    extra_before_own: list[Manifest]
    extra_after_own: list[Manifest]
    # The migration Job's component, when an older dump's load leaves it out for now.
    drop_migration: str | None
    namespace: Manifest
    policies: list[Manifest]
    create_once: list[Manifest]


async def desired_inputs(store: Store, ctx: ReconcileContext) -> DesiredInputs:
    """The inputs of the store's desired state, without rendering (cheap: no helm, no copy)."""
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
    before: list[Manifest] = []
    if store.spec.suspended:
        # The chart points the Ingress at this backend while suspended (see its module).
        before = list(maintenance_manifests(store, ctx.platform.maintenance_image))
    drop = None
    if (
        loading is not None
        and loading.migrates(engine_version(store))
        and loading.stage in (RestoreStage.STOPPING, RestoreStage.RESTORING)
    ):
        # An older version's dump: this version's migration Job is left out (pruned) until the
        # load is done, then rendered again, so it runs on the loaded data, as for an upgrade.
        drop = profile.migration_component
    after: list[Manifest] = []
    if loading is not None and loading.stage is RestoreStage.RESTORING:
        after.append(backup_jobs.restore_job(store, loading, ctx.backups))
    policies = manifests.policies(store, ctx.platform)
    if ctx.backups.s3 is not None:
        policies += await ctx.backups.s3.namespace_objects(store, ctx.cluster)
    elif ctx.backups.enabled:
        policies.append(backup_jobs.backup_claim(store))
    return DesiredInputs(
        chart_dir=ctx.charts_dir / profile.chart,
        values=values,
        labels=manifests.store_labels(store),
        extra_before_own=before,
        extra_after_own=after,
        drop_migration=drop,
        namespace=manifests.namespace(store, profile.pod_security),
        policies=policies,
        create_once=[manifests.credentials_secret(store, CREDENTIALS_SECRET, CREDENTIAL_KEYS)],
    )


class _DigestingRenderer(Protocol):
    def chart_digest(self, chart_dir: Path) -> str: ...


def desired_key(store: Store, inputs: DesiredInputs, ctx: ReconcileContext) -> str | None:
    """A digest of everything the store's desired state is made of: what helm renders from
    (the chart's content digest, release, namespace and values: the render cache's own key)
    and every object storeplane adds, in full, except the generated Secrets, which are only
    created when absent (their names count, not their random content). Equal keys mean equal
    desired states. None when the renderer cannot name its chart's content (then nothing may
    be taken as unchanged)."""
    digest = getattr(ctx.renderer, "chart_digest", None)
    if digest is None:
        return None
    renderer: _DigestingRenderer = ctx.renderer  # type: ignore[assignment]
    parts = {
        "chart": renderer.chart_digest(inputs.chart_dir),
        "release": store.id,
        "namespace": store.namespace,
        "values": inputs.values,
        "labels": inputs.labels,
        "before": inputs.extra_before_own,
        "after": inputs.extra_after_own,
        "drop_migration": inputs.drop_migration,
        "ns": inputs.namespace,
        "policies": inputs.policies,
        "create_once": [
            [m.get("apiVersion"), m.get("kind"), m["metadata"].get("name")]
            for m in inputs.create_once
        ],
    }
    canonical = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


async def render_desired(
    store: Store, inputs: DesiredInputs, ctx: ReconcileContext
) -> DesiredState:
    """Render the chart (through the renderer's cache) and assemble the desired state."""
    rendered = await ctx.renderer.render(inputs.chart_dir, store.id, store.namespace, inputs.values)
    rendered = [*rendered, *inputs.extra_before_own]
    if inputs.drop_migration is not None:
        rendered = [m for m in rendered if not _is_migration(m, inputs.drop_migration)]
    workloads = [_own(store, m) for m in rendered]
    workloads += [_own(store, m) for m in inputs.extra_after_own]
    return DesiredState(
        namespace=inputs.namespace,
        policies=inputs.policies,
        create_once=inputs.create_once,
        workloads=workloads,
    )


async def desired_state(store: Store, ctx: ReconcileContext) -> DesiredState:
    """What the store should look like now: its inputs, rendered."""
    return await render_desired(store, await desired_inputs(store, ctx), ctx)


def _is_migration(manifest: Manifest, component: str | None) -> bool:
    labels = manifest.get("metadata", {}).get("labels") or {}
    return (
        component is not None
        and manifest.get("kind") == "Job"
        and labels.get("app.kubernetes.io/component") == component
    )
