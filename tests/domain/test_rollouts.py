"""The rollout's pure logic: waves from counts and percentages, and ``step`` deciding the next
move from what the stores look like."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from storeplane.domain.errors import InvalidRequestError, InvalidTransitionError
from storeplane.domain.plans import PlanName
from storeplane.domain.rollouts import (
    Action,
    ActionKind,
    Candidate,
    CheckView,
    Gate,
    MemberStatus,
    Observed,
    Rollout,
    RolloutPhase,
    Selector,
    WaveSpec,
    plan_waves,
    step,
    wave_targets,
)
from storeplane.domain.store import Phase

NOW = datetime(2026, 12, 1, 10, tzinfo=UTC)
A, B = "2.20.1", "2.21.2"


@pytest.mark.parametrize(
    ("waves", "total", "targets"),
    [
        ([1, 2, "100%"], 5, [1, 2, 5]),
        ([1, "10%", "50%", "100%"], 20, [1, 2, 10, 20]),
        ([1, "10%", "50%", "100%"], 5, [1, 1, 3, 5]),
        (["100%"], 3, [3]),
        ([10], 3, [3]),
        (["1%", "100%"], 1, [1, 1]),
    ],
    ids=[
        "counts then all",
        "percentages of twenty round to whole stores",
        "ten percent of five rounds up to the canary again",
        "one wave of everything",
        "a count above the fleet means all of it",
        "a single store",
    ],
)
def test_waves_are_cumulative_targets(
    waves: list[WaveSpec], total: int, targets: list[int]
) -> None:
    assert wave_targets(waves, total) == targets


@pytest.mark.parametrize(
    ("waves", "field", "message"),
    [
        ([], "waves", "at least one wave"),
        ([0, "100%"], "waves[0]", "must be at least 1 (got 0)"),
        (["150%"], "waves[0]", 'from "1%" to "100%"'),
        (["half"], "waves[0]", "(got 'half')"),
        ([True], "waves[0]", "a number of stores"),
        ([3, 1, "100%"], "waves[1]", "smaller than the wave before it (3 stores)"),
        ([1, 2], "waves", 'the last wave reaches 2 of the 5 selected stores; end with "100%"'),
        ([1] * 21, "waves", "at most 20 entries"),
    ],
    ids=[
        "no waves",
        "a wave of zero",
        "more than a hundred percent",
        "a word",
        "a boolean",
        "a wave that shrinks",
        "waves that leave stores out",
        "too many waves",
    ],
)
def test_bad_waves_name_the_entry(waves: list[WaveSpec], field: str, message: str) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        wave_targets(waves, 5)
    assert message in caught.value.message
    assert caught.value.field == field


def make(waves: list[WaveSpec], versions: dict[str, str], **changes: object) -> Rollout:
    members = plan_waves(
        [Candidate(f"store-{n}", n, v) for n, v in versions.items()], waves, B, now=NOW
    )
    rollout = Rollout(
        id="rollout-abcd1234",
        engine="medusa",
        to_version=B,
        selector=Selector(),
        waves=tuple(waves),
        max_failures=0,
        gate=Gate.READY,
        phase=RolloutPhase.RUNNING,
        current_wave=0,
        message="created",
        created_by="admin",
        created_at=NOW,
        updated_at=NOW,
        members=members,
    )
    return replace(rollout, **changes)  # type: ignore[arg-type]


def seen(
    name: str,
    version: str,
    *,
    running: str | None = A,
    phase: Phase = Phase.READY,
    converged: bool = True,
    **more: object,
) -> Observed:
    return Observed(
        store_id=f"store-{name}",
        live=True,
        phase=phase,
        engine_version=version,
        running_engine_version=running,
        generation=2,
        observed_generation=2 if converged else 1,
        **more,  # type: ignore[arg-type]
    )


FIVE = dict.fromkeys(["e", "d", "c", "b", "a"], A)


def fleet(**overrides: Observed) -> dict[str, Observed]:
    """All five stores as observed: at A unless overridden (by name)."""
    return {f"store-{n}": overrides.get(n, seen(n, A)) for n in FIVE}


def test_plan_puts_stores_to_upgrade_first_by_name_and_done_ones_last() -> None:
    rollout = make([1, 2, "100%"], {**FIVE, "c": B})
    placed = [(m.store_name, m.wave, m.status) for m in rollout.members]
    assert placed == [
        ("a", 0, MemberStatus.PENDING),
        ("b", 1, MemberStatus.PENDING),
        ("d", 2, MemberStatus.PENDING),
        ("e", 2, MemberStatus.PENDING),
        ("c", 2, MemberStatus.DONE),
    ]
    assert rollout.members[-1].cause == f"already at {B}"


def test_the_first_step_upgrades_only_the_first_wave() -> None:
    rollout = make([1, 2, "100%"], FIVE)
    result = step(rollout, {f"store-{n}": seen(n, A) for n in FIVE}, now=NOW)
    assert result.actions == (Action(ActionKind.UPGRADE, "store-a"),)
    assert [n.reason for n in result.notes] == ["RolloutWaveStarted"]
    assert "wave 1 of 3: upgrading a from medusa 2.20.1 to 2.21.2" in result.notes[0].message
    assert result.rollout.members[0].status == MemberStatus.UPGRADING
    assert result.rollout.message == "wave 1 of 3 under way"


def test_a_wave_waits_until_its_stores_are_ready_at_the_new_version() -> None:
    rollout = step(make([1, 2, "100%"], FIVE), fleet(), now=NOW).rollout
    # Ready, but not yet at the new version (the upgrade not yet converged): wait.
    still = step(rollout, fleet(a=seen("a", B, running=A)), now=NOW)
    assert (still.actions, still.rollout.current_wave) == ((), 0)
    # Updating at the new generation: wait.
    still = step(rollout, fleet(a=seen("a", B, running=B, phase=Phase.UPDATING)), now=NOW)
    assert still.actions == ()
    others = {f"store-{n}": seen(n, A) for n in "bcde"}
    moved = step(rollout, fleet(a=seen("a", B, running=B), **others), now=NOW)
    assert moved.rollout.current_wave == 1
    assert moved.actions == (Action(ActionKind.UPGRADE, "store-b"),)
    assert [n.reason for n in moved.notes] == ["RolloutStoreUpgraded", "RolloutWaveStarted"]


def test_all_waves_done_is_succeeded() -> None:
    rollout = make([1, 2, "100%"], FIVE)
    at_b = {f"store-{n}": seen(n, B, running=B) for n in FIVE}
    for _ in range(3):
        rollout = step(rollout, at_b, now=NOW).rollout
    assert rollout.phase == RolloutPhase.SUCCEEDED
    assert rollout.finished_at == NOW
    assert rollout.message == "every wave finished: 5 of 5 stores at 2.21.2"


def test_a_failed_store_over_the_budget_halts_naming_it_and_its_cause() -> None:
    rollout = step(make([1, 2, "100%"], FIVE), fleet(), now=NOW).rollout
    failed = seen("a", B, phase=Phase.FAILED, last_error="migration Job failed: relation x")
    result = step(rollout, fleet(a=failed), now=NOW)
    assert result.rollout.phase == RolloutPhase.HALTED
    assert result.actions == ()
    assert "halted in wave 1 of 3: 1 store failed, more than max_failures=0 allows" in (
        result.rollout.message
    )
    assert "a (store-a): migration Job failed: relation x" in result.rollout.message
    assert [n.reason for n in result.notes] == ["RolloutStoreFailed", "RolloutHalted"]
    # Halted: nothing new starts, pass after pass.
    assert step(result.rollout, fleet(a=failed), now=NOW).actions == ()


def test_failures_within_the_budget_go_on() -> None:
    rollout = step(make([1, "100%"], FIVE, max_failures=1), fleet(), now=NOW).rollout
    result = step(rollout, fleet(a=seen("a", B, phase=Phase.FAILED)), now=NOW)
    assert result.rollout.phase == RolloutPhase.RUNNING
    assert {a.store_id for a in result.actions} == {"store-b", "store-c", "store-d", "store-e"}


def test_resume_after_a_halt_retries_the_failed_store_then_goes_on() -> None:
    rollout = step(make([1, 2, "100%"], FIVE), fleet(), now=NOW).rollout
    halted = step(rollout, fleet(a=seen("a", B, phase=Phase.FAILED)), now=NOW).rollout
    resumed = halted.resume(now=NOW, by="admin")
    assert resumed.phase == RolloutPhase.RUNNING
    retried = step(resumed, fleet(a=seen("a", B, phase=Phase.FAILED)), now=NOW)
    assert retried.actions == (Action(ActionKind.RETRY, "store-a"),)
    assert retried.rollout.phase == RolloutPhase.RUNNING
    # The retry takes a pass to reach the store: still Failed right after is not a new failure
    # only if the store moved; here it converged.
    moved = step(retried.rollout, fleet(a=seen("a", B, running=B)), now=NOW)
    assert moved.actions == (Action(ActionKind.UPGRADE, "store-b"),)


def test_a_store_already_asking_for_the_target_is_not_upgraded_again() -> None:
    # The driver wrote the version, then died before saving Upgrading.
    rollout = make([1, 2, "100%"], FIVE)
    result = step(rollout, fleet(a=seen("a", B, phase=Phase.UPDATING)), now=NOW)
    assert result.actions == ()
    assert result.rollout.members[0].status == MemberStatus.UPGRADING


def test_pause_stops_new_waves_and_abort_is_final() -> None:
    rollout = step(make([1, 2, "100%"], FIVE), fleet(), now=NOW).rollout
    paused = rollout.pause(now=NOW, by="admin")
    result = step(paused, fleet(a=seen("a", B, running=B)), now=NOW)
    assert result.actions == ()
    assert result.rollout.members[0].status == MemberStatus.DONE  # in-flight still recorded
    aborted = result.rollout.abort(now=NOW, by="admin")
    assert (aborted.phase, aborted.finished_at) == (RolloutPhase.ABORTED, NOW)
    with pytest.raises(InvalidTransitionError, match="it is Aborted, which is final"):
        aborted.resume(now=NOW, by="admin")
    assert step(aborted, fleet(), now=NOW).actions == ()


def test_smoke_gate_checks_after_the_upgrade_and_fails_on_a_failed_check() -> None:
    rollout = step(make([1, "100%"], FIVE, gate=Gate.SMOKE), fleet(), now=NOW).rollout
    ready = seen("a", B, running=B)
    checking = step(rollout, fleet(a=ready), now=NOW)
    assert checking.actions == (Action(ActionKind.CHECK, "store-a"),)
    member = replace(checking.rollout.members[0], check_id="check-1")
    rollout = replace(checking.rollout, members=(member, *checking.rollout.members[1:]))
    failed = replace(ready, check=CheckView("check-1", "Failed", "no order found"))
    result = step(rollout, fleet(a=failed), now=NOW)
    assert result.rollout.phase == RolloutPhase.HALTED
    assert "order check check-1 failed: no order found" in result.rollout.message
    passed = replace(ready, check=CheckView("check-1", "Passed", "order placed"))
    assert step(rollout, fleet(a=passed), now=NOW).rollout.current_wave == 1


def test_smoke_gate_on_a_simulated_store_fails_saying_why() -> None:
    rollout = step(make([1, "100%"], FIVE, gate=Gate.SMOKE), fleet(), now=NOW).rollout
    simulated = seen("a", B, running=B, checkable="its workloads are simulated")
    result = step(rollout, fleet(a=simulated), now=NOW)
    assert "no order check possible: its workloads are simulated" in result.rollout.message


def test_a_deleted_store_fails_its_place() -> None:
    rollout = step(make([1, "100%"], FIVE, max_failures=5), fleet(), now=NOW).rollout
    result = step(rollout, {k: v for k, v in fleet().items() if k != "store-a"}, now=NOW)
    assert result.rollout.members[0].cause == "the store was deleted during the rollout"


def test_a_selector_needs_every_part_to_match() -> None:
    selector = Selector(labels={"tier": "gold"}, plans=(PlanName.SMALL,), names=("a", "store-b"))
    assert selector.matches("store-x", "a", PlanName.SMALL, {"tier": "gold"})
    assert selector.matches("store-b", "b", PlanName.SMALL, {"tier": "gold", "x": "y"})
    assert not selector.matches("store-x", "a", PlanName.LARGE, {"tier": "gold"})
    assert not selector.matches("store-x", "c", PlanName.SMALL, {"tier": "gold"})
    assert not selector.matches("store-x", "a", PlanName.SMALL, {"tier": "silver"})
    assert Selector.from_json(selector.to_json()) == selector
