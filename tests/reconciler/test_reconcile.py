"""One reconcile pass and its outcomes, against the simulator over HTTP and real helm."""

from __future__ import annotations

import asyncio
import shutil
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from storeplane.domain.conditions import ConditionStatus, ConditionType, get_condition
from storeplane.domain.plans import PlanName
from storeplane.domain.store import Engine, Phase, WorkloadRuntime
from storeplane.reconciler.reconcile import reconcile_store
from tests.reconciler.conftest import Harness

LABEL = "storeplane.dev/store-id"


@pytest.mark.parametrize("engine", list(Engine), ids=["a medusa store", "a woocommerce store"])
async def test_a_new_store_converges_to_ready_with_every_condition_true(
    harness: Harness, engine: Engine
) -> None:
    store = await harness.until(harness.new_store(engine), {Phase.READY})
    assert all(c.status == ConditionStatus.TRUE for c in store.conditions)
    assert store.observed_generation == store.generation == 1
    assert store.next_reconcile_at is not None and store.deadline_at is None
    reasons = harness.reasons(store)
    for step in ("NamespaceCreated", "PoliciesApplied", "WorkloadsApplied", "PhaseChanged"):
        assert step in reasons


async def test_a_ready_store_with_nothing_to_change_writes_nothing(harness: Harness) -> None:
    store = await harness.until(harness.new_store(), {Phase.READY})
    rv_before = harness.kube.get("/api/v1/namespaces").json()["metadata"]["resourceVersion"]
    result = await harness.once(store)
    assert result.store.phase == Phase.READY and result.events == []
    assert harness.kube.get("/api/v1/namespaces").json()["metadata"]["resourceVersion"] == rv_before


DRIFT = [
    ("delete", "/api/v1/namespaces/{ns}/resourcequotas/store-quota", None),
    ("delete", "/api/v1/namespaces/{ns}/limitranges/store-limits", None),
    ("delete", "/apis/networking.k8s.io/v1/namespaces/{ns}/networkpolicies/default-deny", None),
    ("delete", "/apis/apps/v1/namespaces/{ns}/deployments/medusa-server", None),
    (
        "patch",
        "/api/v1/namespaces/{ns}/resourcequotas/store-quota",
        {"spec": {"hard": {"pods": "999"}}},
    ),
    (
        "patch",
        "/api/v1/namespaces/{ns}",
        {"metadata": {"labels": {"pod-security.kubernetes.io/enforce": "privileged"}}},
    ),
]


@pytest.mark.parametrize(
    ("verb", "path", "patch"),
    DRIFT,
    ids=[
        "a quota deleted by hand is restored",
        "a limit range deleted by hand is restored",
        "a network policy deleted by hand is restored",
        "a deployment deleted by hand is restored",
        "a quota edited by hand is put back",
        "a weakened pod security label is put back",
    ],
)
async def test_drift_is_corrected_with_an_event(
    harness: Harness, verb: str, path: str, patch: dict | None
) -> None:
    store = await harness.until(harness.new_store(), {Phase.READY})
    url = path.format(ns=store.namespace)
    if verb == "delete":
        harness.kube.delete(url).raise_for_status()
    else:
        harness.kube.patch(
            url, json=patch, headers={"content-type": "application/merge-patch+json"}
        ).raise_for_status()
    healed = await harness.until(store, {Phase.READY})
    drift_events = [
        e for e in harness.events if e.store_id == store.id and e.reason == "DriftCorrected"
    ]
    assert drift_events, harness.reasons(store)
    name = url.rsplit("/", 1)[-1]
    assert name in drift_events[-1].message
    live = harness.kube.get(url).json()
    if verb == "patch" and "resourcequotas" in url:
        assert live["spec"]["hard"]["pods"] == "10"
    if verb == "patch" and "resourcequotas" not in url:
        assert live["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    assert healed.observed_generation == healed.generation


async def test_a_namespace_deleted_by_hand_is_recreated_once_it_is_gone(harness: Harness) -> None:
    store = await harness.until(harness.new_store(), {Phase.READY})
    uid = harness.kube.get(f"/api/v1/namespaces/{store.namespace}").json()["metadata"]["uid"]
    harness.kube.delete(f"/api/v1/namespaces/{store.namespace}").raise_for_status()
    store = await harness.until(store, {Phase.UPDATING, Phase.READY})
    store = await harness.until(store, {Phase.READY})
    assert (
        harness.kube.get(f"/api/v1/namespaces/{store.namespace}").json()["metadata"]["uid"] != uid
    )
    assert "DriftCorrected" in harness.reasons(store)


async def test_an_object_the_chart_no_longer_renders_is_pruned(harness: Harness) -> None:
    store = await harness.until(harness.new_store(), {Phase.READY})
    stray = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "left-over", "labels": {LABEL: store.id}},
        "data": {"a": "b"},
    }
    harness.kube.post(
        f"/api/v1/namespaces/{store.namespace}/configmaps", json=stray
    ).raise_for_status()
    await harness.until(store, {Phase.READY})
    assert (
        harness.kube.get(f"/api/v1/namespaces/{store.namespace}/configmaps/left-over").status_code
        == 404
    )
    pruned = [e for e in harness.events if e.store_id == store.id and e.reason == "WorkloadsPruned"]
    assert pruned and "left-over" in pruned[-1].message


