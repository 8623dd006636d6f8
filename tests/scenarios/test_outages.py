"""Outages, end to end, with real processes on PostgreSQL (issue 19's "done when").

One module-wide PostgreSQL of its own (it gets stopped: ``pg_ctl stop -m immediate``) and one
``storeplane sim`` with a state file (it gets SIGKILLed and restarted on the same port); each
test runs its own ``storeplane serve``. Checked:

- PostgreSQL stopped at several moments while 10 stores provision: every object storeplane
  created in the cluster (field manager ``storeplane``, creation time) has its step event in
  the store's timeline exactly once, in order; during the outage every kind of API route
  answers 503 + ``Retry-After`` + a problem naming the database on one keep-alive connection,
  which then gets 200 again; the log of the outage is a handful of lines, no traceback, no
  "crashed".
- The same timeline check with storeplane SIGKILLing itself after a step's cluster writes and
  before it records them (the fault hook in ``reconciler/steps.py``), again and again.
- The simulator SIGKILLed: a Ready store's conditions turn Unknown with the cause, /readyz and
  the metric say the cluster is unreachable, and both recover once it is back.
"""

from __future__ import annotations

import http.client
import itertools
import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from storeplane.reconciler.steps import KILL_AFTER_WRITE_ENV, SETTLED_NOTE
from tests.scenarios.dev_process import REPO, wait_until
from tests.scenarios.processes import Process

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

