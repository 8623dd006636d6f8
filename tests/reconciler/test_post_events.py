"""The loop mirrors each pass's events as ONE Kubernetes Event (one request per pass, not per
event), read back with the official kubectl: every step's reason and message in order, the last
step's reason, Warning if any step warned."""

from __future__ import annotations

import json

from storeplane.domain.events import Event, EventType
from storeplane.reconciler.loop import ReconcileLoop
from tests.reconciler.conftest import Harness, kubectl


def _event(store_id: str, reason: str, type_: EventType = EventType.NORMAL) -> Event:
    from datetime import UTC, datetime

    return Event(store_id, datetime.now(UTC), type_, reason, f"{reason} happened", "system", 1)


async def test_a_pass_with_several_events_posts_one_kubernetes_event(harness: Harness) -> None:
    store = harness.new_store()
    await harness.once(store)  # makes the namespace
    loop = ReconcileLoop(None, harness.ctx, owner="test")  # type: ignore[arg-type]
    before = json.loads(
        kubectl(harness.kubeconfig, "get", "events", "-n", store.namespace, "-o", "json")
    )
    steps = [
        _event(store.id, "WorkloadsApplied"),
        _event(store.id, "HealthCheckFailed", EventType.WARNING),
        _event(store.id, "PhaseChanged"),
    ]
    await loop._post_events(store, steps)
    after = json.loads(
        kubectl(harness.kubeconfig, "get", "events", "-n", store.namespace, "-o", "json")
    )
    # Only the Events this call posted: the first pass may still be posting its own.
    seen = {item["metadata"]["name"] for item in before["items"]}
    (posted,) = [
        item
        for item in after["items"]
        if item["metadata"]["name"] not in seen and "happened" in item["message"]
    ]
    assert posted["reason"] == "PhaseChanged" and posted["type"] == "Warning"
    assert posted["message"] == (
        "WorkloadsApplied: WorkloadsApplied happened; HealthCheckFailed: HealthCheckFailed "
        "happened; PhaseChanged: PhaseChanged happened"
    )
