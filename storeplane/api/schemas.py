"""Request and response bodies, one set per resource (``StoreCreate``, ``StorePublic``...).

They are the API's contract (and the dashboard's generated client): separate from the
domain's classes and from the database tables, converted with ``from_domain``.
"""

from __future__ import annotations

import re
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

from storeplane.domain.backups import Backup, BackupKind, BackupStatus, RestoreOp
from storeplane.domain.checks import CheckStatus, SmokeCheck
from storeplane.domain.conditions import Condition, ConditionStatus, ConditionType
from storeplane.domain.domains import MAX_DOMAINS, DomainState
from storeplane.domain.errors import InvalidRequestError
from storeplane.domain.events import Event, EventType
from storeplane.domain.fleet import FleetEvent, FleetSummary
from storeplane.domain.labels import parse_terms, validate_labels
from storeplane.domain.objects import ObjectHealth, StoreObject
from storeplane.domain.plans import Plan, PlanName
from storeplane.domain.store import Engine, Phase, Store, WorkloadRuntime, validate_new_name
from storeplane.domain.users import ApiToken, Role
from storeplane.services.accounts import Account, IssuedToken
from storeplane.services.catalog import EngineInfo
from storeplane.services.logs import StoreLog

_NAME_DESCRIPTION = (
    "A lower-case DNS label, 3 to 40 characters: letters a-z, digits and '-', starting with "
    "a letter and not ending with '-', and not of the id form (`store-` and 8 letters or "
    "digits). Unique among stores that are not deleted."
)
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f]")


_LABELS_DESCRIPTION = (
    'Kubernetes-style labels, e.g. `{"tier": "gold"}`: a key is an optional DNS '
    "prefix and `/`, then 1 to 63 letters, digits, `-`, `_` or `.` beginning and ending with "
    "a letter or digit; a value is empty or follows the same rule. At most 32; the prefix "
    "`storeplane.io/` is reserved. They group stores for `?label=` and rollout selectors."
)


def checked_labels(value: dict[str, str]) -> dict[str, str]:
    """``value`` if it is a valid label set; the domain's message otherwise."""
    try:
        return validate_labels(value)
    except InvalidRequestError as exc:
        raise PydanticCustomError("store_labels", "{reason}", {"reason": exc.message}) from exc


def label_terms(value: list[str] | None) -> list[str] | None:
    """The ``label`` query terms (``key=value``), refused with the domain's message."""
    if value:
        try:
            parse_terms(value)
        except InvalidRequestError as exc:
            raise PydanticCustomError("store_label", "{reason}", {"reason": exc.message}) from exc
    return value


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


class RestoreFrom(BaseModel):
    model_config = ConfigDict(extra="forbid")

    store_id: str = Field(description="The store the backup was taken of.")
    backup_id: str = Field(description="The backup, e.g. `backup-4k2m9x7q1z`.")


class BackupPolicyBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    every_hours: float = Field(ge=0, le=24 * 366, description="0: no scheduled backups.")
    keep: int = Field(ge=1, le=1000, description="Scheduled backups kept; older ones expire.")


class RestoreRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    backup_id: str = Field(description="One of the store's own backups.")


class BackupPublic(BaseModel):
    """A backup of a store's database, in the backup target."""

    id: str = Field(description="The backup's id, e.g. `backup-4k2m9x7q1z`.")
    store_id: str
    status: BackupStatus = Field(description="`Running`, then `Succeeded` or `Failed`.")
    kind: BackupKind = Field(description="`manual`, `scheduled` or `final` (before deletion).")
    size_bytes: int | None = Field(
        description="What the backup holds in the target, once Succeeded: the dump's size plus, "
        "for Medusa, the uploaded files' archive's."
    )
    started_at: datetime
    finished_at: datetime | None
    expires_at: datetime | None = Field(description="When it is deleted; null: kept.")
    engine: Engine
    engine_version: str = Field(description="The engine version the store ran when dumped.")
    target: str = Field(description="Where the dump is: `folder`.")
    message: str = Field(description="What happened, in words; when Failed, the cause.")
    requested_by: str

    @classmethod
    def from_domain(cls, backup: Backup) -> BackupPublic:
        return cls(
            id=backup.id,
            store_id=backup.store_id,
            status=backup.status,
            kind=backup.kind,
            size_bytes=backup.size_bytes,
            started_at=backup.started_at,
            finished_at=backup.finished_at,
            expires_at=backup.expires_at,
            engine=Engine(backup.engine),
            engine_version=backup.engine_version,
            target=backup.target,
            message=backup.message,
            requested_by=backup.requested_by,
        )


