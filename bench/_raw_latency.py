"""Each request's own latency over keep-alive connections, with no correction: the second
opinion ``bench/api_latency.py`` prints beside wrk's p99.

python bench/_raw_latency.py HOST PORT PATH TOKEN|- CONNECTIONS SECONDS

wrk corrects its histogram for coordinated omission before printing (``stats_correct``: each
sample longer than twice a connection's mean interval adds synthetic samples below it), so a
handful of slow answers among thousands move its p99 a lot: on the SQLite page, wrk printed
46 and 204 ms in two runs where this client, against the same server at the same rate, saw
p99 31 and 38 ms with 6 and 28 of ~17,000 requests over 100 ms (bench/RESULTS.md, fourth
session). This records every request (write to last body byte) on uvloop with raw streams;
it prints one JSON line: the rate, the percentiles, the maximum and its own CPU share (the
bench checks that it stayed below a core, so that the server, not this client, set the rate).
"""

from __future__ import annotations

import asyncio
import json
import resource
import sys
import time

import uvloop


async def _connection(
    host: str, port: int, request: bytes, stop: float, latencies: list[float]
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while time.monotonic() < stop:
            started = time.monotonic()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head.split(b" ", 2)[1])
            if status != 200:
                raise SystemExit(f"HTTP {status}: {head[:200]!r}")
            length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
            await reader.readexactly(length)
            latencies.append(1000 * (time.monotonic() - started))
    finally:
        writer.close()


async def _run(
    host: str, port: int, path: str, token: str, connections: int, seconds: float
) -> None:
    auth = f"Authorization: Bearer {token}\r\n" if token != "-" else ""
    request = f"GET {path} HTTP/1.1\r\nHost: {host}\r\n{auth}\r\n".encode()
    latencies: list[float] = []
    stop = time.monotonic() + seconds
    cpu = time.process_time()
    started = time.monotonic()
    await asyncio.gather(
        *(_connection(host, port, request, stop, latencies) for _ in range(connections))
    )
    wall = time.monotonic() - started
    ordered = sorted(latencies)
    count = len(ordered)

    def percentile(share: float) -> float:
        return round(ordered[min(count - 1, int(count * share))], 1)

    print(
        json.dumps(
            {
                "requests": count,
                "rps": round(count / wall, 1),
                "p50_ms": percentile(0.5),
                "p90_ms": percentile(0.9),
                "p99_ms": percentile(0.99),
                "max_ms": round(ordered[-1], 1),
                "over_100_ms": sum(1 for x in ordered if x >= 100),
                "client_cpu_share": round((time.process_time() - cpu) / wall, 3),
                "max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            }
        )
    )


if __name__ == "__main__":
    host, port, path, token = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    connections, seconds = int(sys.argv[5]), float(sys.argv[6])
    uvloop.run(_run(host, port, path, token, connections, seconds))
