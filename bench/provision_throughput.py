"""Provisioning throughput: N stores from POST to Ready against the simulator (ready delay 0).

Reports stores per minute, the control plane's CPU per store (and its helm children's), cluster API requests per store
and its peak resident memory. Target: 1,000 stores in under 150 s on a 2-core machine,
under 500 MB resident.

    .venv/bin/python bench/provision_throughput.py [--stores 1000] [--workers 16]
"""

from __future__ import annotations

import argparse
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from _harness import ControlPlane, children_cpu_seconds, cpu_seconds, memory_mb, write


def _request_kinds(sim_url: str) -> tuple[dict[str, int], dict[str, int]]:
    """The simulator's request counters by verb, and by verb and resource ("get
    services/proxy"), to say where requests go."""
    import httpx

    stats = httpx.get(f"{sim_url}/sim/v1/stats", timeout=30).json()
    return stats["requests"], stats.get("requests_by_resource", {})


def _per_store(before: dict[str, int], after: dict[str, int], stores: int) -> dict[str, float]:
    """Counters that grew by at least 0.1 per store, per store, largest first."""
    grown = {key: after[key] - before.get(key, 0) for key in after}
    return {
        key: round(n / stores, 2)
        for key, n in sorted(grown.items(), key=lambda item: -item[1])
        if n >= stores / 10
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stores", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=16)
    parser.add_argument("--timeout", type=float, default=900)
    parser.add_argument(
        "--profile", help="record the control plane with py-spy into this file (collapsed stacks)"
    )
    parser.add_argument("--profile-sim", action="store_true", help="profile the simulator instead")
    args = parser.parse_args()

    with ControlPlane(workers=args.workers) as cp, cp.client() as client:
        assert cp.serve is not None
        pid = cp.serve.pid
        assert cp.sim is not None
        sim_pid = cp.sim.pid
        spy = None
        if args.profile:
            import subprocess

            target = sim_pid if args.profile_sim else pid
            spy = subprocess.Popen(
                [
                    str(Path(sys.executable).parent / "py-spy"),
                    "record",
                    "-p",
                    str(target),
                    "-o",
                    args.profile,
                    "--format",
                    "raw",
                    "-r",
                    "50",
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        cpu0, sim_cpu0, requests0 = cpu_seconds(pid), cpu_seconds(sim_pid), cp.sim_requests()
        helm0 = children_cpu_seconds(pid)
        rss_at_start = memory_mb(pid)[0]
        kinds0, resources0 = _request_kinds(cp.sim_url)
        started = time.monotonic()

        def create(n: int) -> None:
            response = client.post(
                "/api/v1/stores",
                json={"name": f"bench-{n:05d}", "engine": "medusa", "plan": "small"},
            )
            response.raise_for_status()

        with ThreadPoolExecutor(8) as pool:
            list(pool.map(create, range(args.stores)))
        posted = time.monotonic() - started
        print(f"posted {args.stores} stores in {posted:.1f}s")
        peak = 0.0
        ready = 0
        while ready < args.stores and time.monotonic() - started < args.timeout:
            time.sleep(1)
            ready = cp.count(client, "Ready")
            peak = max(peak, memory_mb(pid)[0])
            elapsed = time.monotonic() - started
            print(
                f"  {elapsed:6.1f}s  {ready:5d}/{args.stores} Ready  rss {peak:.0f} MB", flush=True
            )
        total = time.monotonic() - started
        if spy is not None:
            import signal

            spy.send_signal(signal.SIGINT)
            spy.wait(30)
        cpu = cpu_seconds(pid) - cpu0
        helm_cpu = children_cpu_seconds(pid) - helm0
        kinds1, resources1 = _request_kinds(cp.sim_url)
        sim_cpu = cpu_seconds(sim_pid) - sim_cpu0
        requests = cp.sim_requests() - requests0
        _, hwm = memory_mb(pid)
        failed = cp.count(client, "Failed")

    stores = max(ready, 1)
    by_resource = _per_store(resources0, resources1, stores)
    # What a store's provisioning writes: every server-side apply and the generated Secret.
    applied = sum(
        (resources1[k] - resources0.get(k, 0)) / stores
        for k in resources1
        if k.startswith("patch ") or k == "create secrets"
    )
    per_store = requests / stores
    figures = {
        "stores": args.stores,
        "ready": ready,
        "failed": failed,
        "workers": args.workers,
        "seconds_to_all_ready": round(total, 1),
        "stores_per_minute": round(ready / total * 60, 1),
        "control_plane_cpu_seconds_per_store": round(cpu / max(ready, 1), 4),
        "helm_cpu_seconds_per_store": round(helm_cpu / max(ready, 1), 4),
        "simulator_cpu_seconds_per_store": round(sim_cpu / max(ready, 1), 4),
        "cluster_api_requests_per_store": round(per_store, 2),
        "objects_applied_per_store": round(applied, 2),
        "requests_target_per_store": round(applied + 3, 2),
        "peak_resident_mb": round(hwm, 1),
        "resident_mb_per_store": round(max(0.0, hwm - rss_at_start) / stores, 3),
        "cluster_requests_per_store_by_kind": _per_store(kinds0, kinds1, stores),
        "cluster_requests_per_store_by_resource": by_resource,
        "target": "1,000 stores in under 150 s, under 500 MB resident, requests per store "
        "<= objects applied + 3",
        "requests_target_met": bool(per_store <= applied + 3),
        "memory_target_met": bool(hwm < 500),
        "target_met": bool(
            ready == args.stores and total < 150 and hwm < 500 and per_store <= applied + 3
        )
        if args.stores >= 1000
        else None,
    }
    print()
    for key, value in figures.items():
        print(f"{key:38s} {value}")
    write("provision_throughput", figures)


if __name__ == "__main__":
    main()
