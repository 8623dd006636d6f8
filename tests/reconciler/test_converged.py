"""The converged memo (reconciler/converged.py): a resync of an unchanged Ready store skips the
render and the object comparison, and anything changed by hand or by intent is still seen and
healed on the next pass — the memo keys on the live objects' versions and the desired key,
never on time."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import httpx
import pytest

from storeplane.domain.conditions import ConditionType, get_condition
from storeplane.domain.plans import PlanName
from storeplane.domain.store import Phase, Store
from storeplane.reconciler import converged, manifests
from storeplane.reconciler.converged import ConvergedMemo
from storeplane.reconciler.reconcile import reconcile_store
from storeplane.render.cache import RenderCache
from tests.reconciler.conftest import Watched


async def _ready_and_remembered(watched: Watched) -> Store:
    """A Ready store whose last pass was a skipping one (the memo knows it converged)."""
    harness = watched.harness
    store = await harness.until(harness.new_store(), {Phase.READY})
    await asyncio.sleep(0.3)  # the echoes of our own writes reach the cache
    store = (await harness.once(store)).store  # records the converged digests
    hits = harness.ctx.converged.hits
    store = (await harness.once(store)).store
    assert harness.ctx.converged.hits == hits + 1, "an unchanged Ready store was compared anew"
    return store


async def _settle_cache(watched: Watched, until: Callable[[], bool]) -> None:
    for _ in range(200):
        if until():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the watch never brought the change into the cache")


async def test_an_unchanged_ready_store_is_not_rendered_or_compared_and_costs_one_request(
    watched: Watched,
) -> None:
    store = await _ready_and_remembered(watched)
    renderer = watched.harness.ctx.renderer
    assert isinstance(renderer, RenderCache)
    renders, hits = renderer.renders, renderer.hits
    before = watched.stats()
    result = await watched.harness.once(store)
    after = watched.stats()
    assert result.store.phase == Phase.READY and result.events == []
    assert (renderer.renders, renderer.hits) == (renders, hits), "the chart was rendered"
    assert {k: after[k] - before.get(k, 0) for k in after if after[k] != before.get(k, 0)} == {
        "get": 1
    }


async def test_the_skipping_pass_decides_what_a_full_pass_decides(watched: Watched) -> None:
    store = await _ready_and_remembered(watched)
    ctx = watched.harness.ctx
    skipped = await reconcile_store(store, ctx)
    full = await reconcile_store(store, replace(ctx, converged=ConvergedMemo()))
    for result in (skipped, full):
        assert result.store.phase == Phase.READY and result.events == []
    # Every condition says the same (the times are each pass's own).
    for kind in ConditionType:
        a = get_condition(skipped.store.conditions, kind)
        b = get_condition(full.store.conditions, kind)
        assert (a and (a.status, a.reason, a.message)) == (b and (b.status, b.reason, b.message))
    assert skipped.store.workload_runtime == full.store.workload_runtime


def _delete_quota(kube: httpx.Client, store: Store) -> tuple[str, dict[str, Any] | None]:
    path = f"/api/v1/namespaces/{store.namespace}/resourcequotas/store-quota"
    kube.delete(path).raise_for_status()
    return path, None


def _scale_server(kube: httpx.Client, store: Store) -> tuple[str, dict[str, Any] | None]:
    path = f"/apis/apps/v1/namespaces/{store.namespace}/deployments/medusa-server"
    kube.patch(
        path,
        json={"spec": {"replicas": 3}},
        headers={"Content-Type": "application/merge-patch+json"},
    ).raise_for_status()
    return path, {"spec": {"replicas": 1}}


def _add_labelled(kube: httpx.Client, store: Store) -> tuple[str, dict[str, Any] | None]:
    kube.post(
        f"/api/v1/namespaces/{store.namespace}/configmaps",
        json={
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "left-by-hand", "labels": {"storeplane.dev/store-id": store.id}},
            "data": {"x": "1"},
        },
    ).raise_for_status()
    return f"/api/v1/namespaces/{store.namespace}/configmaps/left-by-hand", {"gone": True}


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (_delete_quota, "DriftCorrected"),
        (_scale_server, "DriftCorrected"),
        (_add_labelled, "WorkloadsPruned"),
    ],
    ids=[
        "a quota deleted by hand is recreated",
        "a deployment scaled by hand is scaled back",
        "an object added by hand with the store's label is pruned",
    ],
)
async def test_drift_after_a_skipping_pass_is_healed(
    watched: Watched,
    change: Callable[[httpx.Client, Store], tuple[str, dict[str, Any] | None]],
    reason: str,
) -> None:
    store = await _ready_and_remembered(watched)
    harness = watched.harness
    watched.woken.clear()
    path, expected = change(harness.kube, store)
    await _settle_cache(watched, lambda: store.id in watched.woken)
    misses = harness.ctx.converged.misses
    healed = await harness.until(store, {Phase.READY})
    assert harness.ctx.converged.misses > misses, "the changed store was taken as unchanged"
    assert reason in harness.reasons(healed)
    live = harness.kube.get(path)
    if expected is None:  # recreated
        assert live.status_code == 200
    elif expected.get("gone"):
        assert live.status_code == 404
    else:
        assert live.json()["spec"]["replicas"] == expected["spec"]["replicas"]


def _quota(store: Store, watched: Watched) -> Any:
    policies = manifests.policies(store, watched.harness.ctx.platform)
    return next(m for m in policies if m["kind"] == "ResourceQuota")["spec"]["hard"]


async def test_a_change_of_plan_is_applied_although_no_object_changed(watched: Watched) -> None:
    store = await _ready_and_remembered(watched)
    harness = watched.harness
    bigger = replace(store, spec=replace(store.spec, plan=PlanName.MEDIUM), generation=2)
    assert _quota(bigger, watched) != _quota(store, watched), "the change must change the quota"
    misses = harness.ctx.converged.misses
    ready = await harness.until(bigger, {Phase.READY})
    assert harness.ctx.converged.misses > misses, "a change of intent was taken as unchanged"
    path = f"/api/v1/namespaces/{store.namespace}/resourcequotas/store-quota"
    assert harness.kube.get(path).json()["spec"]["hard"] == _quota(bigger, watched)
    # Converged on the new intent: the next pass skips again.
    hits = harness.ctx.converged.hits
    await asyncio.sleep(0.3)
    await harness.once((await harness.once(ready)).store)
    assert harness.ctx.converged.hits > hits


# --- after a restart: the memo kept with the store's status ---------------------------------


async def test_a_restarted_control_plane_skips_an_unchanged_store_by_its_saved_memo(
    watched: Watched,
) -> None:
    store = await _ready_and_remembered(watched)
    assert store.converged_key is not None, "the converged pass saved no memo with its status"
    await watched.restart()
    renderer = watched.harness.ctx.renderer
    assert isinstance(renderer, RenderCache)
    renders, hits = renderer.renders, renderer.hits
    result = await watched.harness.once(store)
    memo = watched.harness.ctx.converged
    assert (memo.persisted_hits, memo.misses) == (1, 0), "the restart compared it anew"
    assert (renderer.renders, renderer.hits) == (renders, hits), "the chart was rendered"
    assert result.store.phase == Phase.READY and result.events == []
    assert result.store.converged_key == store.converged_key


async def test_a_restart_with_another_code_identity_compares_in_full(
    watched: Watched, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = await _ready_and_remembered(watched)
    await watched.restart()
    monkeypatch.setattr(converged, "code_identity", lambda: "a newer release")
    result = await watched.harness.once(store)
    memo = watched.harness.ctx.converged
    assert (memo.persisted_hits, memo.misses) == (0, 1), "another release trusted the memo"
    assert result.store.phase == Phase.READY
    assert result.store.converged_key not in (None, store.converged_key)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (_delete_quota, "DriftCorrected"),
        (_scale_server, "DriftCorrected"),
        (_add_labelled, "WorkloadsPruned"),
    ],
    ids=[
        "a quota deleted while the control plane was down is recreated",
        "a deployment scaled while the control plane was down is scaled back",
        "an object added with the store's label while it was down is pruned",
    ],
)
async def test_drift_made_while_the_control_plane_was_down_is_healed_after_the_restart(
    watched: Watched,
    change: Callable[[httpx.Client, Store], tuple[str, dict[str, Any] | None]],
    reason: str,
) -> None:
    store = await _ready_and_remembered(watched)
    harness = watched.harness
    await watched.go_down()
    path, expected = change(harness.kube, store)
    watched.woken.clear()
    await watched.restart()
    assert store.id in watched.woken, "the first lists did not wake the changed store"
    healed = await harness.until(store, {Phase.READY})
    memo = harness.ctx.converged
    assert memo.persisted_hits == 0 and memo.misses >= 1, "the drift was taken as unchanged"
    assert reason in harness.reasons(healed)
    live = harness.kube.get(path)
    if expected is None:  # recreated
        assert live.status_code == 200
    elif expected.get("gone"):
        assert live.status_code == 404
    else:
        assert live.json()["spec"]["replicas"] == expected["spec"]["replicas"]
