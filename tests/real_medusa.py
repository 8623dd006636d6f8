"""One real-runtime ``storeplane dev`` for the whole test session, and the real Medusa stores on it
that the real journeys share.

A real Medusa store costs 35-40 s (migrations, admin user, seed, boot) and each ``storeplane dev``
with local runtimes a few more, so the journeys that need a working shop (tests/scenarios:
test_real_store, test_real_upgrade, test_suspend_real_store, test_backups_real) share one dev
and two stores instead of starting their own:

- ``real_dev``: the ``storeplane dev`` (SQLite, local runtimes on, the Medusa builds installed by
  scripts/medusa-local.sh, its data dir readable by the node's ``postgres`` user so the folder
  backup target works).
- ``real_shop``: a Medusa store at the default version (2.21.2), Ready. A journey may change it
  (orders, a killed process, suspend, restore) but leaves it Ready; the one test that deletes it
  is marked ``deletes_real_shop`` and is run after every other test of the session that uses it.
- ``old_real_shop``: a Medusa store at 2.20.1, Ready, for the upgrade journey.

Everything is made on first use, so any one of those tests also runs alone
(``pytest tests/scenarios/test_suspend_real_store.py``). The fixtures are in
tests/scenarios/conftest.py. The modules of the tests that use ``real_dev`` are listed in
``MODULES`` below: under xdist (scripts/test.sh) they are one scope, so one worker runs them, in
order (tests/conftest.py; a test using ``real_dev`` in a module not listed fails, saying so).
Without the runtime (Node/npm, Debian's PostgreSQL server and tools, redis-server, curl) the
fixtures skip, saying what is missing; scripts/setup.sh --test installs it, so CI runs them.
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.engine_catalogues import A, B
from tests.scenarios.dev_process import REPO, DevProcess, wait_until

KUBECTL = REPO / ".tools" / "bin" / "kubectl"
READY_TIMEOUT = 420  # first start on a cold machine: npm cache warm, build cached
GROUP = "real-medusa"  # the xdist scope of every test that uses real_dev
# The modules whose tests use real_dev: one xdist scope (see tests/conftest.py).
MODULES = frozenset(
    {
        "tests/scenarios/test_backups_across_versions.py",
        "tests/scenarios/test_backups_real.py",
        "tests/scenarios/test_real_store.py",
        "tests/scenarios/test_real_upgrade.py",
        "tests/scenarios/test_suspend_real_store.py",
    }
)
DELETES_MARK = "deletes_real_shop"


def runtime_missing() -> str | None:
    """Why real Medusa stores cannot run here, or None when they can."""
    checks = (
        ("node", shutil.which("node")),
        ("npm", shutil.which("npm")),
        ("redis-server", shutil.which("redis-server")),
        ("curl", shutil.which("curl")),
        (
            "Debian's PostgreSQL server",
            next(Path("/usr/lib/postgresql").glob("*/bin/postgres"), None),
        ),
        ("PostgreSQL's pg_dump", next(Path("/usr/lib/postgresql").glob("*/bin/pg_dump"), None)),
    )
    missing = [name for name, found in checks if not found]
    if not missing:
        return None
    return (
        f"the real-stores runtime is unavailable ({', '.join(missing)} missing): "
        "scripts/setup.sh --test installs it"
    )


def start_real_dev(data_dir: Path, env: dict[str, str] | None = None) -> DevProcess:
    """Install both Medusa builds (cached: a no-op when up to date) and start a real dev, with
    ``env`` added to its environment (settings such as the backup target)."""
    subprocess.run([str(REPO / "scripts" / "medusa-local.sh"), "install"], check=True)
    data_dir.mkdir(parents=True, exist_ok=True)
    # The folder backup target must be reachable by the database image's user: as root, the
    # simulator's node runs PostgreSQL's tools as Debian's postgres user, and pytest's
    # temporary folders are private (0700). A user's .data folder is not.
    for folder in (data_dir, *data_dir.parents):
        if folder in (Path("/tmp"), Path("/")):
            break
        folder.chmod(0o755)
    return DevProcess(
        data_dir, None, ready_delay=0.5, simulate_workloads=False, env=env or {}
    ).start()


def real_dev_fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevProcess]:
    missing = runtime_missing()
    if missing:
        pytest.skip(missing)
    process = start_real_dev(tmp_path_factory.mktemp("real-medusa-dev"))
    try:
        yield process
    finally:
        process.stop()


def create_medusa_store(dev: DevProcess, name: str, version: str | None = None) -> dict[str, Any]:
    """POST a Medusa store and wait until it is Ready (asserted, with the store if not)."""
    body: dict[str, Any] = {"name": name, "engine": "medusa"}
    if version:
        body["engine_version"] = version
    created = dev.api("POST", "/stores", json=body)
    assert created.status_code == 202, created.text
    store = dev.wait_for(created.json()["id"], {"Ready", "Failed"}, timeout=READY_TIMEOUT)
    assert store["phase"] == "Ready", store
    assert store["workload_runtime"] == "local", store
    assert store["running_engine_version"] == (version or B), store
    return store


def shop_fixture(dev: DevProcess) -> dict[str, Any]:
    return create_medusa_store(dev, "real-shop")


def old_shop_fixture(dev: DevProcess) -> dict[str, Any]:
    return create_medusa_store(dev, "old-shop", A)


# -- what the journeys do to a store --------------------------------------------------------
def kubectl(dev: DevProcess, *args: str) -> str:
    """The real kubectl against the dev's simulator; asserts it succeeded."""
    done = subprocess.run(
        [str(KUBECTL), "--kubeconfig", str(dev.data_dir / "kubeconfig"), *args],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, f"kubectl {' '.join(args)}: {done.stderr}"
    return done.stdout


def curl(url: str) -> tuple[int, str]:
    """The real curl, which resolves *.localhost to the loopback address by itself."""
    done = subprocess.run(
        ["curl", "-sS", "--max-time", "30", "-o", "-", "-w", "\n%{http_code}", url],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    body, _, code = done.stdout.rpartition("\n")
    return int(code), body


def port(dev: DevProcess) -> str:
    return dev.url.rsplit(":", 1)[1]


def admin_password(dev: DevProcess, store: dict[str, Any]) -> str:
    """The store's admin password, from the Secret storeplane generated for it."""
    secret = kubectl(
        dev, "get", "secret", "store-credentials", "-n", store["namespace"], "-o",
        "jsonpath={.data}",
    )  # fmt: skip
    return base64.b64decode(json.loads(secret)["admin-password"]).decode()


def admin_order_ids(dev: DevProcess, store: dict[str, Any]) -> set[str]:
    """Every order of the store (up to 100), read through its Admin API as its own admin, at the
    store's host on the dev port."""
    base, headers = _admin(dev, store)
    orders = httpx.get(f"{base}/admin/orders", params={"limit": "100"}, headers=headers, timeout=30)
    assert orders.status_code == 200, orders.text
    return {o["id"] for o in orders.json()["orders"]}


def run_order_check(dev: DevProcess, store_id: str) -> dict[str, Any]:
    """Start the store's order check (the smoke check) and wait for its end; returns the check."""
    started = dev.api("POST", f"/stores/{store_id}/checks")
    assert started.status_code == 202, started.text
    assert started.json()["status"] == "Running"
    check: dict[str, Any] = wait_until(
        lambda: dev.api("GET", f"/stores/{store_id}/checks/{started.json()['id']}").json(),
        lambda c: c["status"] != "Running",
        180,
        "the order check to finish",
        dev.log_path,
    )
    return check


def place_order(dev: DevProcess, store_id: str) -> str:
    """A real order placed by a passing order check; returns its id."""
    check = run_order_check(dev, store_id)
    assert check["status"] == "Passed" and check["order_id"], (check, _seed_log(dev, store_id))
    return str(check["order_id"])


def _seed_log(dev: DevProcess, store_id: str) -> str:
    """The seed Job's output (it creates the admin user), for a failed check's message."""
    namespace = dev.store(store_id)["namespace"]
    pods = dev.kube(
        f"api/v1/namespaces/{namespace}/pods", labelSelector="app.kubernetes.io/component=seed"
    ).json()["items"]
    return "\n".join(
        dev.kube(f"api/v1/namespaces/{namespace}/pods/{p['metadata']['name']}/log").text[-3000:]
        for p in pods
    )


def reasons_since(dev: DevProcess, store_id: str, first_event: int) -> list[str]:
    """The reasons of the store's events from index ``first_event`` on: what one journey did to
    a shared store, without what earlier journeys left in its timeline."""
    return [e["reason"] for e in dev.events(store_id)[first_event:]]


# -- uploaded files (Medusa's local file provider, on the store's uploads claim) -------------
def _admin(dev: DevProcess, store: dict[str, Any]) -> tuple[str, dict[str, str]]:
    """(base URL, headers) of the store's Admin API at its host on the dev port, logged in."""
    base, host = f"http://127.0.0.1:{port(dev)}", {"Host": f"{store['id']}.localhost:{port(dev)}"}
    login = httpx.post(
        f"{base}/auth/user/emailpass",
        json={"email": f"admin@{store['id']}.localhost", "password": admin_password(dev, store)},
        headers=host,
        timeout=30,
    )
    assert login.status_code == 200, login.text
    return base, {**host, "Authorization": f"Bearer {login.json()['token']}"}


def upload_file(
    dev: DevProcess, store: dict[str, Any], name: str, content: bytes
) -> dict[str, str]:
    """``POST /admin/uploads`` (multipart field ``files``) as the store's admin; returns the
    uploaded file ``{id, url}`` (the id is the provider's key, the URL the store's own)."""
    base, headers = _admin(dev, store)
    answer = httpx.post(
        f"{base}/admin/uploads",
        files={"files": (name, content, "application/octet-stream")},
        headers=headers,
        timeout=60,
    )
    assert answer.status_code == 200, answer.text
    files = answer.json()["files"]
    assert len(files) == 1, files
    return {"id": str(files[0]["id"]), "url": str(files[0]["url"])}


def delete_upload(dev: DevProcess, store: dict[str, Any], file_id: str) -> None:
    """``DELETE /admin/uploads/{id}`` as the store's admin."""
    base, headers = _admin(dev, store)
    answer = httpx.delete(f"{base}/admin/uploads/{file_id}", headers=headers, timeout=30)
    assert answer.status_code == 200, answer.text


def fetch_upload(url: str) -> tuple[int, bytes]:
    """GET an uploaded file's URL as a browser would: through the store's Ingress on the dev
    port (``*.localhost`` is the loopback address; the Host header names the store)."""
    parsed = httpx.URL(url)
    assert parsed.host.endswith(".localhost"), url
    answer = httpx.get(
        str(parsed.copy_with(host="127.0.0.1")),
        headers={"Host": f"{parsed.host}:{parsed.port}"},
        timeout=30,
    )
    return answer.status_code, answer.content
