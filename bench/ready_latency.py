"""Ready latency: from the moment the cluster reports a store's last workload ready to the
moment storeplane marks the store Ready. Target: under 1 second (watch-driven, not polling).

A watch on the simulator records, for each store, when its last Deployment, StatefulSet or
Job first turned ready (as this process saw it; a watch the simulator ends is resumed from its
last resourceVersion); the store's ``PhaseChanged → Ready`` event gives
the other end. Both clocks are this machine's.

    .venv/bin/python bench/ready_latency.py [--stores 50] [--ready-delay 3]
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from datetime import datetime
from pathlib import Path

import httpx
from _harness import ControlPlane, cpu_seconds, percentile, write

WATCHED = ("apis/apps/v1/deployments", "apis/apps/v1/statefulsets", "apis/batch/v1/jobs")


def is_ready(obj: dict) -> bool:  # type: ignore[type-arg]
    status = obj.get("status", {})
    if obj.get("kind") == "Job":
        return any(
            c.get("type") == "Complete" and c.get("status") == "True"
            for c in status.get("conditions", [])
        )
    wanted = obj.get("spec", {}).get("replicas", 1)
    seen = status.get("observedGeneration", 0) >= obj["metadata"].get("generation", 0)
    return bool(seen and status.get("readyReplicas", 0) >= wanted)


def watch(
    sim_url: str,
    path: str,
    first_ready: dict[tuple[str, str, str], tuple[str, float]],
    stop: threading.Event,
    reconnects: list[int],
) -> None:
    """Record when each workload object was first seen ready: ``(kind, namespace, name) ->
    (store id, time)``. A watch the server ends is resumed from the last resourceVersion seen,
    so no change in between is missed (a gap would make a store look ready later than it was,
    and its latency shorter)."""
    version = ""
    while not stop.is_set():
        params = {"watch": "1", "labelSelector": "storeplane.dev/store-id", "timeoutSeconds": "600"}
        if version:
            params["resourceVersion"] = version
        try:
            with (
                httpx.Client(timeout=None) as client,
                client.stream("GET", f"{sim_url}/{path}", params=params) as stream,
            ):
                if stream.status_code == 410:  # the version is too old: list afresh
                    version = ""
                stream.raise_for_status()
                for line in stream.iter_lines():
                    if stop.is_set():
                        return
                    if not line:
                        continue
                    event = json.loads(line)
                    obj = event.get("object", {})
                    meta = obj.get("metadata", {})
                    version = meta.get("resourceVersion", version)
                    store = (meta.get("labels") or {}).get("storeplane.dev/store-id")
                    key = (obj.get("kind", path), meta.get("namespace", ""), meta.get("name", ""))
                    if (
                        store
                        and event.get("type") in ("ADDED", "MODIFIED")
                        and key not in first_ready
                        and is_ready(obj)
                    ):
                        first_ready[key] = (store, time.time())
        except httpx.HTTPError:
            reconnects[0] += 1
            time.sleep(0.2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stores", type=int, default=50)
    parser.add_argument(
        "--ready-delay",
        type=float,
        default=3.0,
        help="simulator seconds before workloads are ready",
    )
    parser.add_argument("--workers", type=int, default=16)
    args = parser.parse_args()

    with (
        ControlPlane(workers=args.workers, ready_delay=args.ready_delay) as cp,
        cp.client() as client,
    ):
        assert cp.serve is not None
        load_start = " ".join(Path("/proc/loadavg").read_text().split()[:3])
        cpu0, requests0 = cpu_seconds(cp.serve.pid), cp.sim_requests()
        first_ready: dict[tuple[str, str, str], tuple[str, float]] = {}
        reconnects = [0]
        stop = threading.Event()
        threads = [
            threading.Thread(
                target=watch, args=(cp.sim_url, p, first_ready, stop, reconnects), daemon=True
            )
            for p in WATCHED
        ]
        for thread in threads:
            thread.start()
        time.sleep(0.5)
        ids = [
            client.post(
                "/api/v1/stores", json={"name": f"latency-{n:04d}", "engine": "medusa"}
            ).json()["id"]
            for n in range(args.stores)
        ]
        deadline = time.monotonic() + 300
        while cp.count(client, "Ready") < args.stores and time.monotonic() < deadline:
            time.sleep(1)
        stop.set()
        cpu = cpu_seconds(cp.serve.pid) - cpu0
        requests = cp.sim_requests() - requests0
        metrics = httpx.get(f"{cp.url}/metrics", timeout=30).text
        passes = sum(
            float(line.rsplit(" ", 1)[1])
            for line in metrics.splitlines()
            if line.startswith("storeplane_reconcile_total{")
        )
        # A store's workloads are all ready when the last of them first was.
        became_ready: dict[str, float] = {}
        for store_id, when in first_ready.values():
            became_ready[store_id] = max(became_ready.get(store_id, 0.0), when)
        latencies = []
        for store_id in ids:
            events = client.get(f"/api/v1/stores/{store_id}/events").json()["items"]
            ready_at = [
                e["time"]
                for e in events
                if e["reason"] == "PhaseChanged" and "→ Ready" in e["message"]
            ]
            if ready_at and store_id in became_ready:
                store_ready = datetime.fromisoformat(ready_at[0]).timestamp()
                latencies.append((store_ready - became_ready[store_id]) * 1000)

    figures = {
        "stores": args.stores,
        "measured": len(latencies),
        "simulator_ready_delay_seconds": args.ready_delay,
        "p50_ms": round(percentile(latencies, 50), 1),
        "p90_ms": round(percentile(latencies, 90), 1),
        "p99_ms": round(percentile(latencies, 99), 1),
        "max_ms": round(max(latencies), 1) if latencies else None,
        "watch_reconnects": reconnects[0],
        # Load-insensitive: what the control plane did for the whole run (provisioning too).
        "reconcile_passes": int(passes),
        "passes_per_store": round(passes / max(args.stores, 1), 1),
        "control_plane_cpu_seconds": round(cpu, 2),
        "cluster_requests_per_store": round(requests / max(args.stores, 1), 1),
        "workers": args.workers,
        "load_average_start": load_start,
        "target": "p99 under 1 second",
        "target_met": bool(latencies) and percentile(latencies, 99) < 1000,
    }
    print()
    for key, value in figures.items():
        print(f"{key:32s} {value}")
    write("ready_latency", figures)


if __name__ == "__main__":
    main()
