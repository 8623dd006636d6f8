"""Simulator at scale: N namespaces with 10 objects each, then request latency and memory.

    .venv/bin/python bench/sim_scale.py                     # 20,000 namespaces, in memory
    .venv/bin/python bench/sim_scale.py --namespaces 500    # a quick run
    .venv/bin/python bench/sim_scale.py --state /tmp/sim.db # with the SQLite state file

Starts ``python -m storeplane.sim`` on 127.0.0.1 in its own process (so the client does not
share its interpreter), fills it over HTTP with bounded concurrency - per namespace what a
store holds: ResourceQuota, LimitRange, ServiceAccount, NetworkPolicy, two ConfigMaps, two
Secrets, a Service and a Deployment, all by server-side apply (the Deployment then gets its
ReplicaSet and Pod from the built-in controllers) - and then measures, on the full cluster:

- get: one object by name;
- list-by-label in a namespace, and across all namespaces (the residue check's query);
- apply: a server-side apply that changes a ConfigMap;
- watch: from a change to the event arriving on a watch of that namespace;

printing median and p99 of each, the fill rate and the simulator's resident memory, and
writing them to ``bench/results/sim_scale.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "sim_scale.json"
LOG = Path("/tmp/sim_scale_simulator.log")
APPLY_TYPE = "application/apply-patch+yaml"
APPLY = {"content-type": APPLY_TYPE}
LABEL = "storeplane.dev/store-id"


def store_objects(store: str) -> list[tuple[str, dict[str, Any]]]:
    """(collection path below the namespace, object) for one store's namespace."""
    labels = {LABEL: store, "app.kubernetes.io/managed-by": "storeplane"}

    def meta(name: str) -> dict[str, Any]:
        return {"name": name, "labels": dict(labels)}

    pod_labels = {**labels, "app.kubernetes.io/name": "web"}
    return [
        ("api/v1/resourcequotas", {"apiVersion": "v1", "kind": "ResourceQuota",
            "metadata": meta("store-quota"),
            "spec": {"hard": {"pods": "20", "requests.cpu": "4", "requests.memory": "8Gi",
                              "limits.cpu": "8", "limits.memory": "16Gi"}}}),
        ("api/v1/limitranges", {"apiVersion": "v1", "kind": "LimitRange",
            "metadata": meta("defaults"),
            "spec": {"limits": [{"type": "Container",
                                 "default": {"cpu": "500m", "memory": "512Mi"},
                                 "defaultRequest": {"cpu": "100m", "memory": "128Mi"}}]}}),
        ("api/v1/serviceaccounts", {"apiVersion": "v1", "kind": "ServiceAccount",
            "metadata": meta("store"), "automountServiceAccountToken": False}),
        ("apis/networking.k8s.io/v1/networkpolicies", {"apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy", "metadata": meta("default-deny"),
            "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}}),
        ("api/v1/configmaps", {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": meta("settings"), "data": {"currency": "EUR", "region": "eu"}}),
        ("api/v1/configmaps", {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": meta("theme"), "data": {"colour": "blue"}}),
        ("api/v1/secrets", {"apiVersion": "v1", "kind": "Secret",
            "metadata": meta("db"), "stringData": {"password": "not-a-real-one"}}),
        ("api/v1/secrets", {"apiVersion": "v1", "kind": "Secret",
            "metadata": meta("jwt"), "stringData": {"secret": "not-a-real-one-either"}}),
        ("api/v1/services", {"apiVersion": "v1", "kind": "Service", "metadata": meta("web"),
            "spec": {"selector": {"app.kubernetes.io/name": "web"},
                     "ports": [{"name": "http", "port": 80, "targetPort": 9000}]}}),
        ("apis/apps/v1/deployments", {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": meta("web"),
            "spec": {"replicas": 1,
                     "selector": {"matchLabels": {"app.kubernetes.io/name": "web"}},
                     "template": {"metadata": {"labels": pod_labels},
                                  "spec": {"containers": [{"name": "web",
                                                           "image": "medusa:2.0"}]}}}}),
    ]  # fmt: skip


class Connection:
    """One keep-alive HTTP/1.1 connection, minimal on purpose: the fill sends a few hundred
    thousand requests and a general client costs as much CPU as the server it measures."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(
        self, method: str, path: str, body: bytes = b"", content_type: str = "application/json"
    ) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
            f"Content-Type: {content_type}\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        self.writer.write(head.encode() + body)
        status_line = await self.reader.readline()
        status = int(status_line.split()[1])
        length = 0
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode().partition(":")
            if name.lower() == "content-length":
                length = int(value)
        return status, await self.reader.readexactly(length)

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            await self.writer.wait_closed()


def object_url(collection: str, namespace: str, name: str) -> str:
    group, resource = collection.rsplit("/", 1)
    return f"/{group}/namespaces/{namespace}/{resource}/{name}"


def start_simulator(state: Path | None, ready_delay: float) -> tuple[subprocess.Popen[str], str]:
    args = [sys.executable, "-m", "storeplane.sim", "--host", "127.0.0.1", "--port", "0",
            "--ready-delay", str(ready_delay)]  # fmt: skip
    if state is not None:
        state.unlink(missing_ok=True)
        args += ["--state", str(state)]
    proc = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.PIPE, stderr=LOG.open("w"), text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if "listening on" not in line:
        proc.kill()
        raise SystemExit(f"the simulator did not start: {line!r}")
    url = line.rsplit(" ", 1)[-1].strip()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("the simulator did not become ready")


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return {
        "count": len(ordered),
        "median_ms": round(statistics.median(ordered) * 1000, 3),
        "p99_ms": round(p99 * 1000, 3),
    }


async def timed(
    conn: Connection, samples: list[float], method: str, path: str, body: Any = None
) -> bytes:
    content = json.dumps(body).encode() if body is not None else b""
    kind = APPLY_TYPE if method == "PATCH" else "application/json"
    started = time.perf_counter()
    status, answer = await conn.request(method, path, content, kind)
    samples.append(time.perf_counter() - started)
    if status >= 400:
        raise RuntimeError(f"{method} {path}: {status} {answer[:300]!r}")
    return answer


async def fill(url: str, count: int, concurrency: int) -> list[float]:
    """Create ``count`` namespaces with their objects, ``concurrency`` at a time, each
    worker on its own connection; returns the apply latencies."""
    host, port = url.removeprefix("http://").rsplit(":", 1)
    applies: list[float] = []
    todo = iter(range(count))
    done = 0
    started = time.monotonic()

    async def send(conn: Connection, method: str, path: str, body: Any, kind: str) -> None:
        content = json.dumps(body).encode()
        began = time.perf_counter()
        status, answer = await conn.request(method, path, content, kind)
        if status >= 400:
            raise RuntimeError(f"{method} {path}: {status} {answer[:300]!r}")
        if method == "PATCH":
            applies.append(time.perf_counter() - began)

    async def worker() -> None:
        nonlocal done
        conn = Connection(host, int(port))
        try:
            for i in todo:
                ns = f"store-{i:05d}"
                body = {"metadata": {"name": ns, "labels": {LABEL: f"s-{i}"}}}
                await send(conn, "POST", "/api/v1/namespaces", body, "application/json")
                for collection, obj in store_objects(f"s-{i}"):
                    path = object_url(collection, ns, obj["metadata"]["name"])
                    await send(conn, "PATCH", f"{path}?fieldManager=bench", obj, APPLY_TYPE)
                done += 1
                if done % 1000 == 0:
                    rate = done / (time.monotonic() - started)
                    print(f"  {done} namespaces ({rate:.0f}/s)", flush=True)
        finally:
            await conn.close()

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return applies


async def measure(client: httpx.AsyncClient, url: str, count: int, samples: int) -> dict[str, Any]:
    """Sequential requests on one connection against random stores of the full cluster."""
    host, port = url.removeprefix("http://").rsplit(":", 1)
    conn = Connection(host, int(port))
    rng = random.Random(7)
    stores = [rng.randrange(count) for _ in range(samples)]
    results: dict[str, list[float]] = {
        "get": [], "list_by_label_namespace": [], "list_by_label_all_namespaces": [],
        "apply": [], "watch_event": [],
    }  # fmt: skip
    try:
        for n, i in enumerate(stores):
            ns, store = f"store-{i:05d}", f"s-{i}"
            selector = f"?labelSelector={LABEL}%3D{store}"
            cms = f"/api/v1/namespaces/{ns}/configmaps"
            await timed(conn, results["get"], "GET", f"{cms}/settings")
            listed = await timed(conn, results["list_by_label_namespace"], "GET", cms + selector)
            assert len(json.loads(listed)["items"]) == 2
            everywhere = await timed(
                conn, results["list_by_label_all_namespaces"], "GET",
                "/api/v1/configmaps" + selector,
            )  # fmt: skip
            assert len(json.loads(everywhere)["items"]) == 2
            body = {"apiVersion": "v1", "kind": "ConfigMap",
                    "metadata": {"name": "settings", "labels": {LABEL: store}},
                    "data": {"currency": "EUR", "region": "eu", "round": str(n)}}  # fmt: skip
            await timed(conn, results["apply"], "PATCH", f"{cms}/settings?fieldManager=bench", body)
            if n < samples // 4:
                results["watch_event"].append(await watch_latency(client, ns, store, n))
    finally:
        await conn.close()
    return {name: summary(values) for name, values in results.items()}


async def watch_latency(client: httpx.AsyncClient, ns: str, store: str, n: int) -> float:
    """Seconds from sending a change to its event arriving on a watch of the namespace."""
    listed = (await client.get(f"/api/v1/namespaces/{ns}/configmaps")).json()
    rv = listed["metadata"]["resourceVersion"]
    params = {"watch": "1", "resourceVersion": rv, "timeoutSeconds": "10"}
    async with client.stream("GET", f"/api/v1/namespaces/{ns}/configmaps", params=params) as stream:
        body = {"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": "theme", "labels": {LABEL: store}},
                "data": {"colour": f"shade-{n}"}}  # fmt: skip
        started = time.perf_counter()
        await client.patch(
            f"/api/v1/namespaces/{ns}/configmaps/theme",
            params={"fieldManager": "bench"}, content=json.dumps(body), headers=APPLY,
        )  # fmt: skip
        async for line in stream.aiter_lines():
            if line and json.loads(line)["object"]["metadata"]["name"] == "theme":
                return time.perf_counter() - started
    raise RuntimeError("the watch ended without the change")


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    proc, url = start_simulator(args.state, args.ready_delay)
    try:
        limits = httpx.Limits(max_connections=args.concurrency + 4, max_keepalive_connections=64)
        async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as client:
            print(f"filling {args.namespaces} namespaces x 10 objects "
                  f"(concurrency {args.concurrency}) at {url}", flush=True)  # fmt: skip
            started = time.monotonic()
            applies = await fill(url, args.namespaces, args.concurrency)
            fill_seconds = time.monotonic() - started
            await asyncio.sleep(args.ready_delay + 1)  # let pods become ready
            stats = (await client.get("/sim/v1/stats")).json()
            print("measuring on the full cluster", flush=True)
            measured = await measure(client, url, args.namespaces, args.samples)
        memory = rss_mib(proc.pid)
    finally:
        proc.terminate()
        proc.wait(30)
    return {
        "namespaces": args.namespaces,
        "objects_per_namespace": 10,
        "objects_stored": stats["objects"],
        "state_file": bool(args.state),
        "fill": {
            "seconds": round(fill_seconds, 1),
            "applies_per_second": round(len(applies) / fill_seconds, 1),
            "apply_during_fill": summary(applies),
        },
        "latency": measured,
        "rss_mib": round(memory, 1),
        "python": sys.version.split()[0],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--namespaces", type=int, default=20000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--samples", type=int, default=400, help="requests measured per verb")
    parser.add_argument("--state", type=Path, default=None, help="SQLite state file to use")
    parser.add_argument("--ready-delay", type=float, default=1.0)
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()
    started = time.monotonic()
    result = asyncio.run(main_async(args))
    result["total_seconds"] = round(time.monotonic() - started, 1)
    print(f"\n{result['namespaces']} namespaces, {result['objects_stored']} objects stored, "
          f"filled in {result['fill']['seconds']} s "
          f"({result['fill']['applies_per_second']} applies/s)")  # fmt: skip
    for name, figures in result["latency"].items():
        print(f"  {name:<30} median {figures['median_ms']:8.2f} ms   "
              f"p99 {figures['p99_ms']:8.2f} ms   (n={figures['count']})")  # fmt: skip
    print(f"  resident memory: {result['rss_mib']} MiB; total {result['total_seconds']} s")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n")
    print(f"written to {args.output}")


if __name__ == "__main__":
    main()
