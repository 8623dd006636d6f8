"""The check runner against the real simulator over HTTP and a real database (SQLite and
PostgreSQL): it claims what the API recorded, reads the admin login from the store's Secret,
and finishes every check with an outcome that names the step; checks whose runner died end
``interrupted``; two runners never run one check twice.

A check that *passes* needs a real shop behind the store's URL: that one runs against a real
Medusa in tests/e2e/medusa/test_medusa_order.py.
"""

from __future__ import annotations

import asyncio
import base64
import socket
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import timedelta

import pytest

from storeplane.db import SqlCheckRepository, SqlStoreRepository
from storeplane.domain.checks import CheckStatus, SmokeCheck
from storeplane.domain.conditions import Reason
from storeplane.domain.store import Phase, Store, WorkloadRuntime
from storeplane.reconciler.checks import CheckRunner
from tests.reconciler.conftest import Harness

LEASE = timedelta(seconds=3)


def _closed_port() -> int:
    """A loopback port nothing listens on (bound, then closed)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _saved(repo: SqlStoreRepository, harness: Harness, **status: object) -> Store:
    """A store recorded in the database with the given status, as the reconciler saves it."""
    store = harness.new_store()
    repo.create(store, [])
    (claimed,) = repo.claim_ids([store.id], owner="r", now=harness.ctx.clock(), lease=LEASE)
    changed = replace(claimed, **status)  # type: ignore[arg-type]
    assert repo.save_status(changed, owner="r")
    repo.release(store.id, owner="r")
    return repo.get(store.id)


def _secret(harness: Harness, store: Store, **values: str) -> None:
    harness.kube.post(
        "/api/v1/namespaces",
        json={"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": store.namespace}},
    )
    harness.kube.post(
        f"/api/v1/namespaces/{store.namespace}/secrets",
        json={
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "store-credentials"},
            "data": {k: base64.b64encode(v.encode()).decode() for k, v in values.items()},
        },
    ).raise_for_status()


async def _until(
    what: str, probe: Callable[[], Awaitable[bool]] | Callable[[], bool], timeout: float = 20
) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        result = probe()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        assert loop.time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)


async def _run_until_finished(
    runner: CheckRunner, checks: SqlCheckRepository, check: SmokeCheck
) -> SmokeCheck:
    stop = asyncio.Event()
    task = asyncio.create_task(runner.run(stop))
    runner.wake()
    try:
        await _until(
            f"check {check.id} to finish",
            lambda: checks.get(check.store_id, check.id).status is not CheckStatus.RUNNING,
        )
    finally:
        stop.set()
        await task
    return checks.get(check.store_id, check.id)


def _runner(
    checks: SqlCheckRepository, repo: SqlStoreRepository, harness: Harness, owner: str
) -> CheckRunner:
    return CheckRunner(checks, repo, harness.ctx, owner=owner, lease=LEASE, tick=0.1, timeout=20)


@pytest.fixture
def checks(repo: SqlStoreRepository) -> SqlCheckRepository:
    return SqlCheckRepository(repo.engine)


def _request(checks: SqlCheckRepository, store: Store) -> SmokeCheck:
    check, created = checks.create(
        SmokeCheck.request(store.id, requested_by="alice", now=store.created_at), []
    )
    assert created
    return check


@pytest.mark.parametrize(
    ("status", "secret", "step", "words"),
    [
        (
            {"phase": Phase.READY, "workload_runtime": WorkloadRuntime.SIMULATED},
            None,
            "check the store",
            "workloads are simulated",
        ),
        (
            {"phase": Phase.READY, "workload_runtime": WorkloadRuntime.LOCAL},
            None,
            "read admin login",
            "store-credentials does not exist",
        ),
        (
            {"phase": Phase.READY, "workload_runtime": WorkloadRuntime.LOCAL},
            {"db-password": "x"},
            "read admin login",
            "has no 'admin-password' key",
        ),
        (
            {"phase": Phase.READY, "workload_runtime": WorkloadRuntime.LOCAL},
            {"admin-password": "secret"},
            "admin login",
            "cannot reach the store at http://",
        ),
    ],
    ids=[
        "a store that became simulated since the request fails before anything is sent",
        "a store without its credentials Secret names the Secret",
        "a Secret without the admin password names the key",
        "a store whose URL answers nothing fails at the first request, naming the URL",
    ],
)
async def test_a_check_that_cannot_pass_fails_naming_the_step_and_the_cause(
    harness: Harness,
    repo: SqlStoreRepository,
    checks: SqlCheckRepository,
    status: dict[str, object],
    secret: dict[str, str] | None,
    step: str,
    words: str,
) -> None:
    # A closed loopback port, under a *.localhost name: nothing answers there for real.
    store = _saved(repo, harness, **status)
    store = _saved_url(repo, store, f"http://{store.id}.localhost:{_closed_port()}")
    if secret is not None:
        _secret(harness, store, **secret)
    check = _request(checks, store)
    done = await _run_until_finished(_runner(checks, repo, harness, "replica-a"), checks, check)
    assert done.status is CheckStatus.FAILED, done
    assert done.step == step and words in done.message, done
    assert done.finished_at is not None and done.order_id is None
    failed = [e for e in repo.events(store.id) if e.reason == Reason.SMOKE_TEST_FAILED]
    assert len(failed) == 1 and failed[0].type == "Warning"
    assert check.id in failed[0].message and step in failed[0].message


def _saved_url(repo: SqlStoreRepository, store: Store, url: str) -> Store:
    from sqlalchemy import update

    from storeplane.db.tables import StoreRow, stores

    with repo.engine.begin() as connection:
        connection.execute(update(stores).where(StoreRow.id == store.id).values(url=url))
    return repo.get(store.id)


async def test_a_check_whose_runner_died_is_failed_as_interrupted_and_not_rerun(
    harness: Harness, repo: SqlStoreRepository, checks: SqlCheckRepository
) -> None:
    store = _saved(repo, harness, phase=Phase.READY, workload_runtime=WorkloadRuntime.LOCAL)
    check = _request(checks, store)
    # A replica claimed it, saved a step, then died: its lease runs out.
    (claimed,) = checks.claim(owner="dead-replica", until=harness.ctx.clock() + LEASE, limit=1)
    assert checks.save_progress(claimed.at_step("complete cart"), runner="dead-replica")
    runner = _runner(checks, repo, harness, "replica-b")
    stop = asyncio.Event()
    task = asyncio.create_task(runner.run(stop))
    await asyncio.sleep(0.5)
    assert checks.get(store.id, check.id).status is CheckStatus.RUNNING  # lease still valid
    await _until("the lease to expire", lambda: checks.get(store.id, check.id).finished)
    stop.set()
    await task
    done = checks.get(store.id, check.id)
    assert (done.status, done.step) == (CheckStatus.FAILED, "interrupted")
    assert "dead-replica" in done.message and "complete cart" in done.message
    assert runner.finished == 0  # it was not run again
    assert [e.reason for e in repo.events(store.id)][-1] == Reason.SMOKE_TEST_FAILED


async def test_a_restarted_process_fails_the_checks_it_held_before_it_stopped(
    harness: Harness, repo: SqlStoreRepository, checks: SqlCheckRepository
) -> None:
    store = _saved(repo, harness, phase=Phase.READY, workload_runtime=WorkloadRuntime.LOCAL)
    check = _request(checks, store)
    # storeplane dev reuses its owner id: the lease is still valid, but nobody runs the check.
    checks.claim(owner="dev", until=harness.ctx.clock() + timedelta(hours=1), limit=1)
    runner = _runner(checks, repo, harness, "dev")
    stop = asyncio.Event()
    task = asyncio.create_task(runner.run(stop))
    await _until("the check to be failed", lambda: checks.get(store.id, check.id).finished)
    stop.set()
    await task
    done = checks.get(store.id, check.id)
    assert (done.status, done.step) == (CheckStatus.FAILED, "interrupted")


async def test_two_runners_run_a_check_once(
    harness: Harness, repo: SqlStoreRepository, checks: SqlCheckRepository
) -> None:
    store = _saved(repo, harness, phase=Phase.READY, workload_runtime=WorkloadRuntime.LOCAL)
    store = _saved_url(repo, store, f"http://127.0.0.1:{_closed_port()}")
    _secret(harness, store, **{"admin-password": "secret"})
    check = _request(checks, store)
    runners = [_runner(checks, repo, harness, f"replica-{i}") for i in range(2)]
    stop = asyncio.Event()
    tasks = [asyncio.create_task(r.run(stop)) for r in runners]
    for r in runners:
        r.wake()
    await _until("the check to finish", lambda: checks.get(store.id, check.id).finished)
    await asyncio.sleep(0.3)
    stop.set()
    await asyncio.gather(*tasks)
    assert sorted(r.finished for r in runners) == [0, 1]
    outcomes = [e for e in repo.events(store.id) if e.reason == Reason.SMOKE_TEST_FAILED]
    assert len(outcomes) == 1
