"""Shared plumbing for the benchmarks: run ``storeplane sim`` and ``storeplane serve`` as
separate processes (so the control plane's CPU and memory are measured alone), read their
resource use from /proc, and write results as JSON next to the printed figures.

Everything binds to 127.0.0.1 and every loop is bounded in count and time.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent / "storeplane"
RESULTS = REPO / "bench" / "results"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def children_cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process's finished, waited-for children (helm, for the
    control plane): not part of :func:`cpu_seconds`."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[13]) + int(fields[14])) / CLOCK_TICKS


def memory_mb(pid: int) -> tuple[float, float]:
    """(current resident, peak resident) in MB."""
    status = Path(f"/proc/{pid}/status").read_text()
    rss = int(re.search(r"VmRSS:\s+(\d+)", status).group(1))  # type: ignore[union-attr]
    hwm = int(re.search(r"VmHWM:\s+(\d+)", status).group(1))  # type: ignore[union-attr]
    return rss / 1024, hwm / 1024


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[index]


@dataclass
class Proc:
    args: list[str]
    env: dict[str, str]
    log: Path
    proc: subprocess.Popen[bytes] | None = None

    def start(self, ready: str, timeout: float = 60) -> re.Match[str]:
        env = {**os.environ, "PATH": f"{REPO / '.tools' / 'bin'}:{os.environ['PATH']}", **self.env}
        out = self.log.open("wb")
        self.proc = subprocess.Popen(
            [str(BIN), *self.args], stdout=out, stderr=subprocess.STDOUT, env=env, cwd=REPO
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = re.search(ready, self.log.read_text(errors="replace"))
            if found:
                return found
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.args[0]} exited:\n{self.log.read_text()[-2000:]}")
            time.sleep(0.05)
        raise TimeoutError(f"{self.args[0]} did not start:\n{self.log.read_text()[-2000:]}")

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()


@dataclass
class ControlPlane:
    """A simulator and a ``storeplane serve`` against it, on a fresh database."""

    workers: int = 16
    ready_delay: float = 0.0
    database_url: str | None = None
    extra_env: dict[str, str] = field(default_factory=dict)
    # Keep the simulator's objects in workdir/sim-state.db, so that a later ControlPlane on
    # the same workdir (simulator and database) finds the stores as this one left them.
    sim_state: bool = False
    workdir: Path = field(
        default_factory=lambda: Path(tempfile.mkdtemp(prefix="storeplane-bench-"))
    )
    sim: Proc | None = None
    serve: Proc | None = None
    url: str = ""
    sim_url: str = ""
    token: str = ""
    # From the simulator's start to its first answer (it loads its state file first), wall
    # seconds and its CPU-seconds by then; and when `storeplane serve` was started.
    sim_ready_seconds: float = 0.0
    sim_ready_cpu: float = 0.0
    serve_started: float = 0.0

    def __enter__(self) -> ControlPlane:
        kubeconfig = self.workdir / "kubeconfig"
        self.sim = Proc(
            [
                "sim",
                "--port",
                "0",
                "--kubeconfig",
                str(kubeconfig),
                "--ready-delay",
                str(self.ready_delay),
                *(["--state", str(self.workdir / "sim-state.db")] if self.sim_state else []),
            ],
            {},
            self.workdir / "sim.log",
        )
        sim_started = time.monotonic()
        self.sim_url = self.sim.start(r"listening on (http://\S+)", timeout=600).group(1)
        self._wait_sim_answers(sim_started)
        env = {
            "STOREPLANE_DATA_DIR": str(self.workdir / "data"),
            "STOREPLANE_DATABASE_URL": self.database_url
            or f"sqlite:///{self.workdir / 'data' / 'storeplane.db'}",
            "STOREPLANE_WORKERS": str(self.workers),
            "STOREPLANE_MAX_STORES_PER_USER": "1000000",
            "STOREPLANE_RATE_LIMIT_PER_SECOND": "100000",
            "STOREPLANE_RATE_LIMIT_BURST": "100000",
            "STOREPLANE_LOG_FORMAT": "json",
            **self.extra_env,
        }
        (self.workdir / "data").mkdir(exist_ok=True)
        self.serve_started = time.monotonic()
        self.serve = Proc(
            ["serve", "--host", "127.0.0.1", "--port", "0", "--kubeconfig", str(kubeconfig)],
            env,
            self.workdir / "serve.log",
        )
        self.serve.start(r"serving at (http://\S+)", timeout=600)
        text = self.serve.log.read_text()
        self.url = re.search(r"serving at (http://\S+)", text).group(1)  # type: ignore[union-attr]
        # Printed on the first start against an empty database only: kept for a restart.
        saved = self.workdir / "admin-token"
        found = re.search(r"bootstrap admin token: (\S+)", text)
        self.token = found.group(1) if found else saved.read_text().strip()
        saved.write_text(self.token)
        return self

    def _wait_sim_answers(self, started: float, timeout: float = 1800) -> None:
        """Wait until the simulator answers ``/version``: it prints its address before it has
        loaded its state file. The control plane starts after that, so that the simulator's
        start and the control plane's first lists are measured apart."""
        assert self.sim is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.sim_url}/version", timeout=5).status_code == 200:
                    self.sim_ready_seconds = time.monotonic() - started
                    self.sim_ready_cpu = cpu_seconds(self.sim.pid)
                    return
            except httpx.HTTPError:
                pass
            if self.sim.proc is not None and self.sim.proc.poll() is not None:
                raise RuntimeError(f"sim exited:\n{self.sim.log.read_text()[-2000:]}")
            time.sleep(0.1)
        raise TimeoutError("the simulator did not answer /version")

    def __exit__(self, *_: object) -> None:
        for proc in (self.serve, self.sim):
            if proc:
                proc.stop()

    def client(self, **kwargs: Any) -> httpx.Client:
        return httpx.Client(
            base_url=self.url,
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=30,
            **kwargs,
        )

    def sim_requests(self) -> int:
        return int(httpx.get(f"{self.sim_url}/sim/v1/stats", timeout=30).json()["requests_total"])

    def count(self, client: httpx.Client, phase: str) -> int:
        return int(
            client.get("/api/v1/stores", params={"phase": phase, "limit": 1}).json()["count"]
        )


def machine() -> dict[str, Any]:
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem_kb = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))  # type: ignore[union-attr]
    return {
        "cores": os.cpu_count(),
        "cpu": cpu,
        "memory_gb": round(mem_kb / 1024 / 1024, 1),
        "python": sys.version.split()[0],
    }


def write(name: str, figures: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(
        json.dumps({"benchmark": name, "machine": machine(), **figures}, indent=2) + "\n"
    )
    print(f"\nwrote {path.relative_to(REPO)}")
    return path
