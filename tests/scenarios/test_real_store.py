"""A `Ready` store is a shop: a real ``storeplane dev`` (local runtimes on) provisions a Medusa
store whose server, worker, PostgreSQL and Redis run as processes on this machine, behind the
store's own URL on the dev port.

The store is the session's shared real Medusa store (``real_shop``, tests/real_medusa.py: its
Medusa build is cached by scripts/medusa-local.sh), taken through what a user does, in order:
open it, place an order through the smoke check, read its logs, survive a killed process, name a
chart mistake, and delete it without leaving a process or a folder behind (that test runs after
every other one that uses the store). A WooCommerce store beside it stays simulated and says so.
"""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path
from typing import Any

import pytest

from tests.real_medusa import (
    admin_order_ids,
    curl,
    kubectl,
    port,
    reasons_since,
    run_order_check,
)
from tests.scenarios.dev_process import DevProcess, wait_until

pytestmark = pytest.mark.timeout(900)


@pytest.fixture
def dev(real_dev: DevProcess) -> DevProcess:
    return real_dev


@pytest.fixture
def shop(real_dev: DevProcess, real_shop: dict[str, Any]) -> dict[str, Any]:
    """The shared store as it is now (an earlier journey may have restored or resumed it)."""
    return real_dev.store(real_shop["id"])


def node_residue(dev: DevProcess, namespace: str) -> dict[str, Any]:
    response = dev.kube("sim/v1/node/residue", namespace=namespace)
    response.raise_for_status()
    return dict(response.json())


def pod(dev: DevProcess, namespace: str, prefix: str) -> dict[str, Any]:
    pods = dev.kube(f"api/v1/namespaces/{namespace}/pods").json()["items"]
    matching = [p for p in pods if p["metadata"]["name"].startswith(prefix)]
    assert matching, f"no pod {prefix}* in {namespace}: {[p['metadata']['name'] for p in pods]}"
    return dict(matching[0])


def condition(store: dict[str, Any], type_: str) -> dict[str, Any]:
    return next(c for c in store["conditions"] if c["type"] == type_)


def test_a_medusa_store_is_ready_and_runs_locally(shop: dict[str, Any]) -> None:
    assert shop["phase"] == "Ready", shop
    assert shop["workload_runtime"] == "local"
    assert "simulated" not in condition(shop, "StoreReachable")["message"]


def test_the_store_opens_at_its_url_through_the_dev_ingress(
    dev: DevProcess, shop: dict[str, Any]
) -> None:
    url = f"http://{shop['id']}.localhost:{port(dev)}"
    assert shop["url"] == url
    assert curl(f"{url}/health") == (200, "OK")
    code, page = curl(f"{url}/app")
    assert code == 200
    assert "<html" in page.lower() and "medusa" in page.lower()


def test_the_smoke_check_places_an_order_the_admin_api_finds(
    dev: DevProcess, shop: dict[str, Any]
) -> None:
    first_event = len(dev.events(shop["id"]))
    check = run_order_check(dev, shop["id"])
    assert check["status"] == "Passed", check
    assert check["order_id"]
    # Found again through the Admin API, with the admin password from the store's Secret.
    assert check["order_id"] in admin_order_ids(dev, shop)
    assert "SmokeTestPassed" in reasons_since(dev, shop["id"], first_event)


def test_kubectl_logs_shows_medusas_own_output(dev: DevProcess, shop: dict[str, Any]) -> None:
    logs = kubectl(dev, "logs", "deployment/medusa-server", "-n", shop["namespace"], "--tail=200")
    assert "Server is ready" in logs or "Medusa" in logs, logs[-2000:]
    # The same output through storeplane's API, for the store's owner.
    server = pod(dev, shop["namespace"], "medusa-server-")["metadata"]["name"]
    api_logs = dev.api(
        "GET",
        f"/stores/{shop['id']}/logs",
        params={"pod": server, "container": "server", "tail": "200"},
    )
    assert api_logs.status_code == 200, api_logs.text
    assert logs.strip().splitlines()[-1] in api_logs.json()["text"]


