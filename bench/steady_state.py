"""Steady state: N Ready stores left alone for M minutes. Reports cluster API requests per
store per minute, the control plane's CPU (CPU-seconds over wall seconds, and per reconcile
pass) and the load average. Target (10,000 stores, 10 minutes): below 0.2 requests per store
per minute and below 10% of one core.

Seeding is the honest path: every store is POSTed to the API and provisioned by the control
plane (no rows or objects made by hand). Creations are paced (at most ``--in-flight`` stores
not yet Ready), so that no store waits in the queue past its provisioning deadline; a store
that still went ``Failed`` is retried through the API. That phase is not measured.

Seeding 10,000 stores takes most of an hour on a shared machine, so it can be done once and
measured later (the simulator keeps its objects in the workdir's state file, the control plane
its database there):

    .venv/bin/python bench/steady_state.py --stores 10000 --workdir DIR --seed-only
    .venv/bin/python bench/steady_state.py --workdir DIR --minutes 10    # restart, then measure

(``--seed-only`` or ``--seed-for`` on a seeded workdir goes on seeding up to ``--stores``: a
seed can be stopped and resumed, e.g. with newer code. ``--seed-for S`` stops creating after
S seconds, waits until what was made is Ready, and measures: the largest fleet a time
budget allows.)

A run on a workdir that already holds stores restarts the simulator and the control plane on
it (as after a deploy), waits until the restart's passes are over (``--settle``: the pass
rate is back near one resync per store per resync interval), then measures. Without
``--workdir`` it seeds and measures in one run.

    .venv/bin/python bench/steady_state.py [--stores 10000] [--minutes 10] [--workers 32]
"""

from __future__ import annotations

import argparse
import re
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx
from _harness import ControlPlane, children_cpu_seconds, cpu_seconds, memory_mb, write


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def passes(cp: ControlPlane) -> float:
    """Reconcile passes this control plane finished so far (its /metrics)."""
    text = httpx.get(f"{cp.url}/metrics", timeout=60).text
    return sum(
        float(m.group(1))
        for m in re.finditer(r'^storeplane_reconcile_total\{result="[^"]+"\} (\S+)$', text, re.M)
    )


def seed(
    cp: ControlPlane,
    client: httpx.Client,
    stores: int,
    in_flight: int,
    timeout: float,
    create_for: float | None = None,
) -> int:
    """POST stores until there are ``stores`` (or ``create_for`` seconds passed), at most
    ``in_flight`` of them not yet Ready, and wait until all made are Ready (retrying Failed
    ones). Returns how many are Ready."""
    started = time.monotonic()
    made = int(client.get("/api/v1/stores", params={"limit": 1}).json()["count"])
    ready = ready0 = cp.count(client, "Ready")
    last_print = 0.0
    while time.monotonic() - started < timeout:
        ready = cp.count(client, "Ready")
        if create_for is not None and time.monotonic() - started > create_for and made < stores:
            print(f"  seeding: stopped creating at {made} stores ({create_for:.0f}s)", flush=True)
            stores = made
        if ready >= stores:
            break
        busy = made - ready
        for n in range(made, min(stores, made + max(0, in_flight - busy))):
            client.post(
                "/api/v1/stores", json={"name": f"steady-{n:05d}", "engine": "medusa"}
            ).raise_for_status()
            made += 1
        if cp.count(client, "Failed"):  # e.g. past its deadline while the seed was stopped
            page = client.get("/api/v1/stores", params={"phase": "Failed", "limit": 200}).json()
            for item in page["items"]:
                client.post(f"/api/v1/stores/{item['id']}/retry").raise_for_status()
        elapsed = time.monotonic() - started
        if elapsed - last_print >= 30:
            last_print = elapsed
            rate = (ready - ready0) / elapsed * 60
            print(
                f"  seeding: {made} created, {ready} Ready after {elapsed:.0f}s "
                f"({rate:.0f}/min; load {load_average()})",
                flush=True,
            )
        time.sleep(2)
    print(f"seeded {ready} Ready stores in {time.monotonic() - started:.0f}s", flush=True)
    return ready


def counted(cp: ControlPlane, result: str) -> float:
    """Reconcile passes of one result (e.g. ``error``) this control plane finished so far."""
    text = httpx.get(f"{cp.url}/metrics", timeout=60).text
    found = re.search(rf'^storeplane_reconcile_total{{result="{result}"}} (\S+)$', text, re.M)
    return float(found.group(1)) if found else 0.0


def sim_stats(cp: ControlPlane) -> dict[str, object]:
    stats: dict[str, object] = httpx.get(f"{cp.sim_url}/sim/v1/stats", timeout=60).json()
    return stats