class BackupsPublic(BaseModel):
    items: list[BackupPublic] = Field(description="Newest first.")
    count: int


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
    labels: dict[str, str] = Field(default_factory=dict, description=_LABELS_DESCRIPTION)

    @field_validator("labels")
    @classmethod
    def _valid_labels(cls, value: dict[str, str]) -> dict[str, str]:
        return checked_labels(value)

    engine_version: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        description="A version of the engine from `GET /api/v1/engines`; default: the "
        "engine's default version.",
        examples=["2.21.2"],
    )
    final_backup: bool | None = Field(
        default=None,
        description="Take a backup before the store is deleted, kept for the configured days "
        "after (null: the server's default, on for `storeplane serve`, off for `storeplane dev`).",
    )
    backup_policy: BackupPolicyBody | None = Field(
        default=None, description="The store's own backup schedule; null: its plan's."
    )
    restore_from: RestoreFrom | None = Field(
        default=None,
        description="Clone: the new store's database starts as this backup (of any store you "
        "may see, a Deleted store's final backup too). Its credentials are its own.",
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
    """A change to a store: the fields given change, the others stay. Name and engine are
    fixed."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"plan": "medium"},
                {"engine_version": "2.21.2"},
                {"labels": {"tier": "gold"}},
                {"domains": ["shop.example.com"]},
            ]
        },
    )

    plan: PlanName | None = Field(default=None, description="The new plan.")
    engine_version: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        description="The engine version to move to: the version the store runs, or one "
        "whose `upgrades_from` (`GET /api/v1/engines`) lists it; anything else is a 422 "
        "naming the allowed ones.",
    )
    labels: dict[str, str] | None = Field(
        default=None,
        description="The store's labels, replaced as a whole (`{}` removes them all). "
        + _LABELS_DESCRIPTION,
    )

    domains: list[str] | None = Field(
        default=None,
        max_length=MAX_DOMAINS,
        description="The store's custom domains, replaced as a whole (`[]` removes them all): "
        "host names (RFC 1123, lower case, at most 253 characters, labels of at most 63), no "
        "wildcard, no IP address, not under the platform's own base domain; each one serves "
        "one store at a time (409 when another store has it). Each is added to the store's "
        "Ingress (with a certificate from the platform's cert-manager issuer when TLS is on) "
        "and to the engine's allowed origins; `domains` in the store says when it is `Active`.",
    )

    @field_validator("labels")
    @classmethod
    def _valid_labels(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        return None if value is None else checked_labels(value)


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


class DomainPublic(BaseModel):
    """One custom domain of a store and what the reconciler last saw of it."""

    name: str = Field(description="The host name, e.g. `shop.example.com`.")
    status: DomainState = Field(
        description="`Pending` until it is served: with TLS on, until its certificate "
        "Secret (issued by cert-manager) exists in the store's namespace; with TLS off, until "
        "it is a host of the store's Ingress. Then `Active`. Pointing DNS at the ingress is "
        "the owner's part; storeplane does not check DNS."
    )
    message: str = Field(description="What it waits for, or what serves it.")


class RestorePublic(BaseModel):
    backup_id: str
    source_store_id: str
    stage: str = Field(
        description="`StoppingWorkloads`, `RestoringDatabase`, `StartingWorkloads` or `Failed`."
    )
    clone: bool
    requested_at: datetime
    message: str

    @classmethod
    def from_domain(cls, op: RestoreOp) -> RestorePublic:
        return cls(
            backup_id=op.backup_id,
            source_store_id=op.source_store_id,
            stage=op.stage.value,
            clone=op.clone,
            requested_at=op.requested_at,
            message=op.message,
        )


class StorePublic(BaseModel):
    """A store: its spec, where it is in its lifecycle, and why."""

    id: str = Field(description="Stable id; also the name of the store's namespace.")
    name: str
    engine: Engine
    plan: PlanName
    labels: dict[str, str] = Field(default_factory=dict, description="The store's labels.")
    engine_version: str = Field(description="The engine version the store asks for.")
    running_engine_version: str | None = Field(
        default=None,
        description="The engine version whose rollout converged (migrations run, workloads "
        "ready at it): what the store serves. Differs from `engine_version` while an upgrade "
        "is under way or failed; null until the store first became Ready.",
    )
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
    managed_by: str | None = Field(
        default=None,
        description="The Kubernetes Store object that owns this store (`Store "
        "<namespace>/<name>`), when it was made from one: it is changed only through that "
        "object, and the API answers 409 to changes. Null for stores made through the API.",
    )
    rollout_id: str | None = Field(
        default=None,
        description="The rollout (`GET /api/v1/rollouts/{id}`) that changed this store's "
        "engine version and still drives it; null when none does.",
    )
    suspended: bool = Field(
        default=False,
        description="Asked to be suspended (`POST .../suspend`): workloads at zero, the "
        "Ingress answering a 503 maintenance page, data kept. `phase` says whether it is "
        "`Suspended` yet.",
    )
    suspended_at: datetime | None = Field(
        default=None, description="When the store last reached `Suspended`; null once resumed."
    )
    domains: list[DomainPublic] = Field(
        default_factory=list,
        description='Custom domains (set with `PATCH {"domains": [...]}`), each with its '
        "status; the store's own host (`url`) is not listed.",
    )
    final_backup: bool = Field(
        default=False, description="Whether a backup is taken before the store is deleted."
    )
    restore: RestorePublic | None = Field(
        default=None,
        description="A restore under way (phase `Restoring`; a clone's first load), or the "
        "last one if it failed; null otherwise.",
    )

    @classmethod
    def from_domain(cls, store: Store) -> StorePublic:
        return cls(
            id=store.id,
            name=store.name,
            engine=store.spec.engine,
            plan=store.spec.plan,
            labels=dict(store.spec.labels),
            engine_version=store.spec.engine_version,
            running_engine_version=store.running_engine_version,
            managed_by=store.managed_by,
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
            rollout_id=store.rollout_id,
            suspended=store.spec.suspended,
            suspended_at=store.suspended_at,
            domains=_domains(store),
            final_backup=store.spec.final_backup,
            restore=RestorePublic.from_domain(store.restore) if store.restore else None,
        )


def _domains(store: Store) -> list[DomainPublic]:
    """Every domain of the spec, with the status the reconciler saw, else Pending."""
    seen = {d.name: d for d in store.domain_status}
    return [
        DomainPublic(name=d.name, status=d.status, message=d.message)
        if (d := seen.get(name))
        else DomainPublic(
            name=name,
            status=DomainState.PENDING,
            message="not on the store's Ingress yet: the reconciler adds it",
        )
        for name in store.spec.domains
    ]


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


class EngineVersionPublic(BaseModel):
    """One version of an engine from the engine catalogue."""

    version: str = Field(examples=["2.21.2"])
    default: bool = Field(description="What a store gets when it asks for no version.")
    images: dict[str, str] = Field(
        description="Each image of this version as `repository:tag` (the repository is the "
        "platform's setting).",
        examples=[{"medusa": "ghcr.io/storeplane/medusa-store:2.21.2"}],
    )
    chart_version: str = Field(description="The version of the engine chart that renders it.")
    upgrades_from: list[str] = Field(
        description="The versions a store may move to this one from (PATCH `engine_version`)."
    )
    restorable_from: list[str] = Field(
        description="Older versions whose backups a store at this version may restore or be "
        "cloned from (its migrations then run on the loaded data); its own always."
    )
    schema_migrations: bool = Field(
        description="Moving to it changes the database schema: no store moves back past it."
    )


class EnginePublic(BaseModel):
    name: Engine
    display_name: str
    default_version: str = Field(description="The version a new store gets by default.")
    versions: list[EngineVersionPublic] = Field(description="Newest first.")

    @classmethod
    def from_domain(cls, engine: EngineInfo) -> EnginePublic:
        return cls(
            name=engine.name,
            display_name=engine.display_name,
            default_version=engine.default_version,
            versions=[
                EngineVersionPublic(
                    version=v.version,
                    default=v.default,
                    images=dict(v.images),
                    chart_version=v.chart_version,
                    upgrades_from=list(v.upgrades_from),
                    restorable_from=list(v.restorable_from),
                    schema_migrations=v.schema_migrations,
                )
                for v in engine.versions
            ],
        )


class EnginesPublic(BaseModel):
    items: list[EnginePublic]


class Health(BaseModel):
    status: str = Field(examples=["ok"])


# -- the fleet overview ------------------------------------------------------------------


class BucketPublic(BaseModel):
    upper_seconds: float | None = Field(
        description="The bucket holds durations up to this many seconds (above the previous "
        "bucket's bound); null for the last, open bucket."
    )
    count: int


class DurationsPublic(BaseModel):
    """Seconds from `Created` to the first `Ready`, over the newest stores that got there."""

    sample: int = Field(description="How many stores the figures are over.")
    p50: float | None
    p90: float | None
    p99: float | None
    max: float | None
    buckets: list[BucketPublic]


class FailingStorePublic(BaseModel):
    id: str
    name: str
    reason: str = Field(description="The `Ready` condition's CamelCase reason.")
    message: str = Field(description="Why it failed, in words.")
    since: datetime = Field(description="When the store last changed.")


class FleetEventPublic(EventPublic):
    store_id: str
    store_name: str

    @classmethod
    def from_fleet(cls, item: FleetEvent) -> FleetEventPublic:
        base = EventPublic.from_domain(item.event)
        return cls(**base.model_dump(), store_id=item.event.store_id, store_name=item.store_name)


class FleetPublic(BaseModel):
    """The fleet at a glance (for a member: its own stores)."""

    total: int = Field(description="Live stores (not Deleted).")
    by_phase: dict[str, int] = Field(description="Stores per phase, Deleted included.")
    by_engine: dict[str, int] = Field(description="Live stores per engine.")
    by_plan: dict[str, int] = Field(description="Live stores per plan.")
    by_engine_version: dict[str, int] = Field(
        description="Live stores per engine version (empty while stores carry none)."
    )
    durations: DurationsPublic
    failing: list[FailingStorePublic] = Field(description="Failed stores, newest change first.")
    recent_events: list[FleetEventPublic] = Field(description="Newest first.")

    @classmethod
    def from_domain(cls, fleet: FleetSummary) -> FleetPublic:
        d = fleet.durations
        return cls(
            total=fleet.total,
            by_phase=fleet.by_phase,
            by_engine=fleet.by_engine,
            by_plan=fleet.by_plan,
            by_engine_version=fleet.by_engine_version,
            durations=DurationsPublic(
                sample=d.sample,
                p50=d.p50,
                p90=d.p90,
                p99=d.p99,
                max=d.max,
                buckets=[
                    BucketPublic(upper_seconds=b.upper_seconds, count=b.count) for b in d.buckets
                ],
            ),
            failing=[
                FailingStorePublic(
                    id=f.id, name=f.name, reason=f.reason, message=f.message, since=f.since
                )
                for f in fleet.failing
            ],
            recent_events=[FleetEventPublic.from_fleet(e) for e in fleet.recent_events],
        )


# -- accounts (admins only) --------------------------------------------------------------


class UserPublic(BaseModel):
    id: str = Field(description="e.g. `user-4k2m9x7q1z`.")
    name: str
    role: Role
    max_live_stores: int | None = Field(
        description="The limit set for this user; null: the server's default for its role."
    )
    store_limit: int | None = Field(description="The limit in force (null: none).")
    live_stores: int = Field(description="Stores it owns that are not Deleted.")
    active_tokens: int
    created_at: datetime

    @classmethod
    def from_account(cls, account: Account) -> UserPublic:
        u = account.user
        return cls(
            id=u.id,
            name=u.name,
            role=u.role,
            max_live_stores=u.max_live_stores,
            store_limit=account.store_limit,
            live_stores=account.live_stores,
            active_tokens=account.active_tokens,
            created_at=u.created_at,
        )


class UsersPublic(BaseModel):
    items: list[UserPublic] = Field(description="Oldest first.")
    count: int


class UserCreate(BaseModel):
    """A new member (admins are made with `storeplane users create --role admin`)."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"name": "alice", "max_live_stores": 3}]}
    )

    name: str = Field(
        max_length=63,
        description="2 to 63 characters: lower-case letters, digits, '.', '_' and '-', "
        "starting with a letter.",
    )
    max_live_stores: int | None = Field(
        default=None, ge=0, le=100_000, description="Null: the server's default."
    )