async def test_a_plan_change_updates_the_quota_and_observed_generation(harness: Harness) -> None:
    store = await harness.until(harness.new_store(), {Phase.READY})
    changed = store.with_plan(
        PlanName.LARGE, now=harness.ctx.clock(), deadline=harness.ctx.timing.deadline
    )
    assert changed.phase == Phase.UPDATING
    ready = await harness.until(changed, {Phase.READY})
    assert ready.observed_generation == 2
    quota = harness.kube.get(
        f"/api/v1/namespaces/{store.namespace}/resourcequotas/store-quota"
    ).json()
    assert quota["spec"]["hard"]["requests.cpu"] == "4"


async def test_deletion_tears_down_and_verifies_no_residue(harness: Harness) -> None:
    store = await harness.until(harness.new_store(), {Phase.READY})
    deleted = await harness.until(store.request_deletion(now=harness.ctx.clock()), {Phase.DELETED})
    assert deleted.deleted_at is not None and deleted.next_reconcile_at is None
    assert harness.kube.get(f"/api/v1/namespaces/{store.namespace}").status_code == 404
    assert harness.reasons(store)[-2:] == ["TeardownVerified", "PhaseChanged"]
    verified = next(e for e in harness.events if e.reason == "TeardownVerified")
    # The event says what the proof covered: every kind, and the node (or why not).
    assert "every namespace and cluster-scoped kind checked" in verified.message
    assert (
        "no process and no folder" in verified.message
        or "processes and folders not checked" in verified.message
    ), verified.message


async def test_residue_outside_the_namespace_is_found_and_removed(harness: Harness) -> None:
    store = await harness.until(harness.new_store(), {Phase.READY})
    leak = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": f"leak-{store.id}", "labels": {LABEL: store.id}},
    }
    harness.kube.post("/api/v1/namespaces/default/configmaps", json=leak).raise_for_status()
    await harness.until(store.request_deletion(now=harness.ctx.clock()), {Phase.DELETED})
    found = [e for e in harness.events if e.store_id == store.id and e.reason == "ResidueFound"]
    assert found and f"leak-{store.id}" in found[0].message and found[0].type == "Warning"
    assert (
        harness.kube.get(f"/api/v1/namespaces/default/configmaps/leak-{store.id}").status_code
        == 404
    )


async def test_an_unhealthy_engine_keeps_the_store_unready_with_the_answer_it_gave(
    harness: Harness,
) -> None:
    store = harness.new_store()
    for _ in range(40):
        store = (await harness.once(store)).store
        reachable = get_condition(store.conditions, ConditionType.STORE_REACHABLE)
        if reachable and reachable.status == ConditionStatus.FALSE:
            break
        if (
            harness.kube.get(
                f"/api/v1/namespaces/{store.namespace}/services/medusa-server"
            ).status_code
            == 200
        ):
            harness.kube.patch(
                f"/api/v1/namespaces/{store.namespace}/services/medusa-server",
                json={"metadata": {"annotations": {"sim.storeplane.dev/proxy-status": "500"}}},
                headers={"content-type": "application/merge-patch+json"},
            )
        await asyncio.sleep(0.05)
    reachable = get_condition(store.conditions, ConditionType.STORE_REACHABLE)
    assert reachable is not None and reachable.status == ConditionStatus.FALSE
    assert store.phase == Phase.PROVISIONING
    assert "HTTP" in reachable.message and "expected" in reachable.message


@pytest.mark.parametrize(
    ("engine", "image"),
    [(Engine.MEDUSA, "medusa"), (Engine.WOOCOMMERCE, "wordpress")],
    ids=["a medusa store", "a woocommerce store"],
)
async def test_a_store_the_simulator_stands_in_for_is_ready_as_simulated_and_says_so(
    harness: Harness, engine: Engine, image: str
) -> None:
    store = harness.new_store(engine)
    assert store.workload_runtime is None  # not known before it first answers
    store = await harness.until(store, {Phase.READY})
    assert store.workload_runtime is WorkloadRuntime.SIMULATED
    reachable = get_condition(store.conditions, ConditionType.STORE_REACHABLE)
    assert reachable is not None and reachable.status == ConditionStatus.TRUE
    assert "the answer was simulated: no local runtime for" in reachable.message
    assert image in reachable.message  # names the images nothing runs for


