"""Gather an Observation of one store from the cluster (the I/O half of "observe, then decide").

Stops early where later facts cannot matter: a store being deleted only needs its namespace;
a missing namespace needs nothing more; the engine's health is checked only once everything
is applied and ready.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from storeplane.domain.conditions import Reason
from storeplane.domain.diff import in_sync
from storeplane.domain.domains import DomainState, DomainStatus, tls_secret_name
from storeplane.domain.errors import RetryableError
from storeplane.domain.pods import pod_problem, selects
from storeplane.domain.ports import (
    LiveObject,
    Manifest,
    NamespacePhase,
    NamespaceStatus,
    ObjectRef,
)
from storeplane.domain.state import Observation, simulated_note, workload_runtime_of
from storeplane.domain.store import Store, WorkloadRuntime
from storeplane.domain.upgrade import MigrationState, MigrationStatus, migration_status
from storeplane.engines import profile_for
from storeplane.engines.maintenance import MAINTENANCE_NAME, is_maintenance
from storeplane.reconciler.context import ReconcileContext
from storeplane.reconciler.desired import DesiredState


def _out_of_sync(
    desired: list[Manifest], live: dict[ObjectRef, LiveObject]
) -> tuple[ObjectRef, ...]:
    result = []
    for manifest in desired:
        ref = ObjectRef.of(manifest)
        found = live.get(ref)
        if found is None or not in_sync(manifest, found.manifest):
            result.append(ref)
    return tuple(result)


def _claim_prefixes(workloads: list[Manifest]) -> tuple[str, ...]:
    """Name prefixes of PVCs made by StatefulSet controllers from volumeClaimTemplates. Those
    copy the template's labels, so they carry the store label without being applied by us."""
    prefixes = []
    for m in workloads:
        if m.get("kind") != "StatefulSet":
            continue
        sts = m["metadata"]["name"]
        for template in m.get("spec", {}).get("volumeClaimTemplates", []):
            prefixes.append(f"{template['metadata']['name']}-{sts}-")
    return tuple(prefixes)


def _is_stale(obj: LiveObject, wanted: set[ObjectRef], claim_prefixes: tuple[str, ...]) -> bool:
    if obj.ref in wanted:
        return False
    meta: dict[str, Any] = obj.manifest.get("metadata", {})
    if meta.get("ownerReferences"):
        return False  # made and collected by a controller, not by us
    return not (obj.ref.kind == "PersistentVolumeClaim" and obj.ref.name.startswith(claim_prefixes))


def _not_ready_message(workload: LiveObject, pods: list[Manifest]) -> str:
    """``Deployment medusa-server: 0/1 replicas ready`` plus, when one of its pods is stuck,
    the pod, container and the kubelet's reason (a missing Secret key, a crash loop...)."""
    message = f"{workload.ref.kind} {workload.ref.name}: {workload.readiness_message}"
    problems = [p for pod in pods if selects(workload.manifest, pod) and (p := pod_problem(pod))]
    return f"{message}; {problems[0]}" if problems else message


async def observe(store: Store, desired: DesiredState | None, ctx: ReconcileContext) -> Observation:
    ns = await ctx.cluster.namespace_status(store.namespace)
    if store.is_deleting or desired is None or ns.phase != NamespacePhase.ACTIVE:
        return Observation(namespace=ns)

    live = {obj.ref: obj for obj in await ctx.cluster.list_owned(store.id, store.namespace)}
    policies = list(_out_of_sync(desired.policies, live))
    if ns.manifest is None or not in_sync(desired.namespace, ns.manifest):
        policies.insert(0, ObjectRef.of(desired.namespace))
    policies += [ObjectRef.of(m) for m in desired.create_once if ObjectRef.of(m) not in live]
    pods = [o.manifest for o in live.values() if o.ref.kind == "Pod"]
    migration = await _migration(store, desired, live, pods, ctx)
    if migration is not None and migration.state is not MigrationState.SUCCEEDED:
        # The upgrade's gate: nothing but the migration Job is looked at (or applied) until it
        # succeeded, so server and worker keep serving the running version.
        return Observation(namespace=ns, policies_out_of_sync=tuple(policies), migration=migration)
    workloads = _out_of_sync(desired.workloads, live)
    prefixes = _claim_prefixes(desired.workloads)
    wanted = desired.refs()
    stale = tuple(o.ref for o in live.values() if _is_stale(o, wanted, prefixes))
    wanted_workloads = {ObjectRef.of(m) for m in desired.workloads}
    not_ready = tuple(
        _not_ready_message(o, pods)
        for o in live.values()
        if o.ref in wanted_workloads and not o.ready
    )
    observation = Observation(
        namespace=ns,
        policies_out_of_sync=tuple(policies),
        workloads_out_of_sync=workloads,
        stale=stale,
        not_ready=not_ready,
        migration=migration,
        restore_failure=_restore_failure(store, live),
    )
    if policies or workloads or stale or not_ready:
        return observation
    if store.spec.suspended:
        # Nothing of the engine runs: no health check; what matters is that nothing still does.
        still = running_pods(pods) or await stopping_processes(store, ctx)
        return Observation(
            namespace=ns, running_pods=still, domains=await domain_statuses(store, ctx)
        )
    return await observe_engine(store, ns, ctx)