KUBECTL = str(REPO / ".tools" / "bin" / "kubectl")
STORES = 10
LABELLED = ("-l", "storeplane.dev/store-id")
PROBLEM = "application/problem+json"
STEP_REASONS = {"NamespaceCreated", "PoliciesApplied", "WorkloadsApplied", "DriftCorrected"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Postgres:
    """A PostgreSQL of this module's own, through scripts/postgres-test.sh."""

    port: int
    data_dir: Path

    def _run(self, command: str) -> str:
        env = {
            **os.environ,
            "STOREPLANE_PG_TEST_PORT": str(self.port),
            "STOREPLANE_PG_TEST_DIR": str(self.data_dir),
            # A commit PostgreSQL acknowledged must survive its crash, as in production
            # (the suite's own server trades that for speed).
            "STOREPLANE_PG_TEST_DURABLE": "1",
        }
        done = subprocess.run(
            [str(REPO / "scripts" / "postgres-test.sh"), command],
            env=env,
            capture_output=True,
            text=True,
            timeout=90,
            check=True,
        )
        return done.stdout.strip()

    def start(self) -> str:
        return self._run("start")

    def crash(self) -> None:
        self._run("crash")


@dataclass
class World:
    tmp: Path
    db_url: str
    postgres: Postgres
    sim: Process
    sim_port: int
    kubeconfig: Path
    token: str = ""
    shared: tuple[Process, str] | None = None  # the database test's serve, reused after it
    ready_ids: list[str] = field(default_factory=list)

    def serve(self, name: str, **env: str) -> tuple[Process, str]:
        process = Process(
            name,
            ["serve", "--host", "127.0.0.1", "--port", "0", "--kubeconfig", str(self.kubeconfig)],
            self.tmp,
            {
                "STOREPLANE_DATABASE_URL": self.db_url,
                "STOREPLANE_LEASE_SECONDS": "4",
                "STOREPLANE_POLL_SECONDS": "0.3",
                "STOREPLANE_BACKOFF_CAP_SECONDS": "3",
                "STOREPLANE_WORKERS": "4",
                "STOREPLANE_OUTAGE_LOG_EVERY_SECONDS": str(OUTAGE_LOG_EVERY),
                "STOREPLANE_RATE_LIMIT_PER_SECOND": "0",  # the test polls often
                "STOREPLANE_DATA_DIR": str(self.tmp / "data"),
                **env,
            },
        )
        url = process.start(r"serving at (http://\S+)", timeout=60).group(1)
        found = re.findall(r"bootstrap admin token: (sp_\S+)", process.out_path.read_text())
        if found:
            self.token = found[0]
        return process, url

    def start_sim(self) -> None:
        self.sim.start(r"kubeconfig written", timeout=30)

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


# The long outage's length. The suite's ~10 s crosses every outage state (down, still down,
# back) at a 4 s log interval; STOREPLANE_TEST_DB_OUTAGE_SECONDS=90 runs the 90 s outage of the
# issue at the default 30 s interval, with the same assertions on the log.
OUTAGE_SECONDS = float(os.environ.get("STOREPLANE_TEST_DB_OUTAGE_SECONDS", "10"))
OUTAGE_LOG_EVERY = 4 if OUTAGE_SECONDS <= 30 else 30


# Below the kernel's ephemeral range (32768-60999 by default), so that no client connection's
# local port can take it: also not in the seconds the server is down between a crash and its
# restart on the same port (a CI run once found base + 10 = 55442 taken that way).
OUTAGE_PG_PORT = 31442


def _listener_free_port(first: int) -> int:
    """The first port from ``first`` up that nothing listens on (postgres-test.sh free-port)."""
    done = subprocess.run(
        [str(REPO / "scripts" / "postgres-test.sh"), "free-port"],
        env={**os.environ, "STOREPLANE_PG_TEST_PORT": str(first)},
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return int(done.stdout.strip())


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    if not os.environ.get("STOREPLANE_TEST_POSTGRES_URL"):
        pytest.skip("needs PostgreSQL binaries (scripts/test.sh sets STOREPLANE_TEST_POSTGRES_URL)")
    tmp = tmp_path_factory.mktemp("outages")
    # Its own server, for it is stopped on purpose: next to the suite's, never on it.
    # Its data directory sits outside pytest's (mode 0700) tree: as root the server runs as
    # the postgres user, who must be able to reach it.
    pg_parent = Path(tempfile.mkdtemp(prefix="storeplane-outages-pg-"))
    pg_parent.chmod(0o755)
    port = int(os.environ.get("STOREPLANE_OUTAGE_PG_PORT") or _listener_free_port(OUTAGE_PG_PORT))
    postgres = Postgres(port, pg_parent / "data")
    db_url = postgres.start()
    sim_port = _free_port()
    kubeconfig = tmp / "kubeconfig"
    sim = Process(
        "sim",
        [
            "sim",
            "--port",
            str(sim_port),
            "--kubeconfig",
            str(kubeconfig),
            "--state",
            str(tmp / "sim.db"),
            "--ready-delay",
            "1",
        ],
        tmp,
    )
    world = World(tmp, db_url, postgres, sim, sim_port, kubeconfig)
    world.start_sim()
    try:
        yield world
    finally:
        if world.shared is not None:
            world.shared[0].stop()
        sim.stop()
        subprocess.run(
            [str(REPO / "scripts" / "postgres-test.sh"), "stop"],
            env={
                **os.environ,
                "STOREPLANE_PG_TEST_PORT": str(postgres.port),
                "STOREPLANE_PG_TEST_DIR": str(postgres.data_dir),
            },
            check=False,
            timeout=60,
        )
        shutil.rmtree(pg_parent, ignore_errors=True)


# -- helpers ---------------------------------------------------------------------------------


def _create_store(world: World, url: str, name: str) -> str:
    response = httpx.post(
        f"{url}/api/v1/stores",
        json={"name": name, "engine": "medusa"},
        headers={**world.auth, "Idempotency-Key": name},  # a retried create makes no second
        timeout=10,
    )
    assert response.status_code in (200, 201, 202), response.text
    return str(response.json()["id"])


def _create_stores(world: World, url: str, prefix: str) -> list[str]:
    return [_create_store(world, url, f"{prefix}-{n:02d}") for n in range(STORES)]


def _phases(world: World, url: str, ids: list[str]) -> dict[str, str]:
    phases = {}
    for store_id in ids:
        try:
            response = httpx.get(f"{url}/api/v1/stores/{store_id}", headers=world.auth, timeout=5)
        except httpx.HTTPError:
            return {}
        phases[store_id] = response.json().get("phase", "?") if response.is_success else "?"
    return phases


def _all_ready(world: World, url: str, ids: list[str], timeout: float, log: Path) -> None:
    wait_until(
        lambda: _phases(world, url, ids),
        lambda p: len(p) == len(ids) and set(p.values()) == {"Ready"},
        timeout,
        "every store Ready",
        log,
    )


def _created_by_storeplane(world: World) -> dict[str, list[dict[str, Any]]]:
    """Per store, every object storeplane wrote, read with kubectl (field manager, creation
    time). Pods, ReplicaSets, claims of StatefulSets... are the controllers', not ours."""
    env = {**os.environ, "KUBECONFIG": str(world.kubeconfig)}
    kinds = subprocess.run(
        [KUBECTL, "api-resources", "--verbs=list", "--namespaced", "-o", "name"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    ).stdout.split()
    kinds = [k for k in kinds if k.split(".")[0] not in ("events",)]
    listed = subprocess.run(
        [
            KUBECTL,
            "get",
            ",".join([*kinds, "namespaces"]),
            "-A",
            "-o",
            "json",
            "--show-managed-fields",
            *LABELLED,
        ],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    found: dict[str, list[dict[str, Any]]] = {}
    for item in json.loads(listed.stdout)["items"]:
        meta = item["metadata"]
        managers = {m.get("manager") for m in meta.get("managedFields") or []}
        if "storeplane" in managers and not meta.get("ownerReferences"):
            found.setdefault(meta["labels"]["storeplane.dev/store-id"], []).append(item)
    return found


def _named(event: dict[str, Any]) -> set[str]:
    """The objects a step event names (``Kind name``), or the namespace of NamespaceCreated."""
    message = event["message"].removesuffix(SETTLED_NOTE)
    if event["reason"] == "NamespaceCreated":
        return {f"Namespace {message.split()[1]}"}
    listed = re.sub(r"^.*?(applied|restored) ", "", message, count=1)
    return {part.strip() for part in listed.split(", ")}


def _check_timelines(world: World, url: str, ids: list[str]) -> int:
    """Every object storeplane made has exactly one step event naming it, and objects made
    in different seconds have their events in that order. Returns how many step events were
    recorded by a later pass (settled), as evidence the test hit the window it is about."""
    objects = _created_by_storeplane(world)
    settled = 0
    for store_id in ids:
        events = httpx.get(
            f"{url}/api/v1/stores/{store_id}/events", headers=world.auth, timeout=10
        ).json()["items"]
        steps = [(i, e) for i, e in enumerate(events) if e["reason"] in STEP_REASONS]
        settled += sum(e["message"].endswith(SETTLED_NOTE) for _, e in steps)
        made = objects.get(store_id, [])
        assert len(made) > 5, f"{store_id}: storeplane made only {len(made)} objects?"
        position = {}
        for item in made:
            name = f"{item['kind']} {item['metadata']['name']}"
            covering = [i for i, e in steps if name in _named(e)]
            assert len(covering) == 1, (
                f"{store_id}: {name} is named by {len(covering)} step events, not 1:\n"
                + "\n".join(f"{e['reason']}: {e['message']}" for _, e in steps)
            )
            position[name] = (item["metadata"]["creationTimestamp"], covering[0])
        ordered = sorted(position.values())
        for (made_a, event_a), (made_b, event_b) in itertools.pairwise(ordered):
            assert made_a == made_b or event_a <= event_b, f"{store_id}: steps out of order"
    return settled


def _request(
    conn: http.client.HTTPConnection, method: str, path: str, token: str, body: Any = None
) -> tuple[http.client.HTTPResponse, bytes]:
    headers = {"Authorization": f"Bearer {token}"}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    conn.request(method, path, body=data, headers=headers)
    response = conn.getresponse()
    return response, response.read()


def _outage_lines(process: Process, dependency: str) -> list[str]:
    return [
        e["message"]
        for e in process.json_logs()
        if e.get("logger") == "storeplane.outages" and e["message"].startswith(dependency)
    ]


# -- the database ------------------------------------------------------------------------------


def test_database_outages_lose_no_step_and_answer_503_on_a_connection_that_stays_usable(
    world: World,
) -> None:
    # Resync every 2 s: the cluster test below reuses this process and its Ready stores.
    serve, url = world.serve("serve-db", STOREPLANE_RESYNC_SECONDS="2")
    world.shared = (serve, url)
    try:
        ids = _create_stores(world, url, "db")

        # 1: at once, while the first passes start.
        world.postgres.crash()
        time.sleep(2)
        world.postgres.start()
        time.sleep(1.5)
        # 2: mid-provisioning, for OUTAGE_SECONDS (long enough to log "still unavailable"), seen
        # by a keep-alive connection that got a 200 just before (uvicorn closes connections
        # idle for 5 s, so it never idles that long).
        host, port = url.removeprefix("http://").split(":")
        conn = http.client.HTTPConnection(host, int(port), timeout=15)
        response, _ = _request(conn, "GET", "/api/v1/stores", world.token)
        assert response.status == 200
        sock = conn.sock
        world.postgres.crash()
        down_at = time.monotonic()
        some = ids[0]
        routes: list[tuple[str, str, Any]] = [
            ("GET", "/api/v1/stores", None),
            ("POST", "/api/v1/stores", {"name": "during-outage", "engine": "medusa"}),
            ("GET", f"/api/v1/stores/{some}", None),
            ("PATCH", f"/api/v1/stores/{some}", {"plan": "medium"}),
            ("POST", f"/api/v1/stores/{some}/retry", None),
            ("GET", f"/api/v1/stores/{some}/events", None),
            ("DELETE", f"/api/v1/stores/{some}", None),
            ("GET", "/api/v1/fleet", None),
            ("GET", "/api/v1/plans", None),
            ("GET", "/readyz", None),
        ]
        for method, path, body in routes:
            response, raw = _request(conn, method, path, world.token, body)
            assert response.status == 503, (method, path, raw)
            assert response.getheader("Retry-After") == "5"
            assert response.getheader("Content-Type") == PROBLEM
            assert response.getheader("Connection") != "close"
            problem = json.loads(raw)
            assert problem["status"] == 503 and problem["title"] == "Service Unavailable"
            assert problem["detail"].startswith("the database is unavailable"), problem
            assert conn.sock is sock, f"{method} {path}: the connection was dropped"
        while time.monotonic() - down_at < OUTAGE_SECONDS:
            time.sleep(1)
            assert _request(conn, "GET", "/api/v1/stores", world.token)[0].status == 503
        world.postgres.start()
        wait_until(
            lambda: _request(conn, "GET", "/api/v1/stores", world.token)[0].status,
            lambda status: status == 200,
            30,
            "200 on the same connection after the database came back",
        )
        assert conn.sock is sock, "the connection was dropped during the outage"
        conn.close()
        # 3: a short one more, a little later.
        time.sleep(1.5)
        world.postgres.crash()
        time.sleep(2)
        world.postgres.start()

        _all_ready(world, url, ids, 120, serve.err_path)
        settled = _check_timelines(world, url, ids)
        world.ready_ids = ids
        print(f"database outages: {settled} step events settled by a later pass")
    except BaseException:
        serve.stop()
        raise

    lines = _outage_lines(serve, "database")
    assert sum(m.startswith("database unavailable") for m in lines) == 3, lines
    assert sum(m.startswith("database available again") for m in lines) == 3, lines
    assert sum(m.startswith("database still unavailable") for m in lines) >= 1, lines
    assert len(lines) <= 12, lines
    log = serve.err_path.read_text()
    assert "Traceback" not in log and '"exception"' not in log, log[-3000:]
    assert "crashed" not in log


# -- the cluster ------------------------------------------------------------------------------


def _ready_condition(world: World, url: str, store_id: str) -> dict[str, Any]:
    store = httpx.get(f"{url}/api/v1/stores/{store_id}", headers=world.auth, timeout=5).json()
    return next(c for c in store["conditions"] if c["type"] == "Ready")


def _cluster_component(url: str) -> str:
    ready = httpx.get(f"{url}/readyz", timeout=5).json()
    return str(ready.get("components", {}).get("cluster", {}).get("status"))


def _cluster_metric(url: str) -> str:
    text = httpx.get(f"{url}/metrics", timeout=5).text
    found = re.search(r'storeplane_dependency_up\{dependency="cluster"\} (\S+)', text)
    return found.group(1) if found else "absent"


def test_a_cluster_outage_turns_ready_stores_unknown_and_both_recover(world: World) -> None:
    # The database test's process and stores (resync every 2 s: each Ready store is observed,
    # and its health checked, that often).
    if world.shared is None or not world.ready_ids:
        pytest.skip("needs the Ready stores of the database outage test")
    serve, url = world.shared
    store_id = world.ready_ids[0]
    try:
        wait_until(lambda: _cluster_component(url), lambda s: s == "ok", 15, "cluster ok")

        world.sim.kill()
        unknown = wait_until(
            lambda: _ready_condition(world, url, store_id),
            lambda c: c["status"] == "Unknown",
            20,
            "Ready Unknown while the cluster is down",
            serve.err_path,
        )
        assert unknown["reason"] == "ClusterUnreachable"
        assert "last successful observation at" in unknown["message"]
        wait_until(lambda: _cluster_component(url), lambda s: s == "unavailable", 20, "down")
        assert _cluster_metric(url) == "0.0"

        world.start_sim()  # the same port and state file
        wait_until(
            lambda: _ready_condition(world, url, store_id)["status"],
            lambda s: s == "True",
            40,
            "Ready True again after the cluster came back",
            serve.err_path,
        )
        wait_until(lambda: _cluster_component(url), lambda s: s == "ok", 20, "cluster ok again")
        assert _cluster_metric(url) == "1.0"
    finally:
        serve.stop()
    lines = _outage_lines(serve, "cluster")
    assert any(m.startswith("cluster unavailable") for m in lines), lines
    assert any(m.startswith("cluster available again") for m in lines), lines
    assert len(lines) <= 12, lines


# -- storeplane killed between a cluster write and its database write -------------------------


def test_storeplane_killed_after_a_write_and_before_recording_it_loses_no_step(
    world: World,
) -> None:
    # The fault is on from the start: the process may die while the stores are still being
    # created (the API only writes the database then), and again and again as they provision.
    ids: list[str] = []
    kills = 0
    for attempt in range(8):
        process, url = world.serve(f"serve-kill-{attempt}", **{KILL_AFTER_WRITE_ENV: "0.5"})
        assert process.proc is not None
        try:
            while len(ids) < STORES:
                ids.append(_create_store(world, url, f"kill-{len(ids):02d}"))
        except httpx.HTTPError:
            pass  # it died mid-request; the next process takes over
        try:
            process.proc.wait(10)  # it kills itself at the worst moment sooner or later
            kills += 1
            if kills >= 3 and len(ids) == STORES:
                break
        except subprocess.TimeoutExpired:
            process.stop()  # nothing left to write: provisioning is past its steps
            if len(ids) == STORES:
                break
    assert len(ids) == STORES
    assert kills >= 3, f"the fault hook fired only {kills} times"
    process, url = world.serve("serve-kill-final")
    try:
        _all_ready(world, url, ids, 120, process.err_path)
        settled = _check_timelines(world, url, ids)
    finally:
        process.stop()
    # Each kill left a written, unrecorded step, which a later pass recorded.
    assert settled >= 1, "no step was settled after a kill: the test missed its window"
    print(f"SIGKILL: {kills} kills, {settled} step events settled by a later pass")
