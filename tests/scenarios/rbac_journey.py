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
import base64
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import yaml

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
from storeplane.sim.kubeconfig import write_kubeconfig

STOREPLANE = Path(sys.executable).parent / "storeplane"
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
    # Without the Store-object rules: this journey drives stores through the API, and
    # tests/scenarios/test_rbac_least_privilege.py proves each rule it renders is needed.
    rendered = await render_chart(
        chart_path("platform"), RELEASE, PLATFORM_NAMESPACE,
        {"storeObjects": {"enabled": False}}, helm_bin=helm_bin,
    )  # fmt: skip
    return [o for o in rendered if o["kind"] in RBAC_KINDS]


@dataclass(frozen=True)
class SimProcess:
    """``storeplane sim --rbac`` running as its own process (its own core: the journeys and
    the simulator do not share one interpreter lock), known by the kubeconfig it wrote."""

    proc: subprocess.Popen[str]
    url: str
    admin_token: str
    ca_pem: str

    @classmethod
    def start(cls, workdir: Path, *flags: str, timeout: float = 30) -> SimProcess:
        kubeconfig = workdir / "admin.kubeconfig"
        proc = subprocess.Popen(
            [str(STOREPLANE), "sim", "--rbac", "--port", "0", "--kubeconfig", str(kubeconfig),
             *flags],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        assert proc.stdout is not None
        deadline = time.monotonic() + timeout
        for line in proc.stdout:
            if "kubeconfig written" in line:
                break
            if time.monotonic() > deadline:
                break
        else:
            proc.kill()
            raise RuntimeError(f"storeplane sim --rbac did not start (exit {proc.wait()})")
        # Keep reading its output so the pipe never fills and blocks the simulator.
        threading.Thread(target=proc.stdout.read, daemon=True).start()
        config = yaml.safe_load(kubeconfig.read_text())
        cluster, user = config["clusters"][0]["cluster"], config["users"][0]["user"]
        ca = base64.b64decode(cluster["certificate-authority-data"]).decode()
        return cls(proc, cluster["server"], user["token"], ca)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def write_kubeconfig(self, path: Path, token: str | None = None) -> Path:
        return write_kubeconfig(path, self.url, token=token or self.admin_token, ca_pem=self.ca_pem)


def admin_client(sim: SimProcess) -> httpx.Client:
    return httpx.Client(
        base_url=sim.url,
        headers={"Authorization": f"Bearer {sim.admin_token}"},
        verify=ssl.create_default_context(cadata=sim.ca_pem),
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
    rules: list[dict[str, Any]] | None = None,
) -> tuple[str, str]:
    """Apply the chart's ServiceAccount, ClusterRole and ClusterRoleBinding (renamed with
    ``suffix``, the ClusterRole with ``rules`` instead of its own when given); returns
    (namespace, ServiceAccount name)."""
    apply(admin, {"apiVersion": "v1", "kind": "Namespace",
                  "metadata": {"name": PLATFORM_NAMESPACE}})  # fmt: skip
    sa_name = ""
    for original in objects:
        obj = _renamed(original, suffix)
        if obj["kind"] == "ClusterRole" and rules is not None:
            obj["rules"] = rules
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
    seconds: float = 0.0
    passes: int = 0
    # Whether the watch-fed cache served the passes (the watcher had listed every kind and
    # was watching) rather than live reads, which is how storeplane serve runs once started.
    cache_used: bool = False


class _Failed(Exception):
    def __init__(self, step: str, message: str) -> None:
        super().__init__(f"{step}: {message}")
        self.step = step
        self.message = message


async def run_journey(
    sim: SimProcess,
    token: str,
    workdir: Path,
    *,
    engine: Engine = Engine.MEDUSA,
    # A step's budget. Only a stuck step spends it all: a refusal ends the journey at once and
    # a finished step returns. 80 was too few for the delete step (namespace teardown, then the
    # residue sweep) with 23 journeys sharing one simulator: it flaked as "stuck in Deleting".
    passes: int = 400,
    pause: float = 0.05,
    sync_timeout: float = 20,
    drift: bool = True,
) -> JourneyResult:
    """Create a store, wait for Ready, change its plan, wait for Ready, delete it, wait for
    Deleted and check nothing labelled for it is left - all as the token's holder."""
    kubeconfig = sim.write_kubeconfig(workdir / f"kubeconfig-{new_store_id()}", token=token)
    inner = connect(kubeconfig, timeout=30)
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

    async def until(
        step: str, store: Store, phases: set[Phase], done: Callable[[], bool] = lambda: True
    ) -> Store:
        result.steps.append(step)
        for _ in range(passes):
            outcome = await reconcile_store(store, ctx)
            result.passes += 1
            store = outcome.store
            result.reasons += [e.reason for e in outcome.events]
            # A refusal ends the journey; other errors (a namespace still terminating, a
            # dropped connection on a busy machine) are retried by the next pass, as the
            # reconcile loop retries them.
            error = store.last_error or ""
            if outcome.error_reason == "Forbidden" and "being terminated" not in error:
                raise _Failed(f"{step}: {outcome.error_reason}", error)
            refused = [c for c in store.conditions if "forbid" in c.message or " 403" in c.message]
            if refused:  # e.g. the health check through the service proxy answered 403
                raise _Failed(f"{step}: {refused[0].type} {refused[0].reason}", refused[0].message)
            for event in outcome.events:  # what ReconcileLoop._post_events mirrors
                if store.phase == Phase.DELETED or store.is_deleting:
                    break
                try:
                    await cluster.record_event(store.namespace, event.type.value, event.reason,
                                               event.message)  # fmt: skip
                except Exception as exc:  # the loop shrugs off any failure; 403 is ours
                    if "403" in str(exc):
                        raise _Failed(f"{step}: post event {event.reason}", str(exc)) from exc
                    break
            if store.phase in phases and done():
                return store
            await asyncio.sleep(pause)
        raise _Failed(f"{step}: stuck in {store.phase.value}",
                      store.last_error or _false_conditions(store))  # fmt: skip

    async def heal(store: Store) -> Store:
        """Objects deleted by hand and the namespace deleted by hand are made again; a stray
        Role is pruned. Needs watch on each kind (the cache learns of changes by watching)."""
        # Drift: objects deleted by hand come back; the cache learns of it only by watching.
        removed, stray = remove_by_hand(admin, store.namespace, store_id)
        store = await until("heal drift", store, {Phase.READY},
                            lambda: all(admin.get(u).status_code == 200 for u in removed)
                            and admin.get(stray).status_code == 404)  # fmt: skip
        # The namespace deleted by hand: seen going (watch), waited for, made again.
        namespace_url = f"/api/v1/namespaces/{store.namespace}"
        admin.delete(namespace_url).raise_for_status()
        store = await until("recreate namespace", store, {Phase.READY},
                            lambda: _phase(admin.get(namespace_url)) == "Active")  # fmt: skip
        return store

    admin = admin_client(sim)
    started = time.monotonic()
    # As storeplane serve does, start from a synced cache when the watches can sync at all
    # (without list rights they cannot: the passes then read live and meet the refusal).
    result.cache_used = await watcher.wait_synced(sync_timeout)
    try:
        store = await until("provision", store, {Phase.READY})
        await read_a_log(inner, store.namespace)  # what GET /api/v1/stores/{id}/logs does
        if drift:
            store = await heal(store)
        changed = store.with_plan(PlanName.MEDIUM, now=ctx.clock(), deadline=timing.deadline)
        store = await until("change plan", changed, {Phase.READY})
        # Residue: objects labelled for the store outside its namespace are found and deleted.
        leak(admin, store_id)
        store = await until("delete", store.request_deletion(now=ctx.clock()), {Phase.DELETED})
        result.steps.append("verify residue")
        left = residue(admin, store_id)
        if left:
            raise _Failed("verify residue", ", ".join(left))
    except _Failed as failed:
        result.failed_step, result.message = failed.step, failed.message
    finally:
        result.seconds = time.monotonic() - started
        admin.close()
        stop.set()
        await watching
        await inner.close()
    return result


def _phase(response: httpx.Response) -> str:
    return str(response.json()["status"].get("phase", "")) if response.status_code == 200 else ""


def remove_by_hand(admin: httpx.Client, namespace: str, store_id: str) -> tuple[list[str], str]:
    """Delete one applied object of each API group the ClusterRole names (as a person with
    kubectl would) and add a stray Role labelled for the store, which storeplane prunes;
    returns the deleted objects' URLs and the stray's."""
    ns = f"/namespaces/{namespace}"
    jobs = admin.get(f"/apis/batch/v1{ns}/jobs").json()["items"]
    urls = [
        f"/api/v1{ns}/resourcequotas/store-quota",
        f"/apis/apps/v1{ns}/deployments/medusa-redis",
        f"/apis/networking.k8s.io/v1{ns}/networkpolicies/allow-dns",
        f"/apis/batch/v1{ns}/jobs/{jobs[0]['metadata']['name']}",
    ]
    for url in urls:
        admin.delete(url, params={"propagationPolicy": "Background"}).raise_for_status()
    roles = f"/apis/rbac.authorization.k8s.io/v1{ns}/roles"
    stray = {"metadata": {"name": "stray", "labels": {STORE_LABEL: store_id}}, "rules": []}
    admin.post(roles, json=stray).raise_for_status()
    return urls, f"{roles}/stray"


POD_SPEC = {"containers": [{"name": "c", "image": "busybox"}], "restartPolicy": "Never"}
# A Deployment's pods must restart always (the API server refuses anything else).
TEMPLATE = {"metadata": {"labels": {"app": "leak"}},
            "spec": {"containers": [{"name": "c", "image": "busybox"}]}}  # fmt: skip
SELECTOR = {"matchLabels": {"app": "leak"}}


def leak(admin: httpx.Client, store_id: str) -> None:
    """Objects labelled for the store outside its namespace, one per rule of the ClusterRole
    that grants deleting (what a hand-made copy or a half-finished migration leaves)."""
    labels = {STORE_LABEL: store_id}
    name = f"leak-{store_id}"
    admin.post("/api/v1/namespaces", json={"metadata": {"name": name, "labels": labels}})
    meta = {"name": name, "labels": labels}
    bodies = {
        "/api/v1/namespaces/default/configmaps": {"metadata": meta},
        "/api/v1/namespaces/default/pods": {"metadata": meta, "spec": POD_SPEC},
        "/apis/apps/v1/namespaces/default/deployments": {
            "metadata": meta, "spec": {"selector": SELECTOR, "template": TEMPLATE}},
        "/apis/batch/v1/namespaces/default/jobs": {
            "metadata": meta, "spec": {"template": {"spec": POD_SPEC}}},
        "/apis/networking.k8s.io/v1/namespaces/default/networkpolicies": {
            "metadata": meta, "spec": {"podSelector": {}}},
        "/apis/rbac.authorization.k8s.io/v1/namespaces/default/roles": {
            "metadata": meta, "rules": []},
    }  # fmt: skip
    for url, body in bodies.items():
        admin.post(url, json=body).raise_for_status()


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


__all__ = ["JourneyResult", "SimProcess", "admin_client", "install_identity", "platform_rbac", "replace",
           "residue", "run_journey", "token_for"]  # fmt: skip