class UserUpdate(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"max_live_stores": 5}]}
    )

    max_live_stores: int | None = Field(
        ge=0, le=100_000, description="Live stores the user may own; null: the server's default."
    )


class TokenPublic(BaseModel):
    """A token's record. Its value is never stored and never shown again."""

    id: str = Field(description="e.g. `tok-4k2m9x7q1z`.")
    user_id: str
    label: str
    created_at: datetime
    revoked_at: datetime | None
    active: bool

    @classmethod
    def from_domain(cls, token: ApiToken) -> TokenPublic:
        return cls(
            id=token.id,
            user_id=token.user_id,
            label=token.label,
            created_at=token.created_at,
            revoked_at=token.revoked_at,
            active=token.active,
        )


class TokensPublic(BaseModel):
    items: list[TokenPublic] = Field(description="Oldest first.")
    count: int


class TokenCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"user_id": "user-4k2m9x7q1z", "label": "laptop"}]},
    )

    user_id: str = Field(max_length=32, description="Whose token it is.")
    label: str = Field(default="", max_length=64, description="What it is for, e.g. `laptop`.")


class TokenIssued(TokenPublic):
    """A new token: `value` is shown this once and can never be read back."""

    value: str = Field(description="The token itself (`sp_...`): give it to its user now.")
    user_name: str

    @classmethod
    def from_issued(cls, issued: IssuedToken) -> TokenIssued:
        base = TokenPublic.from_domain(issued.token)
        return cls(**base.model_dump(), value=issued.value, user_name=issued.user.name)


