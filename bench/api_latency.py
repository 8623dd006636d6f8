"""API latency: ``GET /api/v1/stores`` pages and ``GET /api/v1/stores/{id}`` with 10,000
stores, under 50 concurrent clients, on SQLite and on PostgreSQL. Reports p50 and p99.
Target: p99 under 50 ms.

The stores are written straight into the database (they need no cluster for this); the API
runs alone (no reconciler) in its own process. The load generator shares the machine's two
cores with the server, so the figures include that contention.

    .venv/bin/python bench/api_latency.py [--stores 10000] [--clients 50] [--requests 4000]
        [--postgres URL]   (default: scripts/postgres-test.sh's server, if it runs)
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import sqlalchemy
from _harness import REPO, percentile, write

from storeplane.db import SqlStoreRepository, SqlUserRepository, create_engine_for, migrate
from storeplane.domain.conditions import initial_conditions
from storeplane.domain.plans import PlanName
from storeplane.domain.store import Engine, Phase, Store, StoreSpec, new_store_id
from storeplane.domain.users import Role
from storeplane.services import auth


def seed(url: str, count: int) -> tuple[str, list[str]]:
    migrate(url)
    engine = create_engine_for(url)
    repo = SqlStoreRepository(engine)
    users = SqlUserRepository(engine)
    admin = auth.create_user(users, f"bench{random.randrange(10**6)}", Role.ADMIN)
    _, token = auth.issue_token(users, admin, "api benchmark")
    now = datetime.now(UTC)
    ids = []
    engines, plans = list(Engine), list(PlanName)
    for n in range(count):
        store_id = new_store_id()
        created = now - timedelta(seconds=count - n)
        store = Store.create(
            StoreSpec(f"api-bench-{n:05d}", engines[n % 2], plans[n % 3]),
            store_id=store_id,
            url=f"http://{store_id}.localtest.me",
            now=created,
            deadline=timedelta(minutes=10),
        )
        phase = Phase.READY if n % 10 else Phase.PROVISIONING
        store = replace(
            store,
            phase=phase,
            observed_generation=1,
            conditions=initial_conditions(created, 1),
            next_reconcile_at=None,
            owner_id=admin.id,
        )
        repo.create(store, [])
        ids.append(store_id)
    engine.dispose()
    return token, ids


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def load(base: str, token: str, paths: list[str], clients: int, requests: int) -> list[float]:
    latencies: list[float] = []
    queue: asyncio.Queue[str] = asyncio.Queue()
    for n in range(requests):
        queue.put_nowait(paths[n % len(paths)])
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(
        base_url=base, headers={"Authorization": f"Bearer {token}"}, limits=limits, timeout=30
    ) as client:

        async def worker() -> None:
            while not queue.empty():
                path = queue.get_nowait()
                started = time.perf_counter()
                response = await client.get(path)
                latencies.append((time.perf_counter() - started) * 1000)
                response.raise_for_status()

        await asyncio.gather(*(worker() for _ in range(clients)))
    return latencies


def run_backend(name: str, url: str, args: argparse.Namespace) -> dict[str, object]:
    print(f"\n== {name}: seeding {args.stores} stores", flush=True)
    token, ids = seed(url, args.stores)
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, str(REPO / "bench" / "_api_only.py"), url, str(port)], cwd=REPO
    )
    base = f"http://127.0.0.1:{port}"
    spy = None
    if args.profile:
        spy = subprocess.Popen(
            [
                "py-spy",
                "record",
                "-p",
                str(server.pid),
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
    try:
        for _ in range(200):
            try:
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        first = httpx.get(
            f"{base}/api/v1/stores",
            params={"limit": 50},
            headers={"Authorization": f"Bearer {token}"},
        ).json()
        cursors = [None]
        page = first
        while page.get("next_cursor") and len(cursors) < 20:
            cursors.append(page["next_cursor"])
            page = httpx.get(
                f"{base}/api/v1/stores",
                params={"limit": 50, "cursor": page["next_cursor"]},
                headers={"Authorization": f"Bearer {token}"},
            ).json()
        list_paths = [
            f"/api/v1/stores?limit=50&cursor={c}" if c else "/api/v1/stores?limit=50"
            for c in cursors
        ]
        list_paths += [
            "/api/v1/stores?limit=50&phase=Provisioning",
            "/api/v1/stores?limit=50&q=api-bench-01",
        ]
        rng = random.Random(1)
        get_paths = [f"/api/v1/stores/{rng.choice(ids)}" for _ in range(500)]
        figures: dict[str, object] = {}
        for label, paths in (("list_page", list_paths), ("get_one", get_paths)):
            asyncio.run(load(base, token, paths, args.clients, 200))  # warm up
            lat = asyncio.run(load(base, token, paths, args.clients, args.requests))
            figures[label] = {
                "requests": len(lat),
                "p50_ms": round(percentile(lat, 50), 1),
                "p99_ms": round(percentile(lat, 99), 1),
            }
            print(
                f"  {label:10s} p50 {figures[label]['p50_ms']:7.1f} ms   p99 {figures[label]['p99_ms']:7.1f} ms",
                flush=True,
            )
        return figures
    finally:
        if spy is not None:
            spy.send_signal(2)
            spy.wait(30)
        server.terminate()
        server.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stores", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--postgres", default=os.environ.get("STOREPLANE_TEST_POSTGRES_URL"))
    parser.add_argument("--profile", help="record the API server with py-spy into this file")
    args = parser.parse_args()
    results: dict[str, object] = {
        "stores": args.stores,
        "clients": args.clients,
        "requests_per_endpoint": args.requests,
    }
    workdir = Path(tempfile.mkdtemp(prefix="storeplane-api-bench-"))
    results["sqlite"] = run_backend("SQLite", f"sqlite:///{workdir / 'bench.db'}", args)
    if args.postgres:
        admin = sqlalchemy.create_engine(args.postgres, isolation_level="AUTOCOMMIT")
        name = f"api_bench_{random.randrange(10**6)}"
        with admin.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
        url = (
            sqlalchemy.engine.make_url(args.postgres)
            .set(database=name)
            .render_as_string(hide_password=False)
        )
        try:
            results["postgresql"] = run_backend("PostgreSQL", url, args)
        finally:
            with admin.connect() as connection:
                connection.exec_driver_sql(f'DROP DATABASE "{name}" WITH (FORCE)')
    else:
        print(
            "\nPostgreSQL skipped: start one with scripts/postgres-test.sh start, or pass --postgres URL"
        )
    p99s = [
        v[k]["p99_ms"]
        for v in results.values()
        if isinstance(v, dict)
        for k in ("list_page", "get_one")
    ]  # type: ignore[index]
    results["target"] = "p99 under 50 ms"
    results["target_met"] = all(p < 50 for p in p99s)
    write("api_latency", results)


if __name__ == "__main__":
    main()
