"""The Store aggregate: its spec (what the user asked for) and status (what storeplane observed).

The API changes a store only through the methods here (``with_plan``, ``with_engine_version``,
``with_labels``, ``with_suspended``, ``with_domains``, ``request_deletion``, ``request_retry``);
the reconciler changes only its status. Every method returns a new value:
a Store is immutable, so what was read is never changed behind a caller's back.
"""

from __future__ import annotations

import re
import secrets
import string
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum

from storeplane.domain.backups import BackupPolicy, RestoreOp, RestoreStage
from storeplane.domain.conditions import Condition, initial_conditions
from storeplane.domain.domains import DomainStatus
from storeplane.domain.errors import InvalidRequestError, InvalidTransitionError
from storeplane.domain.labels import validate_labels
from storeplane.domain.plans import PlanName
from storeplane.domain.teardown import TeardownStage, teardown_conditions

NAME_PATTERN = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
NAME_MIN_LENGTH = 3
NAME_MAX_LENGTH = 40
STORE_ID_PREFIX = "store-"
_ID_ALPHABET = string.ascii_lowercase + string.digits
_ID_LENGTH = 8
STORE_ID_PATTERN = re.compile(rf"^{STORE_ID_PREFIX}[{_ID_ALPHABET}]{{{_ID_LENGTH}}}$")


class Engine(StrEnum):
    MEDUSA = "medusa"
    WOOCOMMERCE = "woocommerce"


class Phase(StrEnum):
    """What a person reads. Conditions carry the detail."""

    PENDING = "Pending"
    PROVISIONING = "Provisioning"
    READY = "Ready"
    UPDATING = "Updating"
    # Asked to be suspended and converged so: workloads at zero, data kept, the Ingress
    # answers a maintenance page (503). Drift correction keeps it so until it is resumed.
    SUSPENDED = "Suspended"
    RESTORING = "Restoring"
    FAILED = "Failed"
    DELETING = "Deleting"
    DELETED = "Deleted"


LIVE_PHASES = frozenset(Phase) - {Phase.DELETED}


class WorkloadRuntime(StrEnum):
    """What actually runs a store's workloads, as its health answer shows (None until known)."""

    CLUSTER = "cluster"  # a real Kubernetes cluster: the answer came from the engine itself
    LOCAL = "local"  # the simulator's node runs the containers as processes on this machine
    SIMULATED = "simulated"  # nothing runs: the simulator answered in the engine's place


def validate_name(name: str) -> str:
    """Return ``name`` if it is a valid store name, else raise naming the rule it breaks."""
    if not NAME_MIN_LENGTH <= len(name) <= NAME_MAX_LENGTH:
        raise InvalidRequestError(
            f"name must be {NAME_MIN_LENGTH} to {NAME_MAX_LENGTH} characters long "
            f"(got {len(name)})",
            field="name",
        )
    if not NAME_PATTERN.fullmatch(name):
        raise InvalidRequestError(
            "name must be a lower-case DNS label: letters a-z, digits and '-', "
            f"starting with a letter and not ending with '-' (got {name!r})",
            field="name",
        )
    return name


def validate_new_name(name: str) -> str:
    """``validate_name``, and not of the id form: what a *new* store may be called.

    Wherever a store is named (the CLI, the dashboard's links) its id is accepted too, so a
    name like ``store-xbw4br7o`` could mean another store. Stores named so before this rule
    keep their names (``StoreSpec`` still accepts them) and are reached by id."""
    validate_name(name)
    if is_store_id(name):
        raise InvalidRequestError(
            f"name must not look like a store id ({STORE_ID_PREFIX} and {_ID_LENGTH} letters "
            f"or digits, got {name!r}): ids and names are both accepted wherever a store is "
            "named, so it could mean another store; choose another name",
            field="name",
        )
    return name


def is_store_id(text: str) -> bool:
    """Whether ``text`` has the form of a store id (``store-`` + 8 of a-z0-9)."""
    return STORE_ID_PATTERN.fullmatch(text) is not None