def watch_synced(cp: ControlPlane, limit: float) -> float | None:
    """Seconds from the control plane's start until its watches had listed every kind (its
    log says so once), or None if that did not happen within ``limit`` seconds."""
    assert cp.serve is not None
    while time.monotonic() - cp.serve_started < limit:
        if "cluster watches synced" in cp.serve.log.read_text(errors="replace"):
            return time.monotonic() - cp.serve_started
        time.sleep(0.2)
    return None


def settle(cp: ControlPlane, ready: int, resync_seconds: float, limit: float) -> float:
    """Wait until every store had a pass since the restart (its first lists wake them all),
    then until the pass rate over 30 s is at most twice one resync per store per interval.
    The first part is needed at 10,000 stores: there a restart's passes run at about the
    resync's own rate (16.7/s), so the rate alone cannot tell they are over. Returns the
    seconds waited."""
    started = time.monotonic()
    expected = ready / resync_seconds
    last_print = started
    while (done := passes(cp)) < ready and time.monotonic() - started < limit:
        if time.monotonic() - last_print >= 30:
            last_print = time.monotonic()
            print(f"  settling: {done:.0f} of {ready} stores had their restart pass", flush=True)
        time.sleep(2)
    before = passes(cp)
    while time.monotonic() - started < limit:
        time.sleep(30)
        now = passes(cp)
        rate = (now - before) / 30
        print(f"  settling: {rate:.1f} passes/s (resync alone: {expected:.1f}/s)", flush=True)
        if rate <= 2 * expected + 1:
            break
        before = now
    return time.monotonic() - started


def state_resource_version(workdir: Path) -> int:
    """The cluster-wide resourceVersion the simulator's state file was left at."""
    db = sqlite3.connect(workdir / "sim-state.db")
    try:
        row = db.execute("SELECT value FROM meta WHERE key = 'resourceVersion'").fetchone()
    finally:
        db.close()
    return int(row[0]) if row else 0


