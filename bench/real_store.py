"""Real Medusa stores in ``storeplane dev``: POST -> the store's URL answering, and resident
memory per store, beside the engine's own floor. Goal: within 1.5x the floor.

The floor is what Medusa itself needs once its build is cached, measured the way
scripts/medusa-local.sh does it (fresh database, ``db:migrate``, admin user, seed, ``medusa
start`` until ``/health`` answers): no control plane, no Kubernetes, one process. The store
side is a real ``storeplane dev`` with local runtimes: from ``POST /api/v1/stores`` to
``GET http://<id>.localhost:<port>/health`` answering ``OK`` through the dev ingress, then the
sum of the resident memory of the store's processes (server, worker, PostgreSQL, Redis and
their children), read from /proc by the PIDs the simulator's node reports.

    .venv/bin/python bench/real_store.py [--stores 1] [--skip-floor]
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import tempfile
import time
from pathlib import Path

import httpx
import yaml
from _harness import REPO, Proc, write


def floor_seconds() -> float:
    """scripts/medusa-local.sh up on the test PostgreSQL; its own 'everything took' figure."""
    pg = subprocess.run(
        [str(REPO / "scripts" / "postgres-test.sh"), "start"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    env = {**os.environ, "STOREPLANE_TEST_POSTGRES_URL": pg, "STOREPLANE_MEDUSA_DB": "bench_floor"}
    script = str(REPO / "scripts" / "medusa-local.sh")
    try:
        up = subprocess.run(
            [script, "up"], capture_output=True, text=True, env=env, check=True, timeout=600
        )
    finally:
        subprocess.run([script, "down"], capture_output=True, env=env, check=False)
    took = re.search(r"everything took (\d+)s", up.stderr)
    if not took:
        raise RuntimeError(f"medusa-local.sh printed no timing:\n{up.stderr[-2000:]}")
    return float(took.group(1))


def descendants(pid: int) -> set[int]:
    """``pid`` and every process below it (a Medusa server forks node workers)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    found, todo = set(), [pid]
    while todo:
        current = todo.pop()
        if current not in found:
            found.add(current)
            todo += children.get(current, [])
    return found


def rss_mb(pids: set[int]) -> float:
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stores", type=int, default=1)
    parser.add_argument("--skip-floor", action="store_true", help="do not measure the floor")
    args = parser.parse_args()

    subprocess.run([str(REPO / "scripts" / "medusa-local.sh"), "install"], check=True)
    floor = None if args.skip_floor else floor_seconds()
    if floor is not None:
        print(f"engine floor (migrate + user + seed + boot, medusa-local.sh): {floor:.0f} s")

    workdir = Path(tempfile.mkdtemp(prefix="storeplane-bench-real-"))
    dev = Proc(
        ["dev", "--port", "0", "--data-dir", str(workdir / "data")],
        {"STOREPLANE_POLL_SECONDS": "0.2"},
        workdir / "dev.log",
    )
    url = dev.start(r"storeplane is running at (http://\S+)").group(1)
    port = url.rsplit(":", 1)[1]
    token = (workdir / "data" / "admin.token").read_text().strip()
    sim_url = yaml.safe_load((workdir / "data" / "kubeconfig").read_text())["clusters"][0][
        "cluster"
    ]["server"]
    api = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=30)
    results = []
    try:
        for n in range(args.stores):
            started = time.monotonic()
            created = api.post("/api/v1/stores", json={"name": f"bench-{n}", "engine": "medusa"})
            created.raise_for_status()
            store_id = created.json()["id"]
            host = {"Host": f"{store_id}.localhost:{port}"}
            answering = ready = None
            deadline = started + 900
            while time.monotonic() < deadline and (answering is None or ready is None):
                if answering is None:
                    try:
                        health = httpx.get(f"{url}/health", headers=host, timeout=5)
                        if health.status_code == 200 and health.text == "OK":
                            answering = time.monotonic() - started
                    except httpx.HTTPError:
                        pass
                if ready is None and api.get(f"/api/v1/stores/{store_id}").json()["phase"] in (
                    "Ready",
                    "Failed",
                ):
                    ready = time.monotonic() - started
                time.sleep(0.25)
            if answering is None:
                raise RuntimeError(f"{store_id} never answered:\n{dev.log.read_text()[-3000:]}")
            namespace = api.get(f"/api/v1/stores/{store_id}").json()["namespace"]
            node = httpx.get(
                f"{sim_url}/sim/v1/node/residue", params={"namespace": namespace}, timeout=30
            ).json()
            pids: set[int] = set()
            for process in node["processes"]:
                pids |= descendants(int(process["pid"]))
            memory = rss_mb(pids)
            results.append(
                {
                    "store": store_id,
                    "answering_s": round(answering, 1),
                    "ready_s": round(ready or -1, 1),
                    "rss_mb": round(memory),
                    "processes": len(pids),
                }
            )
            print(
                f"{store_id}: URL answering after {answering:.1f} s (Ready after "
                f"{(ready or -1):.1f} s), {memory:.0f} MB resident in {len(pids)} processes"
            )
    finally:
        api.close()
        dev.stop()
    slowest = max(r["answering_s"] for r in results)
    figures = {"stores": results, "floor_s": floor, "goal": "answering <= 1.5 x floor"}
    if floor:
        ratio = slowest / floor
        figures["ratio_to_floor"] = round(ratio, 2)
        verdict = "met" if ratio <= 1.5 else "MISSED"
        print(
            f"slowest POST -> answering URL: {slowest:.1f} s = {ratio:.2f} x the floor ({verdict})"
        )
    write("real_store", figures)


if __name__ == "__main__":
    main()
