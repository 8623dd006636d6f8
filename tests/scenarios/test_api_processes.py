"""``storeplane serve --api-processes 2``: two processes serve the API on one port, the
reconciler runs once (in the parent) and is woken by writes the child served, and a token
revoked through one process is refused by the other on its very next request (SQLite: each
process caches tokens until any process commits; PostgreSQL: no cache).

Which process served a request is read from the kernel, not from anything storeplane says:
the server side of the test's TCP connection is found in /proc/net/tcp and its inode among
the processes' open file descriptors.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from storeplane.db import SqlUserRepository, create_engine_for
from storeplane.domain.users import Role
from storeplane.services import auth
from tests.scenarios.dev_process import wait_until
from tests.scenarios.processes import Process


@dataclass
class Serve:
    port: int
    admin: str
    parent: int
    child: int
    process: Process


def _children(pid: int) -> list[int]:
    text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    return [int(p) for p in text.split()]


def _server_pid(conn: http.client.HTTPConnection, server_port: int, pids: list[int]) -> int:
    """The process holding the server end of ``conn`` (already used for one request)."""
    assert conn.sock is not None
    client_port = conn.sock.getsockname()[1]
    inode = None
    for row in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = row.split()
        local, remote = fields[1], fields[2]
        if int(local.split(":")[1], 16) == server_port and int(remote.split(":")[1], 16) == (
            client_port
        ):
            inode = fields[9]
    assert inode is not None, "the server end of the connection is not in /proc/net/tcp"
    for pid in pids:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                if os.readlink(f"/proc/{pid}/fd/{fd}") == f"socket:[{inode}]":
                    return pid
            except OSError:
                continue
    raise AssertionError(f"no process of {pids} holds socket {inode}")


def _request(
    conn: http.client.HTTPConnection, method: str, path: str, token: str, body: Any = None
) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    conn.request(method, path, body=None if body is None else json.dumps(body), headers=headers)
    response = conn.getresponse()
    data = response.read()
    return response.status, json.loads(data) if data else None


def _connection_to(serve: Serve, pid: int) -> http.client.HTTPConnection:
    """A kept-alive connection that the process ``pid`` accepted (new ones until one is)."""
    for _ in range(200):
        conn = http.client.HTTPConnection("127.0.0.1", serve.port, timeout=30)
        status, _ = _request(conn, "GET", "/healthz", serve.admin)
        assert status == 200
        if _server_pid(conn, serve.port, [serve.parent, serve.child]) == pid:
            return conn
        conn.close()
    raise AssertionError(f"200 connections and none accepted by process {pid}")


@pytest.fixture
def serve(db_url: str, tmp_path: Path) -> Iterator[Serve]:
    kubeconfig = tmp_path / "kubeconfig"
    sim = Process(
        "sim",
        ["sim", "--port", "0", "--kubeconfig", str(kubeconfig), "--ready-delay", "0.2"],
        tmp_path,
    )
    env = {
        "STOREPLANE_DATABASE_URL": db_url,
        "STOREPLANE_DATA_DIR": str(tmp_path / "data"),
        "STOREPLANE_POLL_SECONDS": "0.3",
        "STOREPLANE_RATE_LIMIT_PER_SECOND": "0",
    }
    args = ["serve", "--host", "127.0.0.1", "--port", "0", "--kubeconfig", str(kubeconfig)]
    process = Process("serve", [*args, "--api-processes", "2", "-v"], tmp_path, env)
    try:
        sim.start(r"kubeconfig written")
        url = process.start(r"serving at (http://\S+)", timeout=60).group(1)
        admin = re.findall(r"bootstrap admin token: (sp_\S+)", process.out_path.read_text())
        assert len(admin) == 1, process.out_path.read_text()
        assert process.proc is not None
        parent = process.proc.pid
        children = _children(parent)
        assert len(children) == 1, children
        yield Serve(int(url.rsplit(":", 1)[1]), admin[0], parent, children[0], process)
    finally:
        process.stop()
        sim.stop()


@pytest.mark.slow
def test_the_parent_reconciles_what_the_child_wrote_and_revocations_reach_both(
    serve: Serve, db_url: str
) -> None:
    """One journey (one simulator and one serve per database, to keep the suite short)."""
    # A store created through the child: the parent is woken through the pipe and makes it Ready.
    to_child = _connection_to(serve, serve.child)
    status, store = _request(
        to_child, "POST", "/api/v1/stores", serve.admin, {"name": "via-child", "engine": "medusa"}
    )
    assert status == 202, store
    wait_until(
        lambda: _request(to_child, "GET", f"/api/v1/stores/{store['id']}", serve.admin)[1],
        lambda now: now["phase"] == "Ready",
        timeout=90,
        what="the store created through the child to be Ready",
        log=serve.process.err_path,
    )
    woken = [
        e
        for e in serve.process.json_logs()
        if e.get("message") == "woken by an API process" and e.get("store_id") == store["id"]
    ]
    assert woken, "the parent never logged the child's wake-up for the new store"

    # Tokens seen by both processes, each revoked through one and used at once on the other.
    engine = create_engine_for(db_url)
    try:
        users = SqlUserRepository(engine)
        member = auth.create_user(users, "cache-tester", Role.MEMBER)
        tokens = [auth.issue_token(users, member, f"token {n}") for n in range(2)]
    finally:
        engine.dispose()
    to_parent = _connection_to(serve, serve.parent)
    for _record, token in tokens:
        for conn in (to_parent, to_child):
            for _ in range(3):  # seen, and so cached where there is a cache, by both processes
                assert _request(conn, "GET", "/api/v1/stores", token)[0] == 200
    for (record, token), revoking, using in (
        (tokens[0], to_parent, to_child),
        (tokens[1], to_child, to_parent),
    ):
        status, body = _request(revoking, "DELETE", f"/api/v1/tokens/{record.id}", serve.admin)
        assert status == 200, body
        status, body = _request(using, "GET", "/api/v1/stores", token)
        assert status == 401, body

    # SIGTERM, what a supervisor sends, ends serve as Ctrl-C does: the reconciler stops, the
    # API child is stopped and reaped, exit 0 (uvicorn's re-raise of SIGTERM used to kill the
    # parent on the spot, before the reconciler stopped).
    proc = serve.process.proc
    assert proc is not None
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(30) == 0, serve.process.err_path.read_text()[-2000:]
    assert not Path(f"/proc/{serve.child}").exists(), "the API child outlived serve"
    messages = [str(e.get("message", "")) for e in serve.process.json_logs()]
    assert any("reconciler" in m and "stopped" in m for m in messages), messages[-20:]