def measure_restart(cp: ControlPlane, ready: int, args: argparse.Namespace) -> dict[str, object]:
    """The restart's own figures: the simulator's start on its state file, the control plane's
    first lists, and the passes (and helm renders) the restart caused until it settled."""
    assert cp.serve is not None and cp.sim is not None
    pid, sim_pid = cp.serve.pid, cp.sim.pid
    stats0 = sim_stats(cp)
    objects = int(str(stats0["objects"]))
    print(
        f"simulator answered after {cp.sim_ready_seconds:.1f}s ({cp.sim_ready_cpu:.1f} CPU-s) "
        f"on {objects} objects",
        flush=True,
    )
    synced = watch_synced(cp, args.settle)
    print(f"control plane watches synced after {synced}s", flush=True)
    waited = settle(cp, ready, args.resync, args.settle)
    print(f"settled after {waited:.0f}s", flush=True)
    stats = sim_stats(cp)
    ran = passes(cp)
    cpu, helm = cpu_seconds(pid), children_cpu_seconds(pid)
    return {
        "restart_objects_in_simulator": objects,
        "restart_sim_start_seconds": round(cp.sim_ready_seconds, 1),
        "restart_sim_start_cpu_seconds": round(cp.sim_ready_cpu, 1),
        "restart_sim_start_cpu_ms_per_object": round(cp.sim_ready_cpu / max(objects, 1) * 1000, 3),
        "restart_watch_synced_seconds": round(synced, 1) if synced is not None else None,
        "restart_settled_seconds": round(time.monotonic() - cp.serve_started, 1),
        "restart_passes": int(ran),
        "restart_error_passes": int(counted(cp, "error")),
        "restart_control_plane_cpu_seconds": round(cpu, 2),
        "restart_helm_cpu_seconds": round(helm, 2),
        "restart_cpu_ms_per_pass": round((cpu + helm) / ran * 1000, 2) if ran else None,
        "restart_cluster_requests": int(str(stats["requests_total"])),
        # Writes since the state file was last closed: the simulator's own start-up and the
        # control plane's restart (an unchanged fleet needs neither).
        "restart_cluster_writes": int(str(stats["resourceVersion"])) - args.rv_before,
        "restart_sim_cpu_seconds_after_start": round(cpu_seconds(sim_pid) - cp.sim_ready_cpu, 1),
        "restart_sim_resident_mb": round(memory_mb(sim_pid)[0], 1),
        "restart_load_average_start": args.load_restart,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stores", type=int, default=10_000)
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--workers", type=int, default=32)
    parser.add_argument("--in-flight", type=int, default=400, help="stores provisioning at once")
    parser.add_argument("--provision-timeout", type=float, default=7200)
    parser.add_argument("--workdir", type=Path, help="keep (or reuse) simulator and database here")
    parser.add_argument("--seed-only", action="store_true", help="seed the workdir and stop")
    parser.add_argument(
        "--seed-for",
        type=float,
        help="stop creating stores after this many seconds (then measure what is Ready); on a "
        "seeded workdir, seeding goes on up to --stores first",
    )
    parser.add_argument("--settle", type=float, default=900, help="max seconds after a restart")
    parser.add_argument(
        "--resync",
        type=float,
        default=600,
        help="the control plane's resync interval in seconds (a short one measures the pass "
        "of an unchanged store with few stores: see cpu_ms_per_pass)",
    )
    parser.add_argument("--profile", help="py-spy the control plane's window into this file (raw)")
    args = parser.parse_args()

    extra: dict[str, object] = {}
    if args.resync != 600:
        extra["extra_env"] = {"STOREPLANE_RESYNC_SECONDS": str(args.resync)}
    if args.workdir is not None:
        args.workdir.mkdir(parents=True, exist_ok=True)
        extra["workdir"] = args.workdir
    restarted = args.workdir is not None and (args.workdir / "admin-token").exists()
    restart: dict[str, object] = {}
    args.load_restart = load_average()
    args.rv_before = state_resource_version(args.workdir) if restarted else 0
    with ControlPlane(workers=args.workers, sim_state=True, **extra) as cp, cp.client() as client:
        assert cp.serve is not None and cp.sim is not None
        pid = cp.serve.pid
        if restarted:
            ready = cp.count(client, "Ready")
            print(f"restarted on {args.workdir}: {ready} stores Ready", flush=True)
            if args.seed_only or args.seed_for:  # seeding goes on where the last run stopped
                ready = seed(
                    cp, client, args.stores, args.in_flight, args.provision_timeout, args.seed_for
                )
            else:
                restart = measure_restart(cp, ready, args)
        else:
            ready = seed(
                cp, client, args.stores, args.in_flight, args.provision_timeout, args.seed_for
            )
        if args.seed_only:
            return
        print(f"{ready} stores Ready; measuring {args.minutes} minutes of steady state", flush=True)
        load_start = load_average()
        spy = None
        if args.profile:
            spy = subprocess.Popen(
                [
                    str(Path(sys.executable).parent / "py-spy"),
                    *("record", "-p", str(pid), "-o", args.profile, "--format", "raw", "-r", "50"),
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        passes0 = passes(cp)
        helm0 = children_cpu_seconds(pid)
        requests0, cpu0, t0 = cp.sim_requests(), cpu_seconds(pid), time.monotonic()
        while time.monotonic() - t0 < args.minutes * 60:
            time.sleep(min(30, args.minutes * 60 - (time.monotonic() - t0) + 0.01))
            minutes = (time.monotonic() - t0) / 60
            done = cp.sim_requests() - requests0
            used = cpu_seconds(pid) - cpu0
            print(
                f"  {minutes:5.1f} min: {done} requests, "
                f"{done / max(ready, 1) / minutes:.3f} per store per minute, "
                f"{used / (minutes * 60) * 100:.1f}% of a core (load {load_average()})",
                flush=True,
            )
        window = time.monotonic() - t0
        requests = cp.sim_requests() - requests0
        cpu = cpu_seconds(pid) - cpu0
        helm = children_cpu_seconds(pid) - helm0
        ran = passes(cp) - passes0
        if spy is not None:
            spy.send_signal(2)
            spy.wait(60)
        rss, _ = memory_mb(pid)

    per_store_minute = requests / max(ready, 1) / (window / 60)
    core_share = cpu / window * 100
    figures = {
        "stores_ready": ready,
        "seeding": "restarted on a seeded workdir" if restarted else "provisioned in this run",
        "window_minutes": round(window / 60, 2),
        "cluster_api_requests": requests,
        "requests_per_store_per_minute": round(per_store_minute, 4),
        "control_plane_cpu_seconds": round(cpu, 2),
        "control_plane_cpu_percent_of_one_core": round(core_share, 2),
        # helm runs as a child process: its CPU is not in the figure above, so it is shown.
        "helm_cpu_seconds": round(helm, 2),
        "reconcile_passes": int(ran),
        "cpu_ms_per_pass": round(cpu / ran * 1000, 2) if ran else None,
        "resident_mb": round(rss, 1),
        "load_average_start": load_start,
        "load_average_end": load_average(),
        **restart,
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
