"""Run a real ``storeplane dev`` process for whole-journey tests, and talk to it over HTTP.

The process is the product as a user runs it (its own SQLite or PostgreSQL database, its own
simulator on its own port), so these tests can kill it with SIGKILL and start it again.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import yaml

REPO = Path(__file__).resolve().parents[2]
STOREPLANE = Path(sys.executable).parent / "storeplane"
URL_LINE = re.compile(r"storeplane is running at (http://127\.0\.0\.1:\d+)")
# The last line of dev's start banner: the lines between (the admin token's path...) are read
# by tests, so start() waits for the whole banner, not only the URL line that opens it.
BANNER_END = "stop with Ctrl-C"
STORE_LABEL = "storeplane.dev/store-id"

# Every kind the simulator serves that a store's objects could be, for residue checks.
LABELLED_KINDS = [
    "api/v1/namespaces",
    "api/v1/resourcequotas",
    "api/v1/limitranges",
    "api/v1/serviceaccounts",
    "api/v1/secrets",
    "api/v1/configmaps",
    "api/v1/services",
    "api/v1/persistentvolumeclaims",
    "apis/apps/v1/deployments",
    "apis/apps/v1/statefulsets",
    "apis/batch/v1/jobs",
    "apis/networking.k8s.io/v1/networkpolicies",
    "apis/networking.k8s.io/v1/ingresses",
    "apis/rbac.authorization.k8s.io/v1/roles",
    "apis/rbac.authorization.k8s.io/v1/rolebindings",
]


class DevProcess:
    def __init__(
        self,
        data_dir: Path,
        database_url: str | None,
        ready_delay: float = 0.3,
        extra_args: tuple[str, ...] = (),
        env: dict[str, str] | None = None,
        simulate_workloads: bool = True,
    ) -> None:
        self.extra_env = env or {}
        # Most journeys need the control plane, not a shop: nothing runs behind their stores.
        # tests/scenarios/test_real_store.py runs real ones.
        self.simulate_workloads = simulate_workloads
        self.extra_args = extra_args
        self.data_dir = data_dir
        self.database_url = database_url
        self.ready_delay = ready_delay
        self.proc: subprocess.Popen[str] | None = None
        self.port = 0  # the first start picks a free one
        self.url = ""
        self.log_path = data_dir / "dev.log"

    def start(self, timeout: float = 90) -> DevProcess:
        # 90 s: a few seconds on a quiet machine, but one at load 19 once took more than 30.
        env = {**os.environ, "PATH": f"{REPO / '.tools' / 'bin'}:{os.environ['PATH']}"}
        env["STOREPLANE_POLL_SECONDS"] = "0.2"
        if self.database_url:
            env["STOREPLANE_DATABASE_URL"] = self.database_url
        env.update(self.extra_env)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        offset = len(self.log_path.read_text()) if self.log_path.exists() else 0
        log = self.log_path.open("a")
        self.proc = subprocess.Popen(
            [
                str(STOREPLANE),
                "dev",
                "--port",
                str(self.port),
                "--data-dir",
                str(self.data_dir),
                "--ready-delay",
                str(self.ready_delay),
                *(["--simulate-workloads"] if self.simulate_workloads else []),
                *self.extra_args,
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
            cwd=REPO,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            started = self.log_path.read_text()[offset:]
            urls = URL_LINE.findall(started)
            if urls and BANNER_END in started.rsplit(urls[-1], 1)[1]:
                self.url = urls[-1]
                # A restart keeps the port, as a user's does: stores' URLs (and so their
                # charts' values) carry it, and a new port would roll every store.
                self.port = int(self.url.rsplit(":", 1)[1])
                return self
            if self.proc.poll() is not None:
                raise RuntimeError(f"storeplane dev exited early:\n{self.log_path.read_text()}")
            time.sleep(0.05)
        self.proc.kill()  # a test that fails here runs no teardown: leave no process behind
        self.proc.wait(10)
        raise TimeoutError(f"storeplane dev did not start:\n{self.log_path.read_text()}")

    def kill(self) -> None:
        """SIGKILL: no cleanup at all, as in a crash."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)

    # -- the API ------------------------------------------------------------------------
    @property
    def token(self) -> str | None:
        """The admin token ``storeplane dev`` wrote into its data dir, if it did."""
        path = self.data_dir / "admin.token"
        return path.read_text().strip() if path.exists() else None

    def api(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = dict(kwargs.pop("headers", None) or {})
        if self.token and "Authorization" not in headers:
            headers["Authorization"] = f"Bearer {self.token}"
        return httpx.request(
            method, f"{self.url}/api/v1{path}", timeout=10, headers=headers, **kwargs
        )

    def store(self, store_id: str) -> dict[str, Any]:
        response = self.api("GET", f"/stores/{store_id}")
        response.raise_for_status()
        return dict(response.json())

    def events(self, store_id: str) -> list[dict[str, Any]]:
        return list(self.api("GET", f"/stores/{store_id}/events").json()["items"])

    def wait_for(self, store_id: str, phases: set[str], timeout: float = 60) -> dict[str, Any]:
        return wait_until(
            lambda: self.store(store_id),
            lambda s: s["phase"] in phases,
            timeout,
            f"store {store_id} to reach {phases}",
            self.log_path,
        )

    # -- the simulated cluster, over HTTP ------------------------------------------------
    @property
    def sim_url(self) -> str:
        config = yaml.safe_load((self.data_dir / "kubeconfig").read_text())
        return str(config["clusters"][0]["cluster"]["server"])

    def kube(self, path: str, **params: str) -> httpx.Response:
        return httpx.get(f"{self.sim_url}/{path}", params=params, timeout=10)

    def labelled_objects(self, store_id: str) -> list[str]:
        found = []
        for path in LABELLED_KINDS:
            response = self.kube(path, labelSelector=f"{STORE_LABEL}={store_id}")
            response.raise_for_status()
            found += [
                f"{path}:{o['metadata'].get('namespace', '')}/{o['metadata']['name']}"
                for o in response.json()["items"]
            ]
        return found


def wait_until(
    read: Callable[[], Any],
    done: Callable[[Any], bool],
    timeout: float,
    what: str,
    log: Path | None = None,
) -> Any:
    deadline = time.monotonic() + timeout
    value = read()
    while not done(value):
        if time.monotonic() > deadline:
            tail = log.read_text()[-3000:] if log and log.exists() else ""
            raise AssertionError(f"timed out waiting for {what}; last seen: {value}\n{tail}")
        time.sleep(0.1)
        value = read()
    return value