async def observe_engine(store: Store, ns: NamespaceStatus, ctx: ReconcileContext) -> Observation:
    """The observation of a store whose objects are all applied, in sync and ready (and that
    is not suspended): only the engine's health and the custom domains are left to look at.
    ``observe`` ends here; a pass that knows its objects did not change since such an
    observation (reconciler/converged.py) starts here."""
    health = await check_health(store, ctx)
    return Observation(
        namespace=ns,
        reachable=health.reachable,
        reachability_message=health.message,
        workload_runtime=health.runtime,
        domains=await domain_statuses(store, ctx),
    )


async def domain_statuses(store: Store, ctx: ReconcileContext) -> tuple[DomainStatus, ...]:
    """Each custom domain's status, once the Ingress that serves it is applied (the caller
    observes only then). With TLS: Active once its certificate Secret (cert-manager writes it
    from the Ingress's TLS entry) holds a certificate. Without TLS the Ingress rule is all
    storeplane controls, so Active means: the Ingress routes the host to the store."""
    statuses = []
    for domain in store.spec.domains:
        if not ctx.exposure.tls:
            statuses.append(
                DomainStatus(
                    domain,
                    DomainState.ACTIVE,
                    f"the Ingress routes http://{domain} to the store (no TLS on this "
                    "platform); its DNS must point at the ingress controller",
                )
            )
            continue
        name = tls_secret_name(domain)
        secret = await ctx.cluster.get(ObjectRef("v1", "Secret", name, store.namespace))
        issuer = ctx.exposure.cluster_issuer or "the ingress's default issuer"
        if secret is not None and (secret.get("data") or {}).get("tls.crt"):
            statuses.append(
                DomainStatus(
                    domain,
                    DomainState.ACTIVE,
                    f"https://{domain} is served with the certificate in Secret {name}",
                )
            )
        else:
            waiting = "has no certificate yet" if secret is not None else "does not exist yet"
            statuses.append(
                DomainStatus(
                    domain,
                    DomainState.PENDING,
                    f"waiting for cert-manager ({issuer}) to issue its certificate: Secret "
                    f"{name} {waiting}; the domain's DNS must point at the ingress controller "
                    "for the ACME challenge",
                )
            )
    return tuple(statuses)


def running_pods(pods: list[Manifest]) -> tuple[str, ...]:
    """Names of the store's pods that still run, leaving out the maintenance backend's and
    those that finished (a Job's): what a suspended store waits for."""
    return tuple(
        sorted(
            str(pod["metadata"]["name"])
            for pod in pods
            if not is_maintenance(pod)
            and (pod.get("status") or {}).get("phase") not in ("Succeeded", "Failed")
        )
    )


def migration_job(store: Store, desired: DesiredState) -> Manifest | None:
    """The rendered migration Job of the store's engine (its profile's migration component)."""
    component = profile_for(store.spec.engine).migration_component
    if component is None:
        return None
    for manifest in desired.workloads:
        labels = manifest.get("metadata", {}).get("labels") or {}
        if manifest.get("kind") == "Job" and labels.get("app.kubernetes.io/component") == component:
            return manifest
    return None


