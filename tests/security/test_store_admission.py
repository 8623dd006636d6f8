"""Every store, as storeplane applies it (``reconciler/desired.py``: the Namespace with its
Pod Security labels, the platform objects, the created-once Secrets and the engine chart
rendered by the real helm), is admitted by the simulator as a cluster would admit it: no
refusal, no warning (PodSecurity warns against ``restricted``), and every workload's pods
are created by its controller, none refused (no ``Warning`` Event)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from storeplane.domain.plans import PlanName
from storeplane.domain.store import Engine, Store, StoreSpec
from storeplane.engines import Exposure
from storeplane.reconciler.context import ReconcileContext
from storeplane.reconciler.desired import DesiredState, desired_state
from storeplane.reconciler.manifests import PlatformConfig
from storeplane.render import RenderCache
from storeplane.render.charts import CHARTS_DIR
from storeplane.sim.kinds import KINDS
from storeplane.sim.runner import RunningSimulator, SimulatorConfig, start_in_thread

CASES = [(engine, plan, tls) for engine in Engine for plan in PlanName for tls in (False, True)]


@pytest.fixture(scope="module")
def sim() -> Iterator[RunningSimulator]:
    with start_in_thread(SimulatorConfig(ready_delay=0.05, terminate_delay=0.05)) as running:
        yield running


def _desired(engine: Engine, plan: PlanName, tls: bool, store_id: str) -> DesiredState:
    store = Store.create(
        StoreSpec(name="admitted-shop", engine=engine, plan=plan),
        store_id=store_id,
        url=None,
        now=datetime(2026, 1, 1, tzinfo=UTC),
        deadline=timedelta(minutes=10),
    )
    ctx = ReconcileContext(
        cluster=None,  # type: ignore[arg-type]  # desired_state never touches the cluster
        renderer=RenderCache(),
        charts_dir=CHARTS_DIR,
        exposure=Exposure(tls=tls, cluster_issuer="letsencrypt" if tls else ""),
        platform=PlatformConfig(ingress_namespace="ingress-nginx"),
    )
    return asyncio.run(desired_state(store, ctx))


def _url(obj: dict[str, Any]) -> str:
    group, _, version = obj["apiVersion"].rpartition("/")
    kind = next(k for k in KINDS if k.kind == obj["kind"] and k.group == group)
    base = f"/apis/{group}/{version}" if group else f"/api/{version}"
    namespace = obj["metadata"].get("namespace")
    return f"{base}/namespaces/{namespace}/{kind.resource}" if kind.namespaced else (
        f"{base}/{kind.resource}"
    )  # fmt: skip


@pytest.mark.parametrize(("engine", "plan", "tls"), CASES,
                         ids=[f"{e.value} on {p.value}, TLS {'on' if t else 'off'}"
                              for e, p, t in CASES])  # fmt: skip
def test_a_store_is_admitted_without_refusal_or_warning(
    sim: RunningSimulator, engine: Engine, plan: PlanName, tls: bool
) -> None:
    store_id = f"store-{engine.value[:4]}{plan.value[:2]}{int(tls)}"
    state = _desired(engine, plan, tls, store_id)
    namespace = state.namespace["metadata"]["name"]
    problems: list[str] = []
    with httpx.Client(base_url=sim.url, timeout=10) as http:
        for obj in [state.namespace, *state.policies, *state.create_once, *state.workloads]:
            response = http.post(_url(obj), json=obj)
            name = f"{obj['kind']}/{obj['metadata']['name']}"
            if response.status_code != 201:
                problems.append(f"{name}: {response.status_code} {response.json()['message']}")
            problems += [f"{name}: {w}" for w in response.headers.get_list("warning")]
        assert problems == []
        workloads = [o for o in state.workloads if o["kind"] in ("Deployment", "StatefulSet")]
        deadline = time.monotonic() + 10
        pods: list[Any] = []
        while time.monotonic() < deadline and len(pods) < len(workloads):
            time.sleep(0.05)
            pods = http.get(f"/api/v1/namespaces/{namespace}/pods").json()["items"]
        warnings = http.get(f"/api/v1/namespaces/{namespace}/events",
                            params={"fieldSelector": "type=Warning"}).json()["items"]  # fmt: skip
        assert [e["message"] for e in warnings] == []
        assert len(pods) >= len(workloads)
