"""Steps (reconciler/steps.py) on a real database and the simulator: every cluster write becomes
exactly one event, whether the pass that made it finished, died after the write, died before
it, or found the database gone before it could write."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta

import pytest

from storeplane.db import SqlStoreRepository, create_engine_for
from storeplane.db.steps import SqlStepJournal
from storeplane.domain.conditions import Reason
from storeplane.domain.errors import DatabaseUnavailableError, LeaseLostError
from storeplane.domain.store import Phase, Store
from storeplane.reconciler import steps as steps_module
from storeplane.reconciler.reconcile import reconcile_store
from storeplane.reconciler.steps import SETTLED_NOTE
from tests.reconciler.conftest import Harness

OWNER = "test-owner"
STEP_REASONS = (Reason.NAMESPACE_CREATED, Reason.POLICIES_APPLIED, Reason.WORKLOADS_APPLIED)


@pytest.fixture
def journal(repo: SqlStoreRepository) -> SqlStepJournal:
    return SqlStepJournal(repo.engine, owner=OWNER)


def _claimed(repo: SqlStoreRepository, store: Store) -> Store:
    repo.create(store, [])
    claimed = repo.claim_ids([store.id], owner=OWNER, now=store.created_at, lease=timedelta(1))
    assert [s.id for s in claimed] == [store.id]
    return claimed[0]


async def _run(harness: Harness, journal: SqlStepJournal, store: Store) -> Store:
    """One pass as the loop runs it: events without ids saved after, status saved."""
    repo = SqlStoreRepository(journal.engine)
    result = await reconcile_store(store, replace(harness.ctx, journal=journal))
    repo.append_events([e for e in result.events if e.id is None])
    assert repo.save_status(result.store, owner=OWNER)
    return repo.get(store.id)


def _step_counts(repo: SqlStoreRepository, store: Store) -> Counter[str]:
    return Counter(e.reason for e in repo.events(store.id) if e.reason in STEP_REASONS)


async def test_a_pass_that_finishes_records_each_step_once_and_leaves_no_intent(
    harness: Harness, repo: SqlStoreRepository, journal: SqlStepJournal
) -> None:
    store = _claimed(repo, harness.new_store())
    for _ in range(20):
        store = await _run(harness, journal, store)
        if store.phase == Phase.READY:
            break
    assert store.phase == Phase.READY
    assert _step_counts(repo, store) == Counter(STEP_REASONS)
    reasons = [e.reason for e in repo.events(store.id)]
    # In order: the phase change of the first pass before its first step.
    assert reasons.index(Reason.PHASE_CHANGED) < reasons.index(Reason.NAMESPACE_CREATED)
    assert journal.pending(store.id) == []
    assert repo.get(store.id).phase == Phase.READY


class _Killed(BaseException):
    """Stands for SIGKILL: nothing after it runs (not even the step's completion)."""


@pytest.mark.parametrize(
    "kill_before_write",
    [
        pytest.param(False, id="killed after the namespace was written: the next pass records it"),
        pytest.param(
            True, id="killed before the write: the intent is dropped, the step redone once"
        ),
    ],
)
async def test_a_pass_killed_around_a_write_still_records_the_step_exactly_once(
    harness: Harness,
    repo: SqlStoreRepository,
    journal: SqlStepJournal,
    monkeypatch: pytest.MonkeyPatch,
    kill_before_write: bool,
) -> None:
    store = _claimed(repo, harness.new_store())
    real_apply = steps_module.Step.apply

    async def dying_apply(self: steps_module.Step, manifest: dict) -> dict:  # type: ignore[type-arg]
        if not kill_before_write:
            await real_apply(self, manifest)
        raise _Killed

    monkeypatch.setattr(steps_module.Step, "apply", dying_apply)
    with pytest.raises(_Killed):
        await reconcile_store(store, replace(harness.ctx, journal=journal))
    monkeypatch.setattr(steps_module.Step, "apply", real_apply)
    [intent] = journal.pending(store.id)
    assert intent.reason == Reason.NAMESPACE_CREATED
    # The phase reached before the write survived the kill: it is not announced twice.
    assert repo.get(store.id).phase == Phase.PROVISIONING

    store = repo.get(store.id)
    for _ in range(20):
        store = await _run(harness, journal, store)
        if store.phase == Phase.READY:
            break
    assert store.phase == Phase.READY
    assert _step_counts(repo, store) == Counter(STEP_REASONS)
    [created] = [e for e in repo.events(store.id) if e.reason == Reason.NAMESPACE_CREATED]
    assert created.message.endswith(SETTLED_NOTE) is (not kill_before_write)
    phase_changes = [e.message for e in repo.events(store.id) if e.reason == Reason.PHASE_CHANGED]
    assert sum("Pending → Provisioning" in m for m in phase_changes) == 1
    assert journal.pending(store.id) == []


@pytest.fixture
def unreachable_journal() -> Iterator[SqlStepJournal]:
    # A real driver against a port nobody listens on: connection refused, as in an outage.
    engine = create_engine_for("postgresql+psycopg://storeplane@127.0.0.1:9/none")
    yield SqlStepJournal(engine, owner=OWNER)
    engine.dispose()


async def test_a_pass_that_cannot_record_never_writes_to_the_cluster(
    harness: Harness, unreachable_journal: SqlStepJournal
) -> None:
    store = harness.new_store()
    with pytest.raises(DatabaseUnavailableError, match="database is unavailable"):
        await reconcile_store(store, replace(harness.ctx, journal=unreachable_journal))
    assert harness.kube.get(f"/api/v1/namespaces/{store.namespace}").status_code == 404


async def test_a_pass_that_lost_its_lease_stops_before_writing(
    harness: Harness, repo: SqlStoreRepository, journal: SqlStepJournal
) -> None:
    store = _claimed(repo, harness.new_store())
    repo.release(store.id, owner=OWNER)
    result = await reconcile_store(store, replace(harness.ctx, journal=journal))
    assert result.store.last_error == LeaseLostError(store.id).message
    assert harness.kube.get(f"/api/v1/namespaces/{store.namespace}").status_code == 404
    assert journal.pending(store.id) == []
