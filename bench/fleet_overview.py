"""How long the console's fleet overview (``GET /api/v1/fleet``) takes with 10,000 stores.

The stores are seeded by ``api_latency.seed`` (the repository's own row mapping, one
multi-row insert after ``migrate``); on top of them this adds what the overview reads beyond
the stores table, so it has real work to do: each store's ``Created`` and first
``Provisioning → Ready`` events (the durations sample) and a ``Failed`` phase with a cause for
one store in 50 (the failing list). The API runs alone (``_api_only.py``, no reconciler); one
client asks for the overview one request at a time, as an open dashboard does, and the
latencies of ``--requests`` answers are printed (after a warm-up), for SQLite and, with
``--postgres URL``, PostgreSQL.

    .venv/bin/python bench/fleet_overview.py [--stores 10000] [--requests 50]
        [--postgres URL]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import httpx
import sqlalchemy
from _harness import REPO, write
from api_latency import free_port, seed

from storeplane.db import create_engine_for
from storeplane.db.tables import store_events, stores
from storeplane.domain.store import Phase

FAIL_EVERY = 50


def add_history(url: str) -> tuple[int, int]:
    """Events for every seeded store and some Failed stores; returns (events, failed)."""
    engine = create_engine_for(url)
    with engine.begin() as connection:
        rows = connection.execute(sqlalchemy.select(stores.c.id, stores.c.created_at)).all()
        events = []
        for n, (store_id, created) in enumerate(rows):
            ready = created + timedelta(seconds=20 + n % 40)
            events += [
                {
                    "store_id": store_id,
                    "time": created,
                    "type": "Normal",
                    "reason": "Created",
                    "message": "store created by bench",
                    "actor": "bench",
                    "generation": 1,
                },
                {
                    "store_id": store_id,
                    "time": ready,
                    "type": "Normal",
                    "reason": "PhaseChanged",
                    "message": f"{Phase.PROVISIONING.value} → {Phase.READY.value}: every condition is True",
                    "actor": "system",
                    "generation": 1,
                },
            ]
        connection.execute(sqlalchemy.insert(store_events), events)
        failed = [store_id for n, (store_id, _) in enumerate(rows) if n % FAIL_EVERY == 0]
        connection.execute(
            stores.update()
            .where(stores.c.id.in_(failed))
            .values(phase=Phase.FAILED.value, last_error="not ready by its deadline (bench)")
        )
    engine.dispose()
    return len(events), len(failed)


def measure(name: str, url: str, args: argparse.Namespace) -> dict[str, object]:
    print(f"\n== {name}: seeding {args.stores} stores", flush=True)
    token, _ = seed(url, args.stores)
    n_events, n_failed = add_history(url)
    print(f"  added {n_events} events, {n_failed} Failed stores", flush=True)
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, str(REPO / "bench" / "_api_only.py"), url, str(port)], cwd=REPO
    )
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(
            base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=60
        ) as client:
            for _ in range(300):
                try:
                    if client.get("/readyz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.1)
            first = client.get("/api/v1/fleet")
            first.raise_for_status()
            body = first.json()
            assert body["total"] >= args.stores, body["total"]  # a reused PostgreSQL has more
            assert body["durations"]["sample"] >= 1 and len(body["failing"]) >= 1, body
            for _ in range(5):  # warm-up
                client.get("/api/v1/fleet").raise_for_status()
            millis = []
            for _ in range(args.requests):
                started = time.perf_counter()
                client.get("/api/v1/fleet").raise_for_status()
                millis.append((time.perf_counter() - started) * 1000)
    finally:
        server.terminate()
        server.wait(20)
    millis.sort()
    figures = {
        "stores": args.stores,
        "events": n_events,
        "failed": n_failed,
        "requests": args.requests,
        "p50_ms": round(statistics.median(millis), 1),
        "p95_ms": round(millis[int(0.95 * (len(millis) - 1))], 1),
        "max_ms": round(millis[-1], 1),
        "total_shown": body["total"],
        "durations_sample": body["durations"]["sample"],
    }
    print(
        f"  {name}: GET /api/v1/fleet with {args.stores} stores: p50 {figures['p50_ms']} ms, "
        f"p95 {figures['p95_ms']} ms, max {figures['max_ms']} ms ({args.requests} requests, one at a time)",
        flush=True,
    )
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--stores", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--postgres", default=None, help="a PostgreSQL URL to measure too")
    args = parser.parse_args()
    results: dict[str, object] = {}
    with tempfile.TemporaryDirectory(prefix="fleet-bench-") as tmp:
        results["sqlite"] = measure("SQLite", f"sqlite:///{Path(tmp) / 'fleet.db'}", args)
    if args.postgres:
        results["postgresql"] = measure("PostgreSQL", args.postgres, args)
    results["load_average"] = [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]
    write("fleet_overview", results)


if __name__ == "__main__":
    main()