# How much of the failed migration container's output goes into the store's cause.
_LOG_TAIL_LINES = 8
_LOG_TAIL_CHARS = 600


async def _migration(
    store: Store,
    desired: DesiredState,
    live: dict[ObjectRef, LiveObject],
    pods: list[Manifest],
    ctx: ReconcileContext,
) -> MigrationStatus | None:
    """The upgrade's migration Job, while the store upgrades to another version (else None);
    a failed one's cause ends with the failed container's last log lines when the cluster
    can give them."""
    if store.upgrading_from is None:
        return None
    job = migration_job(store, desired)
    if job is None:
        return None
    ref = ObjectRef.of(job)
    found = live.get(ref)
    status = migration_status(ref.name, found.manifest if found is not None else None, pods)
    if status.state is not MigrationState.FAILED or status.pod is None or status.container is None:
        return status
    pod_log = getattr(ctx.cluster, "pod_log", None)
    if pod_log is None:
        return status
    try:
        text = await pod_log(store.namespace, status.pod, status.container, tail=_LOG_TAIL_LINES)
    except Exception:
        return status
    tail = " | ".join(line.strip() for line in str(text).splitlines() if line.strip())
    if not tail:
        return status
    if len(tail) > _LOG_TAIL_CHARS:
        tail = "…" + tail[-_LOG_TAIL_CHARS:]
    return MigrationStatus(
        status.job,
        status.state,
        f"{status.cause}; its last output: {tail}",
        status.pod,
        status.container,
    )


def _restore_failure(store: Store, live: dict[ObjectRef, LiveObject]) -> str | None:
    """Why the store's restore Job failed for good (its Failed condition), or None."""
    if not store.restoring or store.restore is None:
        return None
    ref = ObjectRef("batch/v1", "Job", store.restore.job_name, store.namespace)
    job = live.get(ref)
    if job is None:
        return None
    for condition in (job.manifest.get("status") or {}).get("conditions") or []:
        if condition.get("type") == "Failed" and condition.get("status") == "True":
            why = condition.get("message") or condition.get("reason") or "it failed"
            return f"Job {ref.name}: {why} (its pod's log says more: storeplane stores logs)"
    return None


async def stopping_processes(store: Store, ctx: ReconcileContext) -> tuple[str, ...]:
    """On storeplane's simulator, processes of pods already gone from the API that are still
    being stopped (its node stops a deleted pod's containers after the object is removed; a
    real kubelet keeps the pod Terminating until they stopped, and a cluster answers None)."""
    residue = await ctx.cluster.node_residue(store.namespace)
    if residue is None:
        return ()
    return tuple(
        sorted(
            {
                f"{p.pod} (process of {p.container} stopping)"
                for p in residue.processes
                if not p.pod.startswith(MAINTENANCE_NAME + "-")
            }
        )
    )


@dataclass(frozen=True, slots=True)
class Health:
    reachable: bool
    message: str
    runtime: WorkloadRuntime | None = None  # None: the answer did not tell


async def check_health(store: Store, ctx: ReconcileContext) -> Health:
    """Ask the engine itself, through the cluster (the API server's service proxy), and read
    from the answer what runs the store (the simulator says when it answered in its place)."""
    health = profile_for(store.spec.engine).health
    target = f"service {health.service}:{health.port}{health.path}"
    try:
        answer = await ctx.cluster.service_get(
            store.namespace, health.service, health.port, health.path
        )
    except RetryableError as exc:
        if exc.reason == Reason.CLUSTER_UNAVAILABLE:
            raise  # the API server itself did not answer: nothing is known of the store
        return Health(False, f"{target} did not answer: {exc.message}")
    healthy = health.accepts(answer.status, answer.body)
    runtime = workload_runtime_of(answer, healthy)
    if healthy:
        message = f"{target} answered HTTP {answer.status}"
        if runtime is WorkloadRuntime.SIMULATED:
            message += f", but {simulated_note(answer)}"
        return Health(True, message, runtime)
    return Health(
        False,
        f"{target} answered HTTP {answer.status} {answer.body[:120]!r}; "
        f"expected {health.expectation}",
        runtime,
    )