def new_store_id() -> str:
    """A short random id; it names the store's namespace, so it never changes."""
    return STORE_ID_PREFIX + "".join(secrets.choice(_ID_ALPHABET) for _ in range(_ID_LENGTH))


@dataclass(frozen=True, slots=True)
class StoreSpec:
    name: str
    engine: Engine
    plan: PlanName
    # Kubernetes-syntax labels (domain/labels.py): they group stores for people, for the
    # list filter and for rollout selectors. Not rendered into the store's objects.
    labels: dict[str, str] = field(default_factory=dict)
    # Suspended by its owner: workloads scaled to zero, the Ingress on the maintenance page.
    suspended: bool = False
    # Custom domains served besides <id>.<base domain> (validated by domain/domains.py).
    domains: tuple[str, ...] = ()
    # The engine version to run (a version of the engine catalogue, engines/catalogue.py).
    # "" means the catalogue's default: the store service always records a real version, ""
    # only reaches the reconciler from specs built by hand (tests).
    engine_version: str = ""
    # Take a backup before the namespace is deleted (kept for the configured days after).
    final_backup: bool = False
    # The store's own backup schedule; None: its plan's (domain.backups.PLAN_POLICIES).
    backup_policy: BackupPolicy | None = None

    def __post_init__(self) -> None:
        validate_name(self.name)
        validate_labels(self.labels)


