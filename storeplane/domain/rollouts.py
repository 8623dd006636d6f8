"""Rollouts: one engine version taken across many stores in waves that halt by themselves.

Pure: values and decisions, no I/O. ``services/rollouts.py`` plans a rollout (``plan_waves``)
and records it; the driver beside the reconciler (``reconciler/rollouts.py``) reads a rollout
and what its stores look like now, calls :func:`step`, carries out the actions it returns and
saves the new value. Everything the driver must remember lives in the returned value (and so
in the database), which is why a driver killed at any line picks up where it was.

Semantics (documented for users in docs/fleet.md):

* **Waves are cumulative and fixed at creation.** ``waves: [1, "10%", "50%", "100%"]`` means:
  after wave 1 one store is upgraded, after wave 2 at least 10% of the selected stores (rounded
  up), and so on. Each entry is a count or a percentage of the *selected set*; entries must
  not shrink and the last must reach every selected store. Which store is in which wave is
  decided once, when the rollout is created (stores to upgrade by name, then stores already at
  the target); a store selected later is not added.
* **A store already at the target version counts as done** from the start.
* **A wave starts only when every store of the previous wave is finished**: ``Done`` (Ready at
  the new version, ``running_engine_version`` equal to the target at the current generation,
  and with ``gate: "smoke"`` an order check started after that has passed) or ``Failed``.
* **More failed stores than ``max_failures`` halt the rollout** (``Halted``), naming each store
  and its cause; nothing new starts. Stores already upgrading go on being watched, so their
  outcome is still recorded. ``resume`` retries the failed stores (a store retry: the upgrade
  resumes, nothing is rolled back) and continues.
* ``pause`` stops new upgrades (in-flight ones finish); ``resume`` goes on. ``abort`` ends the
  rollout: stores not started stay where they are, stores upgrading finish their upgrade.
* **No store is upgraded twice.** The driver changes a store's version first and records
  ``Upgrading`` after; if it dies between the two, the next pass sees the store already asking
  for the target and only records ``Upgrading`` (the version change itself is idempotent).
"""

from __future__ import annotations

import math
import re
import secrets
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum

from storeplane.domain.errors import InvalidRequestError, InvalidTransitionError
from storeplane.domain.labels import matches, validate_labels
from storeplane.domain.plans import PlanName
from storeplane.domain.store import Phase

ROLLOUT_ID_PREFIX = "rollout-"
_ID_ALPHABET = string.ascii_lowercase + string.digits
ROLLOUT_ID_PATTERN = re.compile(rf"^{ROLLOUT_ID_PREFIX}[{_ID_ALPHABET}]{{8}}$")
MAX_WAVES = 20
_PERCENT = re.compile(r"^(\d{1,3})%$")

WaveSpec = int | str  # a count of stores, or "N%" of the selected set


def new_rollout_id() -> str:
    return ROLLOUT_ID_PREFIX + "".join(secrets.choice(_ID_ALPHABET) for _ in range(8))


def is_rollout_id(text: str) -> bool:
    return ROLLOUT_ID_PATTERN.fullmatch(text) is not None


def rollout_actor(rollout_id: str) -> str:
    """The actor of every store event a rollout causes."""
    return f"rollout:{rollout_id}"


class RolloutPhase(StrEnum):
    RUNNING = "Running"
    """Upgrading the current wave, or about to start the next."""
    PAUSED = "Paused"
    """Asked to pause: nothing new starts; upgrades under way finish."""
    HALTED = "Halted"
    """More stores failed than ``max_failures`` allows; ``message`` names them."""
    SUCCEEDED = "Succeeded"
    """Every wave finished within the failure budget."""
    ABORTED = "Aborted"
    """Ended by a person; stores not started were left alone."""


ACTIVE_PHASES = frozenset({RolloutPhase.RUNNING, RolloutPhase.PAUSED, RolloutPhase.HALTED})


class Gate(StrEnum):
    READY = "ready"
    """A store passes when it is Ready at the new version."""
    SMOKE = "smoke"
    """... and an order check started after that has passed."""


