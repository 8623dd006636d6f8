"""Metrics and structured logs of a real ``storeplane dev`` provisioning a store."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.scenarios.dev_process import DevProcess


@pytest.fixture
def json_dev(tmp_path: Path) -> Iterator[DevProcess]:
    process = DevProcess(tmp_path / "data", None, extra_args=("--log-format", "json")).start()
    try:
        yield process
    finally:
        process.stop()


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_metrics_describe_a_provisioning_run(json_dev: DevProcess) -> None:
    store_id = json_dev.api(
        "POST", "/stores", json={"name": "metered", "engine": "medusa", "plan": "small"}
    ).json()["id"]
    json_dev.wait_for(store_id, {"Ready"})
    response = json_dev.api("GET", "/stores")  # one more request, so latency has a GET series
    text = httpx.get(f"{json_dev.url}/metrics").text
    samples = _samples(text)

    assert samples[("storeplane_reconcile_total", (("result", "converged"),))] >= 1
    assert samples[("storeplane_reconcile_duration_seconds_count", ())] >= 2
    assert samples[("storeplane_stores", (("phase", "Ready"),))] == 1
    assert samples[("storeplane_stores", (("phase", "Failed"),))] == 0
    assert samples[("storeplane_workqueue_depth", ())] >= 0
    assert 0 <= samples[("storeplane_workqueue_oldest_item_age_seconds", ())] < 60
    provisioning = samples[
        ("storeplane_provisioning_duration_seconds_count", (("engine", "medusa"),))
    ]
    assert provisioning == 1
    assert (
        0 < samples[("storeplane_provisioning_duration_seconds_sum", (("engine", "medusa"),))] < 60
    )
    post = (("method", "POST"), ("route", "/api/v1/stores"), ("status", "202"))
    assert samples[("storeplane_api_request_duration_seconds_count", post)] == 1
    get_one = (("method", "GET"), ("route", "/api/v1/stores/{store_id}"), ("status", "200"))
    assert samples[("storeplane_api_request_duration_seconds_count", get_one)] >= 1
    assert "# HELP storeplane_reconcile_errors_total" in text
    assert response.status_code == 200


def test_every_log_line_is_json_and_pass_lines_name_the_store(json_dev: DevProcess) -> None:
    store_id = json_dev.api(
        "POST", "/stores", json={"name": "logged", "engine": "medusa", "plan": "small"}
    ).json()["id"]
    json_dev.wait_for(store_id, {"Ready"})
    json_dev.stop()
    entries = []
    for line in json_dev.log_path.read_text().splitlines():
        if line.startswith("storeplane is running") or line.startswith("  "):
            continue  # the banner on stdout, for the person at the terminal
        entries.append(json.loads(line))  # any other line that is not JSON fails here
    pass_lines = [
        e for e in entries if e["logger"] == "storeplane.reconciler.loop" and e["reconcile_id"]
    ]
    assert pass_lines, entries
    assert all(e["store_id"] == store_id for e in pass_lines)
    messages = " ".join(e["message"] for e in pass_lines)
    for step in ("NamespaceCreated", "PoliciesApplied", "WorkloadsApplied"):
        assert step in messages
    assert {e["level"] for e in entries} <= {"debug", "info", "warning", "error", "critical"}
    assert all(
        {"time", "level", "logger", "message", "store_id", "reconcile_id"} <= e.keys()
        for e in entries
    )


def test_kubernetes_events_tell_the_story_in_the_namespace(json_dev: DevProcess) -> None:
    store_id = json_dev.api(
        "POST", "/stores", json={"name": "evented", "engine": "medusa", "plan": "small"}
    ).json()["id"]
    json_dev.wait_for(store_id, {"Ready"})
    # The passes on the way to Ready are one Event, posted just after the Ready pass is saved
    # (reconciler/event_mirror.py): look until it is there.
    deadline = time.monotonic() + 15
    while True:
        events = json_dev.kube(f"api/v1/namespaces/{store_id}/events").json()["items"]
        # The cluster's own controllers write theirs beside storeplane's (ScalingReplicaSet...).
        ours = [e for e in events if e["source"].get("component") == "storeplane"]
        # The last event's reason, every event as "Reason: message" in order.
        reasons = {e["reason"] for e in ours} | {
            told for e in ours for told in re.findall(r"(?:^|; )([A-Z][A-Za-z]+): ", e["message"])
        }
        if {"PoliciesApplied", "WorkloadsApplied"} <= reasons or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert {"PoliciesApplied", "WorkloadsApplied"} <= reasons, reasons
    assert all(e["involvedObject"]["name"] == store_id for e in ours)
