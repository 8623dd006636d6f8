"""Failure injection: errors, latency, dropped watches and never-ready images, set at
start-up or through the simulator-only ``/sim/v1/faults`` API."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
from sim_helpers import deployment, namespace, wait_until

from storeplane.sim.faults import Faults
from storeplane.sim.runner import SimulatorConfig

NEVER_FAULTED = ["/version", "/api", "/apis", "/api/v1", "/apis/apps/v1", "/healthz",
                 "/readyz", "/livez", "/sim/v1/faults", "/sim/v1/stats"]  # fmt: skip


@pytest.fixture
def sim_config() -> SimulatorConfig:
    return SimulatorConfig(ready_delay=0.1, terminate_delay=0.1)


def set_faults(http: httpx.Client, **settings: Any) -> dict[str, Any]:
    response = http.put("/sim/v1/faults", json=settings)
    assert response.status_code == 200, response.text
    return dict(response.json())


@pytest.mark.parametrize(
    ("code", "reason", "retry_after"),
    [(429, "TooManyRequests", "2"), (503, "ServiceUnavailable", "2"), (500, "InternalError", None)],
    ids=[
        "429 says TooManyRequests and when to retry",
        "503 says ServiceUnavailable and when to retry",
        "500 is an InternalError",
    ],
)
def test_an_error_rate_of_one_answers_every_api_call_with_the_chosen_error(
    http: httpx.Client, code: int, reason: str, retry_after: str | None
) -> None:
    set_faults(http, error_rate=1.0, error_codes=[code], retry_after=2)
    response = http.post("/api/v1/namespaces", json={"metadata": {"name": "shop"}})
    assert response.status_code == code
    body = response.json()
    assert (body["kind"], body["status"], body["reason"], body["code"]) == (
        "Status", "Failure", reason, code,
    )  # fmt: skip
    assert response.headers.get("retry-after") == retry_after
    http.delete("/sim/v1/faults")
    assert http.get("/api/v1/namespaces/shop").status_code == 404  # the call had no effect


@pytest.mark.parametrize("path", NEVER_FAULTED, ids=lambda p: f"{p} is never faulted")
def test_health_discovery_and_the_sim_api_are_never_faulted(http: httpx.Client, path: str) -> None:
    set_faults(http, error_rate=1.0, error_codes=[500])
    assert http.get(path).status_code == 200


def test_a_share_of_calls_fails_and_the_seed_makes_it_repeatable(http: httpx.Client) -> None:
    def failures() -> list[int]:
        set_faults(http, error_rate=0.5, seed=7)
        return [http.get("/api/v1/namespaces").status_code for _ in range(60)]

    first = failures()
    assert 15 <= sum(code != 200 for code in first) <= 45
    assert failures() == first


def test_latency_delays_api_calls_but_not_health(http: httpx.Client) -> None:
    set_faults(http, latency=0.3)
    started = time.monotonic()
    assert http.get("/api/v1/namespaces").status_code == 200
    assert time.monotonic() - started >= 0.3
    started = time.monotonic()
    http.get("/healthz")
    assert time.monotonic() - started < 0.25


def test_put_replaces_patch_merges_and_delete_resets(http: httpx.Client) -> None:
    assert http.get("/sim/v1/faults").json() == Faults().to_json()
    set_faults(http, latency=0.01, error_rate=0.1)
    patched = http.patch("/sim/v1/faults", json={"error_codes": [429]}).json()
    assert (patched["latency"], patched["error_rate"], patched["error_codes"]) == (0.01, 0.1, [429])
    replaced = set_faults(http, retry_after=5)
    assert (replaced["latency"], replaced["error_rate"], replaced["retry_after"]) == (0.0, 0.0, 5)
    assert http.delete("/sim/v1/faults").json() == Faults().to_json()


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"error_rate": 2}, "error_rate must be between 0.0 and 1.0"),
        ({"error_codes": [418]}, "error_codes must be a non-empty list"),
        ({"eror_rate": 0.1}, "unknown fault setting(s) eror_rate"),
        ({"latency": "1s"}, "latency must be a number"),
    ],
    ids=[
        "a rate above one is refused",
        "an unsupported error code is refused",
        "a misspelt setting is refused by name",
        "a latency that is not a number is refused",
    ],
)
def test_bad_fault_settings_are_a_bad_request(
    http: httpx.Client, body: dict[str, Any], words: str
) -> None:
    response = http.put("/sim/v1/faults", json=body)
    assert response.status_code == 400
    assert words in response.json()["message"]


@pytest.mark.parametrize(
    "sim_config",
    [SimulatorConfig(faults=Faults(error_rate=1.0, error_codes=(503,)))],
    ids=["faults set at start-up"],
)
def test_faults_can_be_set_at_start_up(http: httpx.Client) -> None:
    assert http.get("/api/v1/namespaces").status_code == 503
    assert http.get("/sim/v1/faults").json()["error_codes"] == [503]


def test_watch_connections_are_dropped_after_the_set_time(http: httpx.Client) -> None:
    set_faults(http, watch_drop_after=0.3)
    started = time.monotonic()
    with (
        pytest.raises(httpx.RemoteProtocolError),
        http.stream("GET", "/api/v1/namespaces", params={"watch": "1"}) as response,
    ):
        for _ in response.iter_lines():
            pass
    assert time.monotonic() - started >= 0.3


def test_an_image_tagged_fail_never_becomes_ready_until_the_image_changes(
    http: httpx.Client,
) -> None:
    namespace(http, "shop")
    url = "/apis/apps/v1/namespaces/shop/deployments"
    http.post(url, json=deployment("web", replicas=2, image="nginx:fail"))

    def observed() -> dict[str, Any] | None:
        d: dict[str, Any] = http.get(f"{url}/web").json()
        return d if (d.get("status") or {}).get("observedGeneration") == 1 else None

    stuck = wait_until(observed)
    time.sleep(0.3)  # well past the ready delay
    stuck = http.get(f"{url}/web").json()
    assert stuck["status"].get("readyReplicas", 0) == 0
    assert stuck["status"]["unavailableReplicas"] == 2
    available = {c["type"]: c for c in stuck["status"]["conditions"]}["Available"]
    assert (available["status"], available["reason"]) == ("False", "MinimumReplicasUnavailable")

    fixed = deployment("web", replicas=2, image="nginx:1.27")
    http.put(f"{url}/web", json=dict(fixed, metadata=stuck["metadata"]))
    wait_until(lambda: http.get(f"{url}/web").json()["status"].get("readyReplicas") == 2)


def test_a_job_with_a_failing_image_stays_active(http: httpx.Client) -> None:
    namespace(http, "shop")
    body = {
        "metadata": {"name": "migrate"},
        "spec": {
            "template": {
                "spec": {
                    "containers": [{"name": "m", "image": "registry:5000/app:fail"}],
                    "restartPolicy": "Never",
                }
            }
        },
    }
    http.post("/apis/batch/v1/namespaces/shop/jobs", json=body)
    job = wait_until(
        lambda: (
            (j := http.get("/apis/batch/v1/namespaces/shop/jobs/migrate").json())
            .get("status", {})
            .get("active")
            and j
        )
    )
    time.sleep(0.3)
    job = http.get("/apis/batch/v1/namespaces/shop/jobs/migrate").json()
    assert job["status"] == {"startTime": job["metadata"]["creationTimestamp"], "active": 1}