@dataclass(frozen=True, slots=True)
class Store:
    id: str
    spec: StoreSpec
    generation: int
    observed_generation: int
    phase: Phase
    conditions: tuple[Condition, ...]
    url: str | None
    last_error: str | None
    created_at: datetime
    updated_at: datetime
    # Reconcile bookkeeping: when the current attempt must have converged, how many passes in
    # a row failed (drives the backoff), and when the next pass is due.
    deadline_at: datetime | None
    failures: int
    next_reconcile_at: datetime | None
    deletion_requested_at: datetime | None = None
    deleted_at: datetime | None = None
    # Bumped by every change of intent (spec, deletion, retry). The reconciler saves status only
    # if it is unchanged since it read the store, so a stale pass never overwrites new intent.
    revision: int = 1
    # The user who created it (None for stores made before there were users: admins only).
    owner_id: str | None = None
    # What runs its workloads, from the last health answer that said (observed, not intent).
    workload_runtime: WorkloadRuntime | None = None
    # The rollout (``rollout-...``) that changed this store's version and still drives it;
    # None when no rollout does. Intent, written with the version change it causes.
    rollout_id: str | None = None
    # When the reconciler last reached Suspended (observed); cleared once it is Ready again,
    # which is how a pass knows that reaching Ready is a resume.
    suspended_at: datetime | None = None
    # Each custom domain as the reconciler last saw it (Pending / Active), in spec order.
    domain_status: tuple[DomainStatus, ...] = ()
    # The engine version whose rollout converged (migration Job succeeded, workloads ready at
    # it); None until the store first became Ready. Differs from spec.engine_version while an
    # upgrade is under way (or failed): the store then still serves this version.
    running_engine_version: str | None = None
    # The converged memo of its last pass, when that pass found every object in sync and
    # ready (reconciler/converged.py): status, kept so that a restarted control plane need
    # not render an unchanged store again. None: compare in full.
    converged_key: str | None = None
    # The Kubernetes Store object that owns this store (``Store default/my-shop``), when it
    # was made from one (see domain/store_objects.py): it is changed only through that
    # object, and the API refuses changes with a 409 naming it. ``managed_uid`` is the
    # object's uid: one store per object, even if its creation is retried after a crash.
    managed_by: str | None = None
    managed_uid: str | None = None
    # A restore the user asked for (or a clone's first load), driven stage by stage.
    restore: RestoreOp | None = None

    @property
    def restoring(self) -> bool:
        """Whether a restore is under way (not finished, not failed)."""
        return self.restore is not None and self.restore.active

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def namespace(self) -> str:
        return self.id

    @property
    def is_deleting(self) -> bool:
        return self.deletion_requested_at is not None

    @property
    def upgrading_from(self) -> str | None:
        """The running version while the spec asks for another one (an upgrade under way or
        failed), else None. A store that never converged is provisioning, not upgrading."""
        running = self.running_engine_version
        wanted = self.spec.engine_version
        if running is None or not wanted or running == wanted:
            return None
        return running

    @classmethod
    def create(
        cls,
        spec: StoreSpec,
        *,
        store_id: str,
        url: str | None,
        now: datetime,
        deadline: timedelta,
        owner_id: str | None = None,
        restore: RestoreOp | None = None,
    ) -> Store:
        return cls(
            restore=restore,
            owner_id=owner_id,
            id=store_id,
            spec=spec,
            generation=1,
            observed_generation=0,
            phase=Phase.PENDING,
            conditions=initial_conditions(now, 1),
            url=url,
            last_error=None,
            created_at=now,
            updated_at=now,
            deadline_at=now + deadline,
            failures=0,
            next_reconcile_at=now,
        )

    def _require_live(self, action: str) -> None:
        if self.phase == Phase.DELETED or self.is_deleting:
            raise InvalidTransitionError(
                f"cannot {action} store {self.id}: it is {self.phase.value.lower()}; "
                "create a new store instead"
            )

    def with_plan(self, plan: PlanName, *, now: datetime, deadline: timedelta) -> Store:
        """The store with a new plan and generation; unchanged if the plan is the same."""
        self._require_live("change the plan of")
        if plan == self.spec.plan:
            return self
        return self._with_spec(replace(self.spec, plan=plan), now=now, deadline=deadline)

    def with_engine_version(self, version: str, *, now: datetime, deadline: timedelta) -> Store:
        """The store asking for engine ``version`` (a new generation); unchanged if it already
        asks for it. Whether the move is allowed is the catalogue's rule, checked by the
        caller (services/stores.py) before."""
        self._require_live("change the engine version of")
        if version == self.spec.engine_version:
            return self
        return self._with_spec(
            replace(self.spec, engine_version=version), now=now, deadline=deadline
        )

    def _with_spec(self, spec: StoreSpec, *, now: datetime, deadline: timedelta) -> Store:
        # A store that never became Ready is still provisioning; otherwise it is updating.
        phase = self.phase
        if phase in (Phase.READY, Phase.UPDATING, Phase.SUSPENDED, Phase.FAILED):
            phase = Phase.UPDATING if self.observed_generation > 0 else Phase.PROVISIONING
        return replace(
            self,
            spec=spec,
            generation=self.generation + 1,
            phase=phase,
            updated_at=now,
            deadline_at=now + deadline,
            failures=0,
            next_reconcile_at=now,
            revision=self.revision + 1,
        )

    def with_labels(self, labels: dict[str, str], *, now: datetime) -> Store:
        """The store with new labels; unchanged if they are the same. Labels are metadata
        (as on a Kubernetes object): no new generation, no new phase, nothing to reconcile."""
        self._require_live("change the labels of")
        labels = validate_labels(labels)
        if labels == self.spec.labels:
            return self
        return replace(
            self,
            spec=replace(self.spec, labels=labels),
            updated_at=now,
            revision=self.revision + 1,
        )

    def request_restore(self, op: RestoreOp, *, now: datetime, deadline: timedelta) -> Store:
        """The store with a restore requested: phase Restoring, the first stage due now.
        Refused while it is being deleted, not yet provisioned, or already restoring."""
        self._require_live("restore")
        if self.restoring:
            assert self.restore is not None
            raise InvalidTransitionError(
                f"store {self.id} is already restoring backup {self.restore.backup_id} "
                f"({self.restore.stage.value}); wait until it is Ready again"
            )
        if self.observed_generation == 0:
            raise InvalidTransitionError(
                f"store {self.id} has not been Ready yet; wait for it to be provisioned"
            )
        return replace(
            self,
            restore=replace(op, stage=RestoreStage.STOPPING),
            phase=Phase.RESTORING,
            updated_at=now,
            deadline_at=now + deadline,
            failures=0,
            last_error=None,
            next_reconcile_at=now,
            revision=self.revision + 1,
        )

    def with_domains(
        self, domains: tuple[str, ...], *, now: datetime, deadline: timedelta
    ) -> Store:
        """The store with a new list of custom domains (validated by the caller, see
        domain/domains.py) and a new generation; unchanged if the list is the same. They are
        rendered into its Ingress and CORS, so the store is ``Updating`` until converged (or
        stays ``Provisioning``; a suspended store converges back to ``Suspended``)."""
        self._require_live("change the domains of")
        if domains == self.spec.domains:
            return self
        phase = self.phase
        if phase in (Phase.READY, Phase.UPDATING, Phase.SUSPENDED, Phase.FAILED):
            phase = Phase.UPDATING if self.observed_generation > 0 else Phase.PROVISIONING
        return replace(
            self,
            spec=replace(self.spec, domains=domains),
            # A removed domain has no status any more; the reconciler reports the others.
            domain_status=tuple(d for d in self.domain_status if d.name in domains),
            generation=self.generation + 1,
            phase=phase,
            updated_at=now,
            deadline_at=now + deadline,
            failures=0,
            next_reconcile_at=now,
            revision=self.revision + 1,
        )

    def request_deletion(self, *, now: datetime) -> Store:
        """The store marked for teardown; idempotent once deletion was requested."""
        if self.is_deleting or self.phase == Phase.DELETED:
            return self
        return replace(
            self,
            phase=Phase.DELETING,
            # From now on the conditions describe the teardown, not a store that serves.
            conditions=teardown_conditions(
                self.conditions,
                self.namespace,
                TeardownStage.REQUESTED,
                now=now,
                generation=self.generation,
            ),
            deletion_requested_at=now,
            updated_at=now,
            deadline_at=None,
            failures=0,
            next_reconcile_at=now,
            revision=self.revision + 1,
        )

    def request_retry(self, *, now: datetime, deadline: timedelta) -> Store:
        """Start a fresh attempt now: the deadline and the backoff are reset."""
        if self.phase == Phase.DELETED:
            raise InvalidTransitionError(
                f"cannot retry store {self.id}: it is deleted; create a new store instead"
            )
        phase = self.phase
        if phase == Phase.FAILED:
            phase = Phase.UPDATING if self.observed_generation > 0 else Phase.PROVISIONING
        restore = self.restore
        if restore is not None and not restore.active:
            restore = None  # the failed restore was reported; a retry serves the data as it is
        return replace(
            self,
            restore=restore,
            phase=phase,
            updated_at=now,
            deadline_at=None if self.is_deleting else now + deadline,
            failures=0,
            next_reconcile_at=now,
            revision=self.revision + 1,
        )

    def with_suspended(self, suspended: bool, *, now: datetime, deadline: timedelta) -> Store:
        """The store asked to be suspended (or resumed), with a new generation; unchanged if
        it already is. Its phase is ``Updating`` (``Provisioning`` if it never became Ready)
        until the reconciler converges: ``Suspended``, or ``Ready`` again on resume."""
        if self.phase == Phase.DELETED or self.is_deleting:
            verb = "suspend" if suspended else "resume"
            raise InvalidTransitionError(
                f"cannot {verb} store {self.id}: it is {self.phase.value.lower()}, so it "
                "will not serve again; create a new store instead"
            )
        if suspended == self.spec.suspended:
            return self
        phase = Phase.UPDATING if self.observed_generation > 0 else Phase.PROVISIONING
        return replace(
            self,
            spec=replace(self.spec, suspended=suspended),
            generation=self.generation + 1,
            phase=phase,
            updated_at=now,
            deadline_at=now + deadline,
            failures=0,
            next_reconcile_at=now,
            revision=self.revision + 1,
        )
