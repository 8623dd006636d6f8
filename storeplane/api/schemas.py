"""Request and response bodies, one set per resource (``StoreCreate``, ``StorePublic``...).

They are the API's contract (and the dashboard's generated client): separate from the
domain's classes and from the database tables, converted with ``from_domain``.
"""

from __future__ import annotations

import re
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

from storeplane.domain.checks import CheckStatus, SmokeCheck
from storeplane.domain.conditions import Condition, ConditionStatus, ConditionType
from storeplane.domain.errors import InvalidRequestError
from storeplane.domain.events import Event, EventType
from storeplane.domain.plans import Plan, PlanName
from storeplane.domain.store import Engine, Phase, Store, WorkloadRuntime, validate_new_name
from storeplane.services.catalog import EngineInfo
from storeplane.services.logs import StoreLog

_NAME_DESCRIPTION = (
    "A lower-case DNS label, 3 to 40 characters: letters a-z, digits and '-', starting with "
    "a letter and not ending with '-', and not of the id form (`store-` and 8 letters or "
    "digits). Unique among stores that are not deleted."
)
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def search_text(value: str | None) -> str | None:
    """The ``q`` of a store search, refused if it holds a control character: none can be in
    a name, and NUL would cut the search short on SQLite (and fail on PostgreSQL)."""
    if value is not None and (found := _CONTROL_CHARACTERS.search(value)):
        raise PydanticCustomError(
            "store_query",
            "q must not contain control characters (found U+{code} at position {position}); "
            "search for part of a store name",
            {"code": f"{ord(found.group()):04X}", "position": found.start()},
        )
    return value


class StoreCreate(BaseModel):
    """What a user asks for when creating a store."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"name": "acme-shop", "engine": "medusa", "plan": "small"}]
        },
    )

    name: str = Field(description=_NAME_DESCRIPTION, examples=["acme-shop"])
    engine: Engine = Field(description="The e-commerce engine to run.")
    plan: PlanName = Field(
        default=PlanName.SMALL, description="Quota and default limits (see /api/v1/plans)."
    )

    @field_validator("name")
    @classmethod
    def _valid_name(cls, value: str) -> str:
        try:
            return validate_new_name(value)
        except InvalidRequestError as exc:
            # The domain's own message, so the API and the CLI say the same thing.
            raise PydanticCustomError("store_name", "{reason}", {"reason": exc.message}) from exc


class StoreUpdate(BaseModel):
    """A change to a store's spec. Only the plan can change; name and engine are fixed."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"plan": "medium"}]})

    plan: PlanName = Field(description="The new plan.")


class ConditionPublic(BaseModel):
    type: ConditionType
    status: ConditionStatus
    reason: str = Field(description="CamelCase reason, e.g. `WorkloadsNotReady`.")
    message: str = Field(description="What was observed, in words a person can act on.")
    last_transition_time: datetime
    observed_generation: int

    @classmethod
    def from_domain(cls, condition: Condition) -> ConditionPublic:
        return cls(
            type=condition.type,
            status=condition.status,
            reason=condition.reason,
            message=condition.message,
            last_transition_time=condition.last_transition_time,
            observed_generation=condition.observed_generation,
        )


class StorePublic(BaseModel):
    """A store: its spec, where it is in its lifecycle, and why."""

    id: str = Field(description="Stable id; also the name of the store's namespace.")
    name: str
    engine: Engine
    plan: PlanName
    namespace: str
    phase: Phase = Field(description="What a person reads; `conditions` carry the detail.")
    conditions: list[ConditionPublic]
    url: str | None = Field(description="Where the store is served once it is Ready.")
    generation: int = Field(description="Bumped by every change of spec.")
    observed_generation: int = Field(description="The generation the last converged pass saw.")
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None = Field(description="Set once teardown was verified.")
    last_error: str | None = Field(description="Why the last attempt failed, if it did.")
    workload_runtime: WorkloadRuntime | None = Field(
        default=None,
        description="What runs the store's workloads, as its health answer showed: `cluster` "
        "(a real Kubernetes cluster), `local` (processes on this machine, run by storeplane's "
        "simulator) or `simulated` (nothing runs: the simulator answered in the engine's "
        "place, so there is no real shop). Null until the store first answered.",
    )

    @classmethod
    def from_domain(cls, store: Store) -> StorePublic:
        return cls(
            id=store.id,
            name=store.name,
            engine=store.spec.engine,
            plan=store.spec.plan,
            namespace=store.namespace,
            phase=store.phase,
            conditions=[ConditionPublic.from_domain(c) for c in store.conditions],
            url=store.url,
            generation=store.generation,
            observed_generation=store.observed_generation,
            created_at=store.created_at,
            updated_at=store.updated_at,
            deleted_at=store.deleted_at,
            last_error=store.last_error,
            workload_runtime=store.workload_runtime,
        )


