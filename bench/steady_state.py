"""Steady state: N Ready stores left alone for M minutes. Reports cluster API requests per
store per minute and the control plane's CPU. Target (10,000 stores, 10 minutes): below 0.2
requests per store per minute and below 10% of one core.

The stores are provisioned first (that phase is not measured), then the window starts.

    .venv/bin/python bench/steady_state.py [--stores 10000] [--minutes 10] [--workers 32]
"""

from __future__ import annotations

import argparse
import time
from concurrent.futures import ThreadPoolExecutor

from _harness import ControlPlane, cpu_seconds, memory_mb, write


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stores", type=int, default=10_000)
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--workers", type=int, default=32)
    parser.add_argument("--provision-timeout", type=float, default=7200)
    args = parser.parse_args()

    with ControlPlane(workers=args.workers) as cp, cp.client() as client:
        assert cp.serve is not None
        pid = cp.serve.pid

        def create(n: int) -> None:
            client.post(
                "/api/v1/stores", json={"name": f"steady-{n:05d}", "engine": "medusa"}
            ).raise_for_status()

        started = time.monotonic()
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(create, range(args.stores)))
        ready = 0
        while ready < args.stores and time.monotonic() - started < args.provision_timeout:
            time.sleep(5)
            ready = cp.count(client, "Ready")
            print(
                f"  provisioning: {ready}/{args.stores} Ready after {time.monotonic() - started:.0f}s",
                flush=True,
            )
        print(f"{ready} stores Ready; measuring {args.minutes} minutes of steady state", flush=True)
        requests0, cpu0, t0 = cp.sim_requests(), cpu_seconds(pid), time.monotonic()
        while time.monotonic() - t0 < args.minutes * 60:
            time.sleep(min(30, args.minutes * 60 - (time.monotonic() - t0) + 0.01))
            minutes = (time.monotonic() - t0) / 60
            done = cp.sim_requests() - requests0
            print(
                f"  {minutes:5.1f} min: {done} requests, {done / max(ready, 1) / minutes:.3f} per store per minute",
                flush=True,
            )
        window = time.monotonic() - t0
        requests = cp.sim_requests() - requests0
        cpu = cpu_seconds(pid) - cpu0
        rss, _ = memory_mb(pid)

    per_store_minute = requests / max(ready, 1) / (window / 60)
    core_share = cpu / window * 100
    figures = {
        "stores_ready": ready,
        "window_minutes": round(window / 60, 2),
        "cluster_api_requests": requests,
        "requests_per_store_per_minute": round(per_store_minute, 4),
        "control_plane_cpu_percent_of_one_core": round(core_share, 2),
        "resident_mb": round(rss, 1),
        "target": "10,000 stores for 10 minutes: < 0.2 requests per store per minute, < 10% of one core",
        "target_met": bool(
            ready >= 10_000 and window >= 600 and per_store_minute < 0.2 and core_share < 10
        ),
    }
    print()
    for key, value in figures.items():
        print(f"{key:40s} {value}")
    write("steady_state", figures)


if __name__ == "__main__":
    main()
