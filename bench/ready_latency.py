"""Ready latency: from the moment the cluster reports a store's last workload ready to the
moment storeplane marks the store Ready. Target: under 1 second (watch-driven, not polling).

A watch on the simulator records, for each store, when its last Deployment, StatefulSet or
Job turned ready (as this process saw it); the store's ``PhaseChanged → Ready`` event gives
the other end. Both clocks are this machine's.

    .venv/bin/python bench/ready_latency.py [--stores 50] [--ready-delay 3]
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from datetime import datetime

import httpx
from _harness import ControlPlane, percentile, write

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


def watch(sim_url: str, path: str, became_ready: dict[str, float], stop: threading.Event) -> None:
    params = {"watch": "1", "labelSelector": "storeplane.dev/store-id", "timeoutSeconds": "600"}
    with (
        httpx.Client(timeout=None) as client,
        client.stream("GET", f"{sim_url}/{path}", params=params) as stream,
    ):
        for line in stream.iter_lines():
            if stop.is_set():
                return
            if not line:
                continue
            event = json.loads(line)
            obj = event.get("object", {})
            store = (obj.get("metadata", {}).get("labels") or {}).get("storeplane.dev/store-id")
            if store and event.get("type") in ("ADDED", "MODIFIED") and is_ready(obj):
                became_ready[store] = max(became_ready.get(store, 0.0), time.time())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stores", type=int, default=50)
    parser.add_argument(
        "--ready-delay",
        type=float,
        default=3.0,
        help="simulator seconds before workloads are ready",
    )
    args = parser.parse_args()

    with ControlPlane(workers=16, ready_delay=args.ready_delay) as cp, cp.client() as client:
        became_ready: dict[str, float] = {}
        stop = threading.Event()
        threads = [
            threading.Thread(target=watch, args=(cp.sim_url, p, became_ready, stop), daemon=True)
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
        "max_ms": round(max(latencies), 1) if latencies else None,
        "target": "under 1 second",
        "target_met": bool(latencies) and percentile(latencies, 90) < 1000,
    }
    print()
    for key, value in figures.items():
        print(f"{key:32s} {value}")
    write("ready_latency", figures)


if __name__ == "__main__":
    main()