async def test_an_unreachable_cluster_is_a_recorded_retryable_failure(
    harness: Harness, tmp_path: Path
) -> None:
    from storeplane.cluster import connect
    from storeplane.sim.kubeconfig import write_kubeconfig

    dead = connect(write_kubeconfig(tmp_path / "dead", "http://127.0.0.1:9"), timeout=2)
    ctx = replace(harness.ctx, cluster=dead)
    result = await reconcile_store(harness.new_store(), ctx)
    await dead.close()
    store = result.store
    assert store.phase == Phase.PROVISIONING and store.failures == 1
    assert store.last_error and "cannot reach the Kubernetes API" in store.last_error
    warning = [e for e in result.events if e.type == "Warning"]
    assert warning and warning[0].reason == "ClusterUnavailable"
    assert result.requeue_after is not None and result.requeue_after <= timedelta(seconds=1)


async def test_a_chart_that_fails_to_render_fails_the_store_with_helms_words(
    harness: Harness, tmp_path: Path
) -> None:
    broken = tmp_path / "charts" / "medusa-store"
    (broken / "templates").mkdir(parents=True)
    (broken / "Chart.yaml").write_text("apiVersion: v2\nname: medusa-store\nversion: 0.1.0\n")
    (broken / "templates" / "bad.yaml").write_text('{{ fail "the chart refuses these values" }}\n')
    ctx = replace(harness.ctx, charts_dir=tmp_path / "charts")
    result = await reconcile_store(harness.new_store(), ctx)
    store = result.store
    assert store.phase == Phase.FAILED
    assert store.last_error and "the chart refuses these values" in store.last_error
    assert any(e.type == "Warning" and "the chart refuses" in e.message for e in result.events)


async def test_a_store_past_its_deadline_fails_with_the_last_cause_and_retry_recovers(
    harness: Harness,
) -> None:
    store = harness.new_store()
    store = replace(store, deadline_at=harness.ctx.clock() - timedelta(seconds=1))
    result = await reconcile_store(store, harness.ctx)  # applies, then waits on the workloads
    failed = result.store
    assert failed.phase == Phase.FAILED
    assert (
        failed.last_error and "deadline" in failed.last_error and "last cause" in failed.last_error
    )
    assert "DeadlineExceeded" in [e.reason for e in result.events]
    retried = failed.request_retry(now=harness.ctx.clock(), deadline=harness.ctx.timing.deadline)
    ready = await harness.until(retried, {Phase.READY})
    assert ready.last_error is None


async def test_a_plan_too_small_for_its_chart_names_the_quota_that_refused_it(
    harness: Harness, tmp_path: Path
) -> None:
    # A copy of the charts whose server asks for more memory than the small plan's quota holds.
    charts = tmp_path / "charts"
    shutil.copytree(harness.ctx.charts_dir, charts)
    values = charts / "medusa-store" / "values.yaml"
    greedy = "resources:\n  server:\n    requests: {cpu: 100m, memory: 3Gi}\n    limits: {cpu: 500m, memory: 3Gi}\n"
    values.write_text(values.read_text().replace("resources:\n  server: {}\n", greedy))
    ctx = replace(harness.ctx, charts_dir=charts)
    store = harness.new_store()
    for _ in range(80):
        store = (await reconcile_store(store, ctx)).store
        ready = get_condition(store.conditions, ConditionType.WORKLOADS_READY)
        if ready and "exceeded quota" in ready.message:
            break
        await asyncio.sleep(0.05)
    ready = get_condition(store.conditions, ConditionType.WORKLOADS_READY)
    assert ready is not None and ready.status == ConditionStatus.FALSE
    assert "medusa-server" in ready.message and "exceeded quota: store-quota" in ready.message
    assert store.phase == Phase.PROVISIONING


async def test_a_namespace_stuck_terminating_is_reported_with_what_blocks_it(
    harness: Harness,
) -> None:
    store = await harness.until(harness.new_store(), {Phase.READY})
    blocker = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": "held",
            "finalizers": ["example.com/hold"],
            "labels": {LABEL: store.id},
        },
    }
    url = f"/api/v1/namespaces/{store.namespace}/configmaps"
    harness.kube.post(url, json=blocker).raise_for_status()
    deleting = store.request_deletion(now=harness.ctx.clock())
    for _ in range(60):
        deleting = (await harness.once(deleting)).store
        ready = get_condition(deleting.conditions, ConditionType.READY)
        if ready and "finalizers" in ready.message:
            break
        await asyncio.sleep(0.05)
    ready = get_condition(deleting.conditions, ConditionType.READY)
    assert deleting.phase == Phase.DELETING
    assert (
        ready is not None and "terminating" in ready.message and "example.com/hold" in ready.message
    )
    # once the finalizer is released, teardown completes and is verified
    harness.kube.patch(
        f"{url}/held",
        json={"metadata": {"finalizers": None}},
        headers={"content-type": "application/merge-patch+json"},
    ).raise_for_status()
    done = await harness.until(deleting, {Phase.DELETED})
    assert "TeardownVerified" in harness.reasons(done)
