"""The loop mirrors the passes' events as Kubernetes Events, a store's passes on the way to a
settled phase batched into ONE Event (one request, not one per pass), read back with the
official kubectl: every event's reason and message in order, the last one's reason, Warning if
any warned. A warning, a settled phase, the hold running out and the loop stopping post what
is held."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from storeplane.domain.events import Event, EventType
from storeplane.domain.store import Phase, Store
from storeplane.reconciler.event_mirror import MESSAGE_LIMIT, EventMirror, summary
from storeplane.reconciler.loop import ReconcileLoop
from tests.reconciler.conftest import Harness, kubectl


def _event(
    store_id: str, reason: str, type_: EventType = EventType.NORMAL, message: str = ""
) -> Event:
    text = message or f"{reason} happened"
    return Event(store_id, datetime.now(UTC), type_, reason, text, "system", 1)


def _ours(harness: Harness, store: Store) -> list[dict[str, Any]]:
    """storeplane's Events in the store's namespace that these tests posted ("happened")."""
    listed = json.loads(
        kubectl(harness.kubeconfig, "get", "events", "-n", store.namespace, "-o", "json")
    )
    return [i for i in listed["items"] if "happened" in i["message"]]


async def _made(harness: Harness) -> Store:
    store = harness.new_store()
    result = await harness.once(store)  # makes the namespace
    await asyncio.sleep(0)
    return replace(result.store, phase=Phase.PROVISIONING)


async def test_passes_on_the_way_are_one_event_posted_when_the_store_settles(
    harness: Harness,
) -> None:
    store = await _made(harness)
    loop = ReconcileLoop(None, harness.ctx, owner="test")  # type: ignore[arg-type]
    mirror = EventMirror(harness.ctx.cluster, hold=600)
    loop.events = mirror
    await loop._post_events(store, [_event(store.id, "WorkloadsApplied")])
    await loop._post_events(store, [_event(store.id, "WorkloadsReady")])
    assert mirror.posted == 0 and _ours(harness, store) == [], "held while on the way"
    await loop._post_events(replace(store, phase=Phase.READY), [_event(store.id, "PhaseChanged")])
    (posted,) = _ours(harness, store)
    assert mirror.posted == 1
    assert posted["reason"] == "PhaseChanged" and posted["type"] == "Normal"
    assert posted["message"] == (
        "WorkloadsApplied: WorkloadsApplied happened; WorkloadsReady: WorkloadsReady "
        "happened; PhaseChanged: PhaseChanged happened"
    )
    assert posted["involvedObject"]["name"] == store.namespace


async def test_a_warning_posts_what_is_held_at_once(harness: Harness) -> None:
    store = await _made(harness)
    mirror = EventMirror(harness.ctx.cluster, hold=600)
    await mirror.add(store, [_event(store.id, "WorkloadsApplied")])
    await mirror.add(store, [_event(store.id, "HealthCheckFailed", EventType.WARNING)])
    (posted,) = _ours(harness, store)
    assert posted["reason"] == "HealthCheckFailed" and posted["type"] == "Warning"
    assert posted["message"].startswith("WorkloadsApplied: WorkloadsApplied happened; ")


@pytest.mark.parametrize(
    "how",
    ["hold", "close"],
    ids=["held events are posted when the hold runs out", "closing posts what is held"],
)
async def test_held_events_are_not_lost(harness: Harness, how: str) -> None:
    store = await _made(harness)
    mirror = EventMirror(harness.ctx.cluster, hold=0.05 if how == "hold" else 600)
    await mirror.add(store, [_event(store.id, "WorkloadsApplied")])
    if how == "close":
        await mirror.close()
    else:
        for _ in range(200):  # the hold's timer posts it by itself
            if mirror.posted:
                break
            await asyncio.sleep(0.05)
    (posted,) = _ours(harness, store)
    assert posted["message"] == "WorkloadsApplied happened"


def test_a_long_batch_keeps_every_reason_within_the_message_limit() -> None:
    events = [_event("s", f"Step{n}", message="x" * 400) for n in range(6)]
    _type, reason, message = summary(events)
    assert reason == "Step5" and len(message) <= MESSAGE_LIMIT
    assert [part.split(":")[0] for part in message.split("; ")] == [f"Step{n}" for n in range(6)]
