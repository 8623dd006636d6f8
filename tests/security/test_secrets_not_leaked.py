"""A store's generated secrets never leave the cluster: not in any log line (at debug level),
not in the API's answers, not in storeplane's events, not in the Kubernetes Events it posts.

A real ``storeplane dev`` (JSON logs, ``--verbose``) provisions a store of each engine; the
test then reads every Secret in the store's namespace from the simulator and looks for each
value (as stored, base64, and decoded) everywhere storeplane writes or answers.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.scenarios.dev_process import DevProcess


@pytest.fixture
def verbose_dev(tmp_path: Path) -> Iterator[DevProcess]:
    process = DevProcess(
        tmp_path / "data", None, extra_args=("--log-format", "json", "--verbose")
    ).start()
    try:
        yield process
    finally:
        process.stop()


def secret_values(dev: DevProcess, namespace: str) -> set[str]:
    items = dev.kube(f"api/v1/namespaces/{namespace}/secrets").json()["items"]
    values: set[str] = set()
    for secret in items:
        for encoded in (secret.get("data") or {}).values():
            values |= {encoded, base64.b64decode(encoded).decode()}
        values |= set((secret.get("stringData") or {}).values())
    return {v for v in values if len(v) >= 8}  # a short value would match by chance


@pytest.mark.slow
def test_no_secret_of_a_provisioned_store_appears_in_logs_events_or_answers(
    verbose_dev: DevProcess,
) -> None:
    dev = verbose_dev
    ids = []
    for name, engine in [("secret-medusa", "medusa"), ("secret-woo", "woocommerce")]:
        created = dev.api("POST", "/stores", json={"name": name, "engine": engine})
        assert created.status_code == 202, created.text
        ids.append(created.json()["id"])
    answers = []
    for store_id in ids:
        dev.wait_for(store_id, {"Ready"})
        answers += [
            dev.api("GET", f"/stores/{store_id}").text,
            dev.api("GET", f"/stores/{store_id}/events").text,
            dev.api("PATCH", f"/stores/{store_id}", json={"plan": "medium"}).text,
        ]
        dev.wait_for(store_id, {"Ready"})
    answers.append(dev.api("GET", "/stores").text)

    secrets: dict[str, set[str]] = {}
    kube_events: list[str] = []
    for store_id in ids:
        secrets[store_id] = secret_values(dev, store_id)
        assert secrets[store_id], f"{store_id} has no generated secret to look for"
        kube_events.append(dev.kube(f"api/v1/namespaces/{store_id}/events").text)
    dev.stop()  # flush every log line

    log_lines = dev.log_path.read_text().splitlines()
    assert any(
        line.startswith("{") and json.loads(line)["level"] == "debug" for line in log_lines
    ), "no debug lines: the test would prove less than it claims"
    places = {
        "log line": log_lines,
        "API answer": answers,
        "Kubernetes Event list": kube_events,
    }
    for store_id, values in secrets.items():
        for value in values:
            for place, texts in places.items():
                leaked = [t[:200] for t in texts if value in t]
                assert not leaked, f"a secret of {store_id} is in a {place}: {leaked}"
