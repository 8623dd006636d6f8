"""Request and response bodies of ``/api/v1/rollouts`` (``RolloutCreate``, ``RolloutPublic``...).

Kept beside :mod:`storeplane.api.schemas` (one module per resource family would do the same);
converted from the domain with ``from_domain``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

from storeplane.api.schemas import checked_labels
from storeplane.domain.errors import InvalidRequestError
from storeplane.domain.plans import PlanName
from storeplane.domain.rollouts import (
    MAX_WAVES,
    Gate,
    Member,
    MemberStatus,
    Rollout,
    RolloutPhase,
    wave_targets,
)
from storeplane.domain.store import Engine

_WAVES_DESCRIPTION = (
    "Cumulative targets, fixed when the rollout is created: each entry is how many of the "
    "selected stores are upgraded by the end of that wave, as a count (`2`) or a percentage "
    '(`"50%"`, rounded up). Entries never shrink and the last must reach every selected store '
    '(end with `"100%"`). A wave starts only when every store of the previous one is done.'
)


def _default_waves() -> list[int | str]:
    return [1, "100%"]


class SelectorBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    labels: dict[str, str] = Field(
        default_factory=dict, description="Every one of these labels (AND)."
    )
    plans: list[PlanName] = Field(default_factory=list, description="Any of these plans.")
    names: list[Annotated[str, Field(max_length=64)]] = Field(
        default_factory=list, max_length=1000, description="Any of these store names or ids."
    )

    @field_validator("labels")
    @classmethod
    def _valid_labels(cls, value: dict[str, str]) -> dict[str, str]:
        return checked_labels(value)


class RolloutCreate(BaseModel):
    """A rollout of ``to_version`` across the stores the selector takes."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "engine": "medusa",
                    "to_version": "2.21.2",
                    "selector": {"labels": {"tier": "gold"}},
                    "waves": [1, "10%", "50%", "100%"],
                    "max_failures": 0,
                    "gate": "ready",
                }
            ]
        },
    )

    engine: Engine
    to_version: str = Field(max_length=64, description="A version of the engine catalogue.")
    selector: SelectorBody = Field(
        default_factory=SelectorBody,
        description="Which live stores of the engine: all parts given must hold; empty: all.",
    )
    waves: list[int | str] = Field(
        default_factory=_default_waves, max_length=MAX_WAVES, description=_WAVES_DESCRIPTION
    )
    max_failures: int = Field(
        default=0,
        ge=0,
        le=10_000,
        description="How many stores may fail before the rollout halts by itself.",
    )
    gate: Gate = Field(
        default=Gate.READY,
        description="`ready`: a store passes when Ready at the new version; `smoke`: and an "
        "order check after the upgrade passed (needs real workloads).",
    )

    @field_validator("waves")
    @classmethod
    def _valid_waves(cls, value: list[int | str]) -> list[int | str]:
        try:
            wave_targets(value, 0)  # the syntax; the sizes are checked against the selection
        except InvalidRequestError as exc:
            if "last wave reaches" not in exc.message:
                raise PydanticCustomError(
                    "store_waves", "{reason}", {"reason": exc.message}
                ) from exc
        return value


class WavePublic(BaseModel):
    stores: list[str] = Field(description="The ids of the wave's stores.")
    done: int = Field(description="How many are Done.")
    failed: int = Field(description="How many Failed.")


class RolloutStorePublic(BaseModel):
    store_id: str
    name: str
    wave: int = Field(description="1-based.")
    from_version: str
    status: MemberStatus
    cause: str | None = Field(description="Why it failed (or `already at ...`).")
    check_id: str | None = Field(description="Its order check, with gate `smoke`.")
    started_at: datetime | None
    finished_at: datetime | None

    @classmethod
    def from_domain(cls, m: Member) -> RolloutStorePublic:
        return cls(
            store_id=m.store_id,
            name=m.store_name,
            wave=m.wave + 1,
            from_version=m.from_version,
            status=m.status,
            cause=m.cause,
            check_id=m.check_id,
            started_at=m.started_at,
            finished_at=m.finished_at,
        )


class RolloutPublic(BaseModel):
    """A rollout and where it stands."""

    id: str
    engine: Engine
    to_version: str
    selector: SelectorBody
    phase: RolloutPhase = Field(
        description="`Running`, `Paused`, `Halted` (too many failures; see `message`), "
        "`Succeeded` or `Aborted`."
    )
    message: str = Field(description="What it is doing, or why it stopped, naming stores.")
    current_wave: int = Field(description="1-based: the wave under way (or the last one).")
    waves: list[WavePublic]
    wave_targets: list[int | str] = Field(description="The waves as asked for.")
    max_failures: int
    gate: Gate
    stores: list[RolloutStorePublic] = Field(description="Every selected store, in wave order.")
    created_by: str
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None

    @classmethod
    def from_domain(cls, rollout: Rollout) -> RolloutPublic:
        waves = []
        for index in range(len(rollout.waves)):
            members = rollout.wave_members(index)
            waves.append(
                WavePublic(
                    stores=[m.store_id for m in members],
                    done=sum(m.status == MemberStatus.DONE for m in members),
                    failed=sum(m.status == MemberStatus.FAILED for m in members),
                )
            )
        selector = rollout.selector
        return cls(
            id=rollout.id,
            engine=Engine(rollout.engine),
            to_version=rollout.to_version,
            selector=SelectorBody(
                labels=dict(selector.labels), plans=list(selector.plans), names=list(selector.names)
            ),
            phase=rollout.phase,
            message=rollout.message,
            current_wave=rollout.current_wave + 1,
            waves=waves,
            wave_targets=list(rollout.waves),
            max_failures=rollout.max_failures,
            gate=rollout.gate,
            stores=[RolloutStorePublic.from_domain(m) for m in rollout.members],
            created_by=rollout.created_by,
            created_at=rollout.created_at,
            updated_at=rollout.updated_at,
            finished_at=rollout.finished_at,
        )


class RolloutsPublic(BaseModel):
    items: list[RolloutPublic] = Field(description="Newest first.")
    count: int