class Component(BaseModel):
    """What this process knows of one dependency, from the calls it made to it."""

    status: str = Field(
        description="`ok`, `unavailable`, or `unknown` (not called yet by this process).",
        examples=["ok"],
    )
    message: str = Field(default="", description="Why it is unavailable (the last failure).")
    down_since: datetime | None = Field(default=None, description="When the outage began.")
    last_success: datetime | None = Field(
        default=None, description="The last call to it that worked."
    )


class Readiness(BaseModel):
    status: str = Field(
        description="`ok`, or `degraded` while a component other than the database is "
        "unavailable (the API still serves; stores then show `Unknown` conditions).",
        examples=["ok"],
    )
    components: dict[str, Component] = Field(
        default_factory=dict,
        description="`database` and, where a reconciler runs, `cluster`.",
    )


# -- a store's objects ---------------------------------------------------------------------


class StoreObjectPublic(BaseModel):
    """One object of a store's resource tree."""

    api_version: str
    kind: str
    name: str
    health: ObjectHealth = Field(
        description="`Healthy` (ready by the reconciler's readiness rules), `Progressing` (not "
        "yet), `Degraded` (failed: a failed Job, a crash-looping container...) or `Missing` "
        "(rendered, not in the cluster)."
    )
    status: str = Field(description="One line, e.g. `2/2 ready`.")
    parent: str | None = Field(
        description="`Kind/name` of the workload that owns this pod; null otherwise."
    )
    drift_corrected_at: datetime | None = Field(
        description="When the reconciler last restored this object after a change by hand."
    )
    drift_message: str | None = Field(description="That correction's event message.")
    containers: list[str] = Field(
        default_factory=list,
        description="For a pod: its init containers then its containers (what `.../logs` "
        "takes as `container`); empty for other kinds.",
    )

    @classmethod
    def from_domain(cls, obj: StoreObject) -> StoreObjectPublic:
        spec = (obj.manifest or {}).get("spec") or {} if obj.kind == "Pod" else {}
        names = [
            str(c.get("name"))
            for c in [*(spec.get("initContainers") or []), *(spec.get("containers") or [])]
        ]
        return cls(
            containers=names,
            api_version=obj.api_version,
            kind=obj.kind,
            name=obj.name,
            health=obj.health,
            status=obj.status,
            parent=obj.parent,
            drift_corrected_at=obj.drift_corrected_at,
            drift_message=obj.drift_message,
        )


class StoreObjectsPublic(BaseModel):
    store_id: str
    items: list[StoreObjectPublic] = Field(
        description="The namespace first, then its objects by kind (pods after their workload)."
    )
    count: int


class StoreObjectYaml(StoreObjectPublic):
    """One live object as YAML, read-only: `managedFields` left out, and a Secret's values
    replaced by `(hidden)` (its key names stay)."""

    yaml: str

    @classmethod
    def from_yaml(cls, obj: StoreObject, text: str) -> StoreObjectYaml:
        return cls(**StoreObjectPublic.from_domain(obj).model_dump(), yaml=text)