class StoresPublic(BaseModel):
    items: list[StorePublic]
    count: int = Field(description="How many stores match the filters, on all pages.")
    next_cursor: str | None = Field(
        description="Pass as `cursor` to get the next page; null on the last page."
    )


class EventPublic(BaseModel):
    id: int
    time: datetime
    type: EventType
    reason: str = Field(description="CamelCase reason, e.g. `DeletionRequested`.")
    message: str
    actor: str = Field(
        description="Who acted: a user's name, `system` for the reconciler (`api` on events "
        "recorded before the API had users)."
    )
    generation: int = Field(description="The store's generation when this happened.")

    @classmethod
    def from_domain(cls, event: Event) -> EventPublic:
        return cls(
            id=event.id or 0,
            time=event.time,
            type=event.type,
            reason=event.reason,
            message=event.message,
            actor=event.actor,
            generation=event.generation,
        )


class EventsPublic(BaseModel):
    items: list[EventPublic] = Field(description="Oldest first.")
    count: int


class CheckPublic(BaseModel):
    """An order check of a store: a guest order placed at the store's URL, found again through
    the engine's admin API."""

    id: str = Field(description="The check's id, e.g. `check-4k2m9x7q1z`.")
    store_id: str
    status: CheckStatus = Field(
        description="`Running` until it ends `Passed` (with `order_id`) or `Failed`."
    )
    step: str | None = Field(
        description="While running: the step under way; when Failed: the step that failed "
        "(`interrupted` if its runner stopped). Null once Passed."
    )
    message: str = Field(description="What happened, in words; when Failed, the cause.")
    order_id: str | None = Field(description="The order the check placed, once Passed.")
    requested_by: str = Field(description="Who asked for the check.")
    started_at: datetime
    finished_at: datetime | None

    @classmethod
    def from_domain(cls, check: SmokeCheck) -> CheckPublic:
        return cls(
            id=check.id,
            store_id=check.store_id,
            status=check.status,
            step=check.step,
            message=check.message,
            order_id=check.order_id,
            requested_by=check.requested_by,
            started_at=check.started_at,
            finished_at=check.finished_at,
        )


class ChecksPublic(BaseModel):
    items: list[CheckPublic] = Field(description="Newest first.")
    count: int


class StoreLogPublic(BaseModel):
    """What one container of a store's pod printed."""

    store_id: str
    pod: str
    container: str
    tail: int | None = Field(description="How many of the last lines were asked for.")
    text: str = Field(description="The output, as the cluster's pods/log returned it.")

    @classmethod
    def from_domain(cls, log: StoreLog) -> StoreLogPublic:
        return cls(
            store_id=log.store_id,
            pod=log.pod,
            container=log.container,
            tail=log.tail,
            text=log.text,
        )


class QuotaPublic(BaseModel):
    requests_cpu: str
    requests_memory: str
    limits_cpu: str
    limits_memory: str
    pods: int
    persistentvolumeclaims: int
    requests_storage: str


class ContainerDefaultsPublic(BaseModel):
    cpu: str
    memory: str


class PlanPublic(BaseModel):
    name: PlanName
    description: str
    quota: QuotaPublic = Field(description="The namespace's ResourceQuota.")
    default_requests: ContainerDefaultsPublic = Field(
        description="LimitRange default requests for containers that declare none."
    )
    default_limits: ContainerDefaultsPublic = Field(
        description="LimitRange default limits for containers that declare none."
    )

    @classmethod
    def from_domain(cls, plan: Plan) -> PlanPublic:
        q, req, lim = plan.quota, plan.default_requests, plan.default_limits
        return cls(
            name=plan.name,
            description=plan.description,
            quota=QuotaPublic(
                requests_cpu=q.requests_cpu,
                requests_memory=q.requests_memory,
                limits_cpu=q.limits_cpu,
                limits_memory=q.limits_memory,
                pods=q.pods,
                persistentvolumeclaims=q.persistentvolumeclaims,
                requests_storage=q.requests_storage,
            ),
            default_requests=ContainerDefaultsPublic(cpu=req.cpu, memory=req.memory),
            default_limits=ContainerDefaultsPublic(cpu=lim.cpu, memory=lim.memory),
        )


class PlansPublic(BaseModel):
    items: list[PlanPublic]


class EnginePublic(BaseModel):
    name: Engine
    display_name: str

    @classmethod
    def from_domain(cls, engine: EngineInfo) -> EnginePublic:
        return cls(name=engine.name, display_name=engine.display_name)


class EnginesPublic(BaseModel):
    items: list[EnginePublic]


class Health(BaseModel):
    status: str = Field(examples=["ok"])