class MemberStatus(StrEnum):
    PENDING = "Pending"
    """Its wave has not started."""
    UPGRADING = "Upgrading"
    """Asked for the new version; waiting for it to be Ready there."""
    CHECKING = "Checking"
    """Ready at the new version; its order check runs (gate smoke)."""
    DONE = "Done"
    """At the new version and through the gate."""
    FAILED = "Failed"
    """Did not get through; ``cause`` says why."""


FINISHED = frozenset({MemberStatus.DONE, MemberStatus.FAILED})


@dataclass(frozen=True, slots=True)
class Selector:
    """Which stores a rollout takes: every condition given must hold (labels all match, the
    plan is one of ``plans``, the name or id is one of ``names``); an empty part is no
    condition."""

    labels: dict[str, str] = field(default_factory=dict)
    plans: tuple[PlanName, ...] = ()
    names: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        validate_labels(self.labels, field="selector.labels")

    def matches(self, store_id: str, name: str, plan: PlanName, labels: Mapping[str, str]) -> bool:
        return (
            matches(labels, self.labels)
            and (not self.plans or plan in self.plans)
            and (not self.names or name in self.names or store_id in self.names)
        )

    def to_json(self) -> dict[str, object]:
        return {
            "labels": dict(self.labels),
            "plans": [p.value for p in self.plans],
            "names": list(self.names),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> Selector:
        labels = data.get("labels") or {}
        plans = data.get("plans") or []
        names = data.get("names") or []
        assert isinstance(labels, dict) and isinstance(plans, list) and isinstance(names, list)
        return cls(
            labels={str(k): str(v) for k, v in labels.items()},
            plans=tuple(PlanName(p) for p in plans),
            names=tuple(str(n) for n in names),
        )


def wave_targets(waves: Sequence[WaveSpec], total: int) -> list[int]:
    """How many selected stores are upgraded by the end of each wave (cumulative), or raise
    InvalidRequestError naming the bad entry. ``"N%"`` rounds up, so a canary wave of
    ``"1%"`` holds at least one store."""
    if not waves:
        raise InvalidRequestError(
            'waves must name at least one wave, e.g. [1, "100%"]', field="waves"
        )
    if len(waves) > MAX_WAVES:
        raise InvalidRequestError(
            f"waves may have at most {MAX_WAVES} entries (got {len(waves)})", field="waves"
        )
    targets: list[int] = []
    for index, wave in enumerate(waves):
        where = f"waves[{index}]"
        if isinstance(wave, bool) or not isinstance(wave, int | str):
            raise InvalidRequestError(
                f'{where} must be a number of stores (e.g. 2) or a percentage (e.g. "50%") '
                f"(got {wave!r})",
                field=where,
            )
        if isinstance(wave, int):
            if wave < 1:
                raise InvalidRequestError(f"{where} must be at least 1 (got {wave})", field=where)
            target = min(wave, total)
        else:
            found = _PERCENT.fullmatch(wave)
            if found is None or not 1 <= int(found.group(1)) <= 100:
                raise InvalidRequestError(
                    f'{where} must be a percentage from "1%" to "100%" or a number of '
                    f"stores (got {wave!r})",
                    field=where,
                )
            target = math.ceil(total * int(found.group(1)) / 100)
        if targets and target < targets[-1]:
            raise InvalidRequestError(
                f"{where} ({wave!r}, {target} stores) is smaller than the wave before it "
                f"({targets[-1]} stores): waves count the stores upgraded so far, so they "
                "never shrink",
                field=where,
            )
        targets.append(target)
    if targets[-1] < total:
        raise InvalidRequestError(
            f"the last wave reaches {targets[-1]} of the {total} selected stores; end with "
            '"100%" so every selected store is upgraded (or narrow the selector)',
            field="waves",
        )
    return targets


@dataclass(frozen=True, slots=True)
class Member:
    """One store of a rollout."""

    store_id: str
    store_name: str
    wave: int  # 0-based index into the rollout's waves
    position: int  # order within the whole rollout
    from_version: str
    status: MemberStatus = MemberStatus.PENDING
    cause: str | None = None
    check_id: str | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Candidate:
    """A selected store as the planner needs it."""

    store_id: str
    name: str
    version: str


def plan_waves(
    candidates: Sequence[Candidate], waves: Sequence[WaveSpec], to_version: str, *, now: datetime
) -> tuple[Member, ...]:
    """The members of a new rollout, each in its wave. Stores to upgrade come first (by name),
    so the first wave is a real canary; stores already at ``to_version`` fill the last places
    and are ``Done`` at once."""
    todo = sorted((c for c in candidates if c.version != to_version), key=lambda c: c.name)
    done = sorted((c for c in candidates if c.version == to_version), key=lambda c: c.name)
    ordered = todo + done
    targets = wave_targets(waves, len(ordered))
    members: list[Member] = []
    for position, candidate in enumerate(ordered):
        wave = next(i for i, target in enumerate(targets) if position < target)
        already = candidate.version == to_version
        members.append(
            Member(
                store_id=candidate.store_id,
                store_name=candidate.name,
                wave=wave,
                position=position,
                from_version=candidate.version,
                status=MemberStatus.DONE if already else MemberStatus.PENDING,
                cause=f"already at {to_version}" if already else None,
                finished_at=now if already else None,
            )
        )
    return tuple(members)


@dataclass(frozen=True, slots=True)
class Rollout:
    id: str
    engine: str
    to_version: str
    selector: Selector
    waves: tuple[WaveSpec, ...]
    max_failures: int
    gate: Gate
    phase: RolloutPhase
    current_wave: int
    message: str
    created_by: str
    created_at: datetime
    updated_at: datetime
    members: tuple[Member, ...]
    finished_at: datetime | None = None
    revision: int = 1

    @property
    def is_active(self) -> bool:
        return self.phase in ACTIVE_PHASES

    def wave_members(self, wave: int) -> list[Member]:
        return [m for m in self.members if m.wave == wave]

    @property
    def failed(self) -> list[Member]:
        return [m for m in self.members if m.status == MemberStatus.FAILED]

    def _require_active(self, action: str) -> None:
        if not self.is_active:
            raise InvalidTransitionError(
                f"cannot {action} rollout {self.id}: it is {self.phase.value}, which is final; "
                "create a new rollout instead"
            )

    def pause(self, *, now: datetime, by: str) -> Rollout:
        """Stop starting upgrades; idempotent. A Halted rollout is already stopped."""
        self._require_active("pause")
        if self.phase != RolloutPhase.RUNNING:
            if self.phase == RolloutPhase.PAUSED:
                return self
            raise InvalidTransitionError(
                f"cannot pause rollout {self.id}: it is Halted (nothing starts anyway); "
                "resume it after fixing the failed stores, or abort it"
            )
        return self._to(RolloutPhase.PAUSED, f"paused by {by}", now)

    def resume(self, *, now: datetime, by: str) -> Rollout:
        """Go on; from Halted the failed stores are retried (their status goes back to
        Upgrading and the driver asks each store for a retry). Idempotent while Running."""
        self._require_active("resume")
        if self.phase == RolloutPhase.RUNNING:
            return self
        members = self.members
        if self.phase == RolloutPhase.HALTED:
            members = tuple(
                replace(m, status=MemberStatus.UPGRADING, cause=RETRY_CAUSE, finished_at=None)
                if m.status == MemberStatus.FAILED
                else m
                for m in members
            )
        resumed = self._to(RolloutPhase.RUNNING, f"resumed by {by}", now)
        return replace(resumed, members=members)

    def abort(self, *, now: datetime, by: str) -> Rollout:
        self._require_active("abort")
        aborted = self._to(RolloutPhase.ABORTED, f"aborted by {by}", now)
        return replace(aborted, finished_at=now)

    def _to(self, phase: RolloutPhase, message: str, now: datetime) -> Rollout:
        return replace(self, phase=phase, message=message, updated_at=now)


# The cause a failed member carries between ``resume`` and the driver's retry of its store.
RETRY_CAUSE = "retry requested by resume"


@dataclass(frozen=True, slots=True)
class CheckView:
    """The order check a member waits for, as last saved."""

    id: str
    status: str  # CheckStatus value: Running | Passed | Failed
    message: str


@dataclass(frozen=True, slots=True)
class Observed:
    """What the driver saw of a member's store this pass (None fields: not known)."""

    store_id: str
    live: bool  # False once deletion was requested or it is gone
    phase: Phase
    engine_version: str
    running_engine_version: str | None
    generation: int
    observed_generation: int
    last_error: str | None = None
    check: CheckView | None = None
    checkable: str | None = None  # why an order check cannot run (None: it can)

    @property
    def converged_at(self) -> str | None:
        """The version it serves Ready at its current generation, else None."""
        if self.phase == Phase.READY and self.observed_generation == self.generation:
            return self.running_engine_version
        return None


class ActionKind(StrEnum):
    UPGRADE = "upgrade"  # change the store's version to the target (idempotent)
    RETRY = "retry"  # a store retry (after resume from Halted)
    CHECK = "check"  # start an order check


@dataclass(frozen=True, slots=True)
class Action:
    kind: ActionKind
    store_id: str


@dataclass(frozen=True, slots=True)
class Note:
    """A store event to record for a member's transition (the driver adds time, generation
    and the actor ``rollout:<id>``)."""

    store_id: str
    reason: str
    message: str
    warning: bool = False


@dataclass(frozen=True, slots=True)
class Step:
    rollout: Rollout
    actions: tuple[Action, ...]
    notes: tuple[Note, ...]

    @property
    def changed(self) -> bool:
        return bool(self.actions or self.notes)


# Reasons (the same strings as domain.conditions.Reason, kept here so domain stays acyclic).
WAVE_STARTED = "RolloutWaveStarted"
STORE_UPGRADED = "RolloutStoreUpgraded"
STORE_FAILED = "RolloutStoreFailed"
STORE_RETRIED = "RolloutStoreRetried"
HALTED = "RolloutHalted"


def step(rollout: Rollout, observed: Mapping[str, Observed], *, now: datetime) -> Step:
    """The next move of ``rollout`` given its stores as ``observed`` now. The caller observes
    at least every member of the current wave and every member under way (a Pending member of
    a later wave may be left out; an in-flight member missing is a store that no longer
    exists). An UPGRADE of a store that cannot be upgraded any more (deleted meanwhile) is the
    caller's to mark Failed with the error it got. The caller carries out ``actions``
    *before* saving the returned rollout (see the module docstring), and records ``notes``
    as store events."""
    if not rollout.is_active:
        return Step(rollout, (), ())
    actions: list[Action] = []
    notes: list[Note] = []
    waves_total = len(rollout.waves)
    label = f"rollout {rollout.id}"

    def finish(m: Member, status: MemberStatus, cause: str | None) -> Member:
        if status == MemberStatus.DONE:
            notes.append(
                Note(
                    m.store_id,
                    STORE_UPGRADED,
                    f"{label} wave {m.wave + 1} of {waves_total}: {m.store_name} is at "
                    f"{rollout.engine} {rollout.to_version} and passed the {rollout.gate.value} "
                    "gate",
                )
            )
        else:
            notes.append(
                Note(
                    m.store_id,
                    STORE_FAILED,
                    f"{label} wave {m.wave + 1} of {waves_total}: {m.store_name} failed to "
                    f"upgrade to {rollout.to_version}: {cause}",
                    warning=True,
                )
            )
        return replace(m, status=status, cause=cause, finished_at=now)

    def watch(m: Member) -> Member:
        """Follow a member whose upgrade may be under way."""
        o = observed.get(m.store_id)
        if o is None and m.status == MemberStatus.PENDING:
            return m  # a later wave: the driver does not look at it yet
        if o is None or not o.live:
            return finish(m, MemberStatus.FAILED, "the store was deleted during the rollout")
        if m.status == MemberStatus.PENDING:
            if o.engine_version != rollout.to_version:
                return m
            # Its version already asks for the target (our write before a crash, or a person's
            # PATCH): nothing to write, only to watch.
            m = replace(m, status=MemberStatus.UPGRADING, started_at=m.started_at or now)
        if m.status == MemberStatus.UPGRADING:
            if m.cause == RETRY_CAUSE:
                actions.append(Action(ActionKind.RETRY, m.store_id))
                notes.append(
                    Note(
                        m.store_id,
                        STORE_RETRIED,
                        f"{label} resumed: retrying the upgrade of {m.store_name} to "
                        f"{rollout.to_version}",
                    )
                )
                return replace(m, cause=None)
            if o.engine_version != rollout.to_version:
                return finish(
                    m,
                    MemberStatus.FAILED,
                    f"its engine_version was changed to {o.engine_version} while the rollout ran",
                )
            if o.converged_at == rollout.to_version:
                if rollout.gate == Gate.READY:
                    return finish(m, MemberStatus.DONE, None)
                if o.checkable is not None:
                    return finish(m, MemberStatus.FAILED, f"no order check possible: {o.checkable}")
                actions.append(Action(ActionKind.CHECK, m.store_id))
                return replace(m, status=MemberStatus.CHECKING, check_id=None)
            if o.phase == Phase.FAILED:
                return finish(m, MemberStatus.FAILED, o.last_error or "the store is Failed")
            return m
        if m.status == MemberStatus.CHECKING:
            check = o.check
            if check is None or m.check_id is None:
                # The check was asked for but its id not saved (a crash): ask again.
                actions.append(Action(ActionKind.CHECK, m.store_id))
                return m
            if check.status == "Passed":
                return finish(m, MemberStatus.DONE, None)
            if check.status == "Failed":
                return finish(
                    m, MemberStatus.FAILED, f"order check {check.id} failed: {check.message}"
                )
        return m

    members = [m if m.status in FINISHED else watch(m) for m in rollout.members]
    current = rollout.current_wave
    phase = rollout.phase
    message = rollout.message
    finished_at = rollout.finished_at

    failed = [m for m in members if m.status == MemberStatus.FAILED]
    if phase == RolloutPhase.RUNNING and len(failed) > rollout.max_failures:
        phase = RolloutPhase.HALTED
        causes = "; ".join(f"{m.store_name} ({m.store_id}): {m.cause}" for m in failed)
        message = (
            f"halted in wave {current + 1} of {waves_total}: {len(failed)} store"
            f"{'s' if len(failed) != 1 else ''} failed, more than max_failures="
            f"{rollout.max_failures} allows: {causes}. Fix them, then resume (the failed "
            "stores are retried) or abort"
        )
        for m in failed:
            if m.finished_at == now:  # failed in this very pass: say it on its timeline too
                notes.append(Note(m.store_id, HALTED, f"{label} {message}", warning=True))

    while phase == RolloutPhase.RUNNING:
        wave = [i for i, m in enumerate(members) if m.wave == current]
        for i in wave:
            m = members[i]
            if m.status == MemberStatus.PENDING:
                actions.append(Action(ActionKind.UPGRADE, m.store_id))
                notes.append(
                    Note(
                        m.store_id,
                        WAVE_STARTED,
                        f"{label} wave {current + 1} of {waves_total}: upgrading "
                        f"{m.store_name} from {rollout.engine} {m.from_version} to "
                        f"{rollout.to_version}",
                    )
                )
                members[i] = replace(m, status=MemberStatus.UPGRADING, started_at=now)
        if not all(members[i].status in FINISHED for i in wave):
            message = f"wave {current + 1} of {waves_total} under way"
            break
        if current + 1 >= waves_total:
            phase = RolloutPhase.SUCCEEDED
            done = sum(m.status == MemberStatus.DONE for m in members)
            message = (
                f"every wave finished: {done} of {len(members)} stores at "
                f"{rollout.to_version}"
                + (f", {len(failed)} failed within max_failures" if failed else "")
            )
            finished_at = now
            break
        current += 1

    new = replace(
        rollout,
        members=tuple(members),
        current_wave=current,
        phase=phase,
        message=message,
        finished_at=finished_at,
    )
    if new != rollout:
        new = replace(new, updated_at=now)
    return Step(new, tuple(actions), tuple(notes))
