"""Serve only the API (no reconciler, no cluster) on a given database, for the API benchmark.

python bench/_api_only.py DATABASE_URL PORT [API_PROCESSES]

With several processes they share one listening socket (bound here, inherited by each), the
way ``storeplane serve --api-processes N`` runs them.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys

import uvicorn

from storeplane.api.app import create_app
from storeplane.runtime import bind
from storeplane.settings import Settings


def serve(url: str, fd: int) -> None:
    import socket

    settings = Settings(database_url=url, rate_limit_per_second=1e9, rate_limit_burst=10**9)
    sock = socket.socket(fileno=fd)
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), log_level="warning", access_log=False, log_config=None)
    )
    server.run(sockets=[sock])


if __name__ == "__main__":
    url, port = sys.argv[1], int(sys.argv[2])
    processes = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    bound = bind("127.0.0.1", port)
    children = []
    for _ in range(processes - 1):
        pid = os.fork()
        if pid == 0:
            # Die with the parent (uvicorn re-raises SIGTERM, so its finally may never run).
            ctypes.CDLL("libc.so.6").prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
            serve(url, bound.sock.fileno())
            os._exit(0)
        children.append(pid)
    try:
        serve(url, bound.sock.fileno())
    finally:
        for pid in children:
            try:
                os.kill(pid, 15)
                os.waitpid(pid, 0)
            except OSError:
                pass