def test_a_killed_server_process_is_restarted_and_the_store_is_ready_again(
    dev: DevProcess, shop: dict[str, Any]
) -> None:
    namespace = shop["namespace"]
    server = pod(dev, namespace, "medusa-server-")
    restarts = server["status"]["containerStatuses"][0]["restartCount"]
    processes = node_residue(dev, namespace)["processes"]
    pid = next(
        p["pid"]
        for p in processes
        if p["pod"] == server["metadata"]["name"] and p["container"] == "server"
    )
    os.kill(pid, signal.SIGKILL)
    restarted = wait_until(
        lambda: pod(dev, namespace, server["metadata"]["name"]),
        lambda p: (
            p["status"]["containerStatuses"][0]["restartCount"] > restarts
            and p["status"]["containerStatuses"][0]["ready"]
        ),
        180,
        "the server container to restart and be ready",
        dev.log_path,
    )
    last = restarted["status"]["containerStatuses"][0]["lastState"]["terminated"]
    assert last["exitCode"] == 137
    assert dev.wait_for(shop["id"], {"Ready"}, timeout=120)["phase"] == "Ready"
    events = kubectl(dev, "get", "events", "-n", namespace, "-o", "wide")
    assert "Started" in events


def test_a_missing_secret_key_is_named_in_workloads_ready(
    dev: DevProcess, shop: dict[str, Any]
) -> None:
    namespace = shop["namespace"]
    secret = kubectl(
        dev, "get", "secret", "store-credentials", "-n", namespace, "-o", "jsonpath={.data}"
    )
    saved = json.loads(secret)["jwt-secret"]
    kubectl(
        dev,
        "patch",
        "secret",
        "store-credentials",
        "-n",
        namespace,
        "--type=json",
        '-p=[{"op": "remove", "path": "/data/jwt-secret"}]',
    )
    kubectl(dev, "delete", "pod", pod(dev, namespace, "medusa-server-")["metadata"]["name"],
            "-n", namespace, "--wait=false")  # fmt: skip
    store = wait_until(
        lambda: dev.store(shop["id"]),
        lambda s: "CreateContainerConfigError" in condition(s, "WorkloadsReady")["message"],
        120,
        "WorkloadsReady to name the missing key",
        dev.log_path,
    )
    message = condition(store, "WorkloadsReady")["message"]
    assert "medusa-server-" in message and "container server" in message
    assert "jwt-secret" in message
    # Put the key back: the pod starts and the store is Ready again.
    kubectl(
        dev,
        "patch",
        "secret",
        "store-credentials",
        "-n",
        namespace,
        "--type=merge",
        f'-p={{"data": {{"jwt-secret": "{saved}"}}}}',
    )
    assert dev.wait_for(shop["id"], {"Ready"}, timeout=180)["phase"] == "Ready"


def test_a_woocommerce_store_is_simulated_and_its_check_says_why(dev: DevProcess) -> None:
    created = dev.api("POST", "/stores", json={"name": "sim-shop", "engine": "woocommerce"})
    assert created.status_code == 202, created.text
    store = dev.wait_for(created.json()["id"], {"Ready", "Failed"}, timeout=120)
    assert store["phase"] == "Ready"
    assert store["workload_runtime"] == "simulated"
    assert "simulated" in condition(store, "StoreReachable")["message"]
    check = dev.api("POST", f"/stores/{store['id']}/checks")
    assert check.status_code == 409
    assert "simulated" in check.json()["detail"]


@pytest.mark.deletes_real_shop
def test_deleting_the_store_leaves_no_process_and_no_folder(
    dev: DevProcess, shop: dict[str, Any]
) -> None:
    before = node_residue(dev, shop["namespace"])
    pids = [p["pid"] for p in before["processes"]]
    folders = [Path(f) for f in before["folders"]]
    assert pids and folders
    # The uploads claim's folder is one of them: it goes with the namespace too.
    assert any(f.parts[-2:] == (shop["namespace"], "medusa-uploads") for f in folders), folders
    assert dev.api("DELETE", f"/stores/{shop['id']}").status_code == 202
    gone = dev.wait_for(shop["id"], {"Deleted", "Failed"}, timeout=180)
    assert gone["phase"] == "Deleted", gone
    assert "TeardownVerified" in [e["reason"] for e in dev.events(shop["id"])]
    deadline = time.monotonic() + 5
    alive = [pid for pid in pids if _alive(pid)]
    while alive and time.monotonic() < deadline:
        time.sleep(0.1)
        alive = [pid for pid in pids if _alive(pid)]
    assert alive == []
    assert [f for f in folders if f.exists()] == []
    assert dev.labelled_objects(shop["id"]) == []


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is dead but not yet reaped by its parent.
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split(") ", 1)[-1][:1] != "Z"
