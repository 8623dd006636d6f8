"""A store journey run with the platform chart's own ServiceAccount against a simulator with
RBAC, for the least-privilege scenario (tests/scenarios/test_rbac_least_privilege.py).

The storeplane side is wired as ``storeplane serve`` wires it (storeplane/runtime.py): the
lightkube adapter with a kubeconfig holding the ServiceAccount's token, the watch-fed cache
and its watcher, the real reconciler passes and the real helm; the reconcile loop's database
and leases are left out (they never talk to the cluster). Where the loop mirrors a pass's
events into Kubernetes Events (best effort), the journey posts them itself and counts a
refusal as a failed step, since it is a call the ClusterRole must allow.

:func:`run_journey` stops at the first failed step and says which step and what the API
server answered, so a test can name the call a missing rule breaks.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx

from storeplane.cluster import connect
from storeplane.cluster.cache import ObjectCache
from storeplane.cluster.cached import CachedCluster
from storeplane.cluster.watch import ClusterWatcher
from storeplane.domain.errors import ReconcileError
from storeplane.domain.plans import PlanName
from storeplane.domain.store import Engine, Phase, Store, StoreSpec, new_store_id
from storeplane.reconciler.context import ReconcileContext, Timing
from storeplane.reconciler.reconcile import reconcile_store
from storeplane.render import CHARTS_DIR, RenderCache, chart_path, render_chart
from storeplane.sim.runner import RunningSimulator

STORE_LABEL = "storeplane.dev/store-id"
PLATFORM_NAMESPACE = "storeplane"
RELEASE = "storeplane"
RBAC_KINDS = {"ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"}

# Every kind storeplane's objects could be, as the admin checks residue after the journey.
RESIDUE_URLS = [
    "/api/v1/namespaces", "/api/v1/resourcequotas", "/api/v1/limitranges",
    "/api/v1/serviceaccounts", "/api/v1/secrets", "/api/v1/configmaps", "/api/v1/services",
    "/api/v1/persistentvolumeclaims", "/api/v1/pods", "/apis/apps/v1/deployments",
    "/apis/apps/v1/statefulsets", "/apis/apps/v1/replicasets", "/apis/batch/v1/jobs",
    "/apis/networking.k8s.io/v1/networkpolicies", "/apis/networking.k8s.io/v1/ingresses",
    "/apis/rbac.authorization.k8s.io/v1/roles",
    "/apis/rbac.authorization.k8s.io/v1/rolebindings",
]  # fmt: skip


async def platform_rbac(helm_bin: str | None = None) -> list[dict[str, Any]]:
    """The ServiceAccount and RBAC objects ``helm template charts/platform`` renders."""
    rendered = await render_chart(
        chart_path("platform"), RELEASE, PLATFORM_NAMESPACE, {}, helm_bin=helm_bin
    )
    return [o for o in rendered if o["kind"] in RBAC_KINDS]


def admin_client(sim: RunningSimulator) -> httpx.Client:
    assert sim.admin_token and sim.serving_cert, "the simulator must run with rbac=True"
    return httpx.Client(
        base_url=sim.url,
        headers={"Authorization": f"Bearer {sim.admin_token}"},
        verify=sim.serving_cert.client_context(),
        timeout=10,
    )


def _path(obj: dict[str, Any]) -> str:
    group_version = obj["apiVersion"]
    base = f"/apis/{group_version}" if "/" in group_version else f"/api/{group_version}"
    plural = {"ServiceAccount": "serviceaccounts", "Namespace": "namespaces"}.get(
        obj["kind"], obj["kind"].lower() + "s"
    )
    namespace = obj["metadata"].get("namespace")
    scope = f"/namespaces/{namespace}" if namespace else ""
    return f"{base}{scope}/{plural}/{obj['metadata']['name']}"


def apply(admin: httpx.Client, obj: dict[str, Any]) -> dict[str, Any]:
    """Server-side apply as the admin."""
    response = admin.patch(
        _path(obj),
        params={"fieldManager": "rbac-journey", "force": "true"},
        json=obj,
        headers={"Content-Type": "application/apply-patch+yaml"},
    )
    response.raise_for_status()
    result: dict[str, Any] = response.json()
    return result


def token_for(admin: httpx.Client, namespace: str, name: str) -> str:
    """``kubectl create token``: a TokenRequest for the ServiceAccount."""
    response = admin.post(
        f"/api/v1/namespaces/{namespace}/serviceaccounts/{name}/token",
        json={"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": {}},
    )
    response.raise_for_status()
    return str(response.json()["status"]["token"])


def install_identity(
    admin: httpx.Client,
    objects: list[dict[str, Any]],
    suffix: str = "",
    drop_rule: int | None = None,
) -> tuple[str, str]:
    """Apply the chart's ServiceAccount, ClusterRole and ClusterRoleBinding (renamed with
    ``suffix``, the ClusterRole without rule ``drop_rule``); returns (namespace, SA name)."""
    apply(admin, {"apiVersion": "v1", "kind": "Namespace",
                  "metadata": {"name": PLATFORM_NAMESPACE}})  # fmt: skip
    sa_name = ""
    for original in objects:
        obj = _renamed(original, suffix)
        if obj["kind"] == "ClusterRole" and drop_rule is not None:
            obj["rules"] = [r for i, r in enumerate(obj["rules"]) if i != drop_rule]
        if obj["kind"] == "ServiceAccount":
            sa_name = obj["metadata"]["name"]
        apply(admin, obj)
    assert sa_name, "the platform chart renders no ServiceAccount"
    return PLATFORM_NAMESPACE, sa_name


def _renamed(obj: dict[str, Any], suffix: str) -> dict[str, Any]:
    obj = {**obj, "metadata": {**obj["metadata"]}}
    obj["metadata"]["name"] += suffix
    if obj["kind"] in ("ServiceAccount", "Role", "RoleBinding"):
        # helm install -n storeplane puts the release's namespaced objects there
        obj["metadata"].setdefault("namespace", PLATFORM_NAMESPACE)
    if "roleRef" in obj:
        obj["roleRef"] = {**obj["roleRef"], "name": obj["roleRef"]["name"] + suffix}
    if "subjects" in obj:
        obj["subjects"] = [{**s, "name": s["name"] + suffix} for s in obj["subjects"]]
    return obj


@dataclass
class JourneyResult:
    """``failed_step`` None: the whole journey passed. Otherwise the step and what the
    store (its last error, or the refused call) says."""

    store_id: str
    failed_step: str | None = None
    message: str = ""
    steps: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)


class _Failed(Exception):
    def __init__(self, step: str, message: str) -> None:
        super().__init__(f"{step}: {message}")
        self.step = step
        self.message = message


async def run_journey(
    sim: RunningSimulator,
    token: str,
    workdir: Path,
    *,
    engine: Engine = Engine.MEDUSA,
    passes: int = 80,
    pause: float = 0.05,
) -> JourneyResult:
    """Create a store, wait for Ready, change its plan, wait for Ready, delete it, wait for
    Deleted and check nothing labelled for it is left - all as the token's holder."""
    kubeconfig = sim.write_kubeconfig(workdir / f"kubeconfig-{new_store_id()}", token=token)
    inner = connect(kubeconfig, timeout=10)
    cache = ObjectCache()
    woken: list[str] = []
    watcher = ClusterWatcher(inner.client, cache, woken.append)
    cluster = CachedCluster(inner, cache, watcher)
    timing = Timing(poll=timedelta(milliseconds=50), backoff_base=0.05, backoff_cap=0.2)
    ctx = ReconcileContext(cluster=cluster, renderer=RenderCache(), charts_dir=CHARTS_DIR,
                           timing=timing)  # fmt: skip
    stop = asyncio.Event()
    watching = asyncio.create_task(watcher.run(stop))
    store_id = new_store_id()
    result = JourneyResult(store_id)
    store = Store.create(StoreSpec(f"shop-{store_id[-6:]}", engine, PlanName.SMALL),
                         store_id=store_id, url=ctx.exposure.url(store_id), now=ctx.clock(),
                         deadline=timing.deadline)  # fmt: skip

    async def until(step: str, store: Store, phases: set[Phase]) -> Store:
        result.steps.append(step)
        for _ in range(passes):
            outcome = await reconcile_store(store, ctx)
            store = outcome.store
            result.reasons += [e.reason for e in outcome.events]
            if outcome.error_reason is not None:
                raise _Failed(f"{step}: {outcome.error_reason}", store.last_error or "")
            refused = [c for c in store.conditions if "forbid" in c.message or " 403" in c.message]
            if refused:  # e.g. the health check through the service proxy answered 403
                raise _Failed(f"{step}: {refused[0].type} {refused[0].reason}", refused[0].message)
            for event in outcome.events:  # what ReconcileLoop._post_events mirrors
                if store.phase == Phase.DELETED or store.is_deleting:
                    break
                try:
                    await cluster.record_event(store.namespace, event.type.value, event.reason,
                                               event.message)  # fmt: skip
                except Exception as exc:
                    raise _Failed(f"{step}: post event {event.reason}", str(exc)) from exc
            if store.phase in phases:
                return store
            await asyncio.sleep(pause)
        raise _Failed(f"{step}: stuck in {store.phase.value}",
                      store.last_error or _false_conditions(store))  # fmt: skip

    try:
        store = await until("provision", store, {Phase.READY})
        await read_a_log(inner, store.namespace)  # what GET /api/v1/stores/{id}/logs does
        changed = store.with_plan(PlanName.MEDIUM, now=ctx.clock(), deadline=timing.deadline)
        store = await until("change plan", changed, {Phase.READY})
        store = await until("delete", store.request_deletion(now=ctx.clock()), {Phase.DELETED})
        result.steps.append("verify residue")
        with admin_client(sim) as admin:
            left = residue(admin, store_id)
        if left:
            raise _Failed("verify residue", ", ".join(left))
    except _Failed as failed:
        result.failed_step, result.message = failed.step, failed.message
    finally:
        stop.set()
        await watching
        await inner.close()
    return result


async def read_a_log(cluster: Any, namespace: str) -> None:
    """List the store's pods and read one container's log, as the logs endpoint would."""
    try:
        pods = await cluster.pods(namespace)
        pod = next(p for p in pods if p.containers)
        await cluster.pod_log(namespace, pod.name, pod.containers[0], tail=1)
    except ReconcileError as exc:
        raise _Failed("provision: read logs", exc.message) from exc


def _false_conditions(store: Store) -> str:
    return "; ".join(
        f"{c.type}={c.status.value} {c.reason}: {c.message}"
        for c in store.conditions
        if c.status.value != "True"
    )


def residue(admin: httpx.Client, store_id: str) -> list[str]:
    """Everything still labelled for the store, as the admin sees it."""
    left = []
    for url in RESIDUE_URLS:
        response = admin.get(url, params={"labelSelector": f"{STORE_LABEL}={store_id}"})
        response.raise_for_status()
        left += [f"{url.rsplit('/', 1)[-1]}/{o['metadata']['name']}"
                 for o in response.json()["items"]]  # fmt: skip
    return left


__all__ = ["JourneyResult", "admin_client", "install_identity", "platform_rbac", "replace",
           "residue", "run_journey", "token_for"]  # fmt: skip
