"""The ports: what the core needs from the database and from the cluster, as protocols.

Plain values cross these cuts (dataclasses, dicts of Kubernetes manifests), never a library's
types, so the reconciler can be read and tested without knowing which adapter sits behind.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol

from storeplane.domain.backups import Backup, ScheduleMark
from storeplane.domain.checks import SmokeCheck
from storeplane.domain.events import Event
from storeplane.domain.fleet import FleetEvent, FleetSummary
from storeplane.domain.objects import StoreObject
from storeplane.domain.rollouts import Rollout
from storeplane.domain.store import Phase, Store
from storeplane.domain.store_objects import StoreKubeObject
from storeplane.domain.users import ApiToken, IdempotencyKey, User

Manifest = dict[str, Any]
# The field manager of every write storeplane makes (server-side apply and creates).
FIELD_MANAGER = "storeplane"


@dataclass(frozen=True, slots=True)
class StorePage:
    items: list[Store]
    count: int
    next_cursor: str | None


class StoreRepository(Protocol):
    """Desired state, status, the event log and work leases. Each call is one transaction."""

    def create(
        self,
        store: Store,
        events: Sequence[Event],
        *,
        owner_limit: int | None = None,
        idempotency: IdempotencyKey | None = None,
    ) -> Store:
        """Insert a new store; raise NameTakenError if a live store has its name.

        In the same transaction: with ``idempotency``, a key already used with the same
        request hash returns the store it created (and inserts nothing), with another hash
        raises IdempotencyKeyReusedError; with ``owner_limit``, raise StoreLimitError if the
        owner already has that many live stores. Concurrent creates for one owner are
        serialised, so they can never overshoot the limit together."""
        ...

    def by_managed_uid(self, uid: str) -> Store | None:
        """The store made from the Store object with this uid (live or Deleted), or None."""
        ...

    def get(self, store_id: str) -> Store:
        """Raise StoreNotFoundError when there is no such store."""
        ...

    def list_page(
        self,
        *,
        phase: Phase | None = None,
        query: str | None = None,
        limit: int = 50,
        cursor: str | None = None,
        owner_id: str | None = None,
        include_deleted: bool = False,
        labels: Mapping[str, str] | None = None,
    ) -> StorePage:
        """Newest first; ``owner_id`` restricts the page (and the count) to one owner's stores,
        ``labels`` to the stores carrying all of them. Without ``phase``, Deleted stores only
        with ``include_deleted``."""
        ...

    def save_intent(self, store: Store, *, expected_revision: int, events: Sequence[Event]) -> bool:
        """Write a change of intent (spec, deletion, retry) if nobody changed it meanwhile."""
        ...

    def save_status(self, store: Store, *, owner: str, release: bool = False) -> bool:
        """Write the status fields if ``store.revision`` is still current and ``owner`` holds
        the lease; return False otherwise (the caller then drops its stale view). With
        ``release``, a saved status also gives up the lease, in the same write (a refused one
        leaves it: the caller then calls ``release``)."""
        ...

    def append_events(self, events: Sequence[Event]) -> None: ...

    def events(self, store_id: str) -> list[Event]:
        """The store's events, oldest first."""
        ...

    def claim_due(
        self,
        *,
        owner: str,
        now: datetime,
        lease: timedelta,
        limit: int,
        running: Collection[str] = (),
    ) -> list[Store]:
        """Lease up to ``limit`` stores whose next reconcile is due and whose lease is free or
        expired; a store is leased to one owner at a time. ``running`` (the stores the caller
        has passes in flight for) are never returned: each of those passes releases its lease
        when it ends, which may be before this call returns."""
        ...

    def claim_ids(
        self, store_ids: Sequence[str], *, owner: str, now: datetime, lease: timedelta
    ) -> list[Store]:
        """Lease the given stores now, due or not, where their lease is free, expired or ours."""
        ...

    def release(self, store_id: str, *, owner: str) -> None: ...


class RolloutRepository(Protocol):
    """Rollouts and their members (see :mod:`storeplane.domain.rollouts`). Each call is one
    transaction."""

    def create(self, rollout: Rollout) -> Rollout:
        """Insert it; InvalidTransitionError naming the stores another active rollout holds."""
        ...

    def get(self, rollout_id: str) -> Rollout:
        """Raise RolloutNotFoundError when there is no such rollout."""
        ...

    def list_recent(self, *, limit: int = 50) -> list[Rollout]:
        """Newest first."""
        ...

    def save(self, rollout: Rollout, *, owner: str | None = None) -> Rollout | None:
        """Write it if its revision is current (and ``owner`` holds the lease, when given);
        the saved value, or None when someone saved first. An ended rollout frees its
        stores' ``rollout_id``."""
        ...

    def claim(self, *, owner: str, now: datetime, lease: timedelta, limit: int) -> list[str]:
        """Lease active rollouts no one else holds (renewing ours); their ids."""
        ...

    def release(self, rollout_id: str, *, owner: str) -> None: ...


class BackupRepository(Protocol):
    """Backups of stores (see :mod:`storeplane.domain.backups`). Each call is one transaction."""

    def create(self, backup: Backup, events: Sequence[Event]) -> Backup: ...

    def get(self, store_id: str, backup_id: str) -> Backup:
        """Raise BackupNotFoundError when the store has no such backup."""
        ...

    def list_for(self, store_id: str, *, limit: int = 100) -> list[Backup]:
        """Newest first."""
        ...

    def schedule_marks(self) -> dict[str, ScheduleMark]:
        """Each store's last scheduled backup and whether one of its backups runs, in one
        read; stores without backups are left out."""
        ...

    def running_for(self, store_id: str) -> Backup | None: ...

    def claim(
        self, *, owner: str, now: datetime, until: datetime, limit: int, restarted: bool = False
    ) -> list[Backup]: ...

    def save_progress(self, backup: Backup, *, runner: str) -> bool: ...

    def finish(self, backup: Backup, *, runner: str, events: Sequence[Event]) -> bool: ...

    def set_expiry(
        self, store_id: str, expires_at: datetime | None, events: Sequence[Event]
    ) -> None: ...

    def set_expiry_of(
        self, backup_id: str, expires_at: datetime | None, events: Sequence[Event]
    ) -> None: ...

    def remove(self, backup: Backup, events: Sequence[Event]) -> bool: ...

    def expired(self, *, now: datetime, limit: int = 100) -> list[Backup]: ...


class CheckRepository(Protocol):
    """Smoke checks of stores (see :mod:`storeplane.domain.checks`). Each call is one
    transaction."""

    def create(self, check: SmokeCheck, events: Sequence[Event]) -> tuple[SmokeCheck, bool]:
        """Record a new running check; if the store already has one, return it and False."""
        ...

    def get(self, store_id: str, check_id: str) -> SmokeCheck:
        """Raise CheckNotFoundError when the store has no such check."""
        ...

    def list_for(self, store_id: str, *, limit: int = 20) -> list[SmokeCheck]:
        """Newest first."""
        ...

    def claim(self, *, owner: str, until: datetime, limit: int) -> list[SmokeCheck]:
        """Take running checks no runner holds yet; each goes to exactly one caller."""
        ...

    def stale(self, *, now: datetime, owner: str | None = None) -> list[SmokeCheck]:
        """Running checks whose runner's lease expired (or that ``owner`` held before it
        restarted)."""
        ...

    def save_progress(self, check: SmokeCheck, *, runner: str) -> bool: ...

    def finish(self, check: SmokeCheck, *, runner: str | None, events: Sequence[Event]) -> bool:
        """Write the outcome if the check still runs under ``runner``; False otherwise."""
        ...


class UserRepository(Protocol):
    """Users and their API tokens. Each call is one transaction."""

    def create_user(self, user: User) -> User:
        """Raise UserExistsError if the name is taken."""
        ...

    def user_by_name(self, name: str) -> User:
        """Raise UserNotFoundError when there is no such user."""
        ...

    def users(self) -> list[User]: ...

    def user_by_id(self, user_id: str) -> User:
        """Raise UserNotFoundError when there is no such user."""
        ...

    def set_store_limit(self, user_id: str, max_live_stores: int | None) -> User:
        """Set how many live stores the user may own (None: its role's default); raise
        UserNotFoundError when there is no such user."""
        ...

    def add_token(self, token: ApiToken) -> ApiToken: ...

    def tokens(self, user_id: str | None = None) -> list[ApiToken]: ...

    def revoke_token(self, token_id: str, *, now: datetime) -> ApiToken:
        """Mark the token revoked (idempotent); raise TokenNotFoundError if unknown."""
        ...

    def authenticate(self, token_hash: str) -> User | None:
        """The user an active token with this digest belongs to, or None."""
        ...

    def bootstrap(self, user: User, token: ApiToken) -> bool:
        """Create ``user`` and ``token`` only if there are no users at all; True if it did.
        Safe when several replicas start at once: exactly one of them bootstraps."""
        ...


class FleetReader(Protocol):
    """Fleet-wide reads for the console, computed by the database (counts, a bounded sample,
    the newest rows). ``owner_id`` restricts every figure to one owner's stores."""

    def summary(
        self, *, owner_id: str | None, sample: int = 100, failing: int = 10, events: int = 20
    ) -> FleetSummary: ...

    def recent_events(
        self, *, owner_id: str | None, limit: int, after_id: int | None = None
    ) -> list[FleetEvent]:
        """Newest first; with ``after_id``, the oldest ``limit`` after it, oldest first."""
        ...

    def live_stores_by_owner(self) -> dict[str, int]: ...

    def latest_event_id(self) -> int: ...


class NamespacePhase(StrEnum):
    ABSENT = "Absent"
    ACTIVE = "Active"
    TERMINATING = "Terminating"


@dataclass(frozen=True, slots=True)
class ObjectRef:
    api_version: str
    kind: str
    name: str
    namespace: str | None = None

    def __str__(self) -> str:
        where = f"{self.namespace}/" if self.namespace else ""
        return f"{self.kind} {where}{self.name}"

    @classmethod
    def of(cls, manifest: Mapping[str, Any]) -> ObjectRef:
        meta = manifest.get("metadata", {})
        return cls(
            api_version=str(manifest["apiVersion"]),
            kind=str(manifest["kind"]),
            name=str(meta["name"]),
            namespace=meta.get("namespace"),
        )


@dataclass(frozen=True, slots=True)
class LiveObject:
    """An object storeplane owns, as the cluster reports it."""

    ref: ObjectRef
    manifest: Manifest  # as the API server returned it (with status and server defaults)
    ready: bool
    readiness_message: str  # why it is not ready, in words; empty when ready


@dataclass(frozen=True, slots=True)
class NamespaceStatus:
    phase: NamespacePhase
    message: str = ""  # for Terminating: what is still blocking it, when the cluster says
    manifest: Manifest | None = None  # the live namespace object, when it exists


# The service proxy's hint of what answered (CONTRACTS A, set by storeplane's simulator only).
RUNTIME_HEADER = "x-storeplane-sim-runtime"
SIMULATED_IMAGES_HEADER = "x-storeplane-sim-simulated-images"


@dataclass(frozen=True, slots=True)
class ServiceAnswer:
    """What a Service answered through the API server's proxy, with the simulator's hint.

    ``runtime`` is the ``X-Storeplane-Sim-Runtime`` header as sent ("local", "simulated"), None
    when absent (a real cluster sends none); ``simulated_images`` the images the simulator
    said have no local runtime."""

    status: int
    body: str
    runtime: str | None = None
    simulated_images: tuple[str, ...] = ()

    @classmethod
    def from_headers(cls, status: int, body: str, headers: Mapping[str, str]) -> ServiceAnswer:
        lowered = {k.lower(): v for k, v in headers.items()}
        images = lowered.get(SIMULATED_IMAGES_HEADER, "")
        return cls(
            status=status,
            body=body,
            runtime=lowered.get(RUNTIME_HEADER) or None,
            simulated_images=tuple(i.strip() for i in images.split(",") if i.strip()),
        )


@dataclass(frozen=True, slots=True)
class PodSummary:
    """A pod of a store, as the logs endpoint lists it."""

    name: str
    phase: str
    containers: tuple[str, ...]
    init_containers: tuple[str, ...] = ()

    @property
    def all_containers(self) -> tuple[str, ...]:
        return (*self.init_containers, *self.containers)


class PodLogsPort(Protocol):
    """Read access to a store's pods and their containers' output (the pods/log subresource).
    The cluster adapter implements it; ``runtime.py`` hands it to the API, which does not
    import the adapter."""

    async def pods(self, namespace: str) -> list[PodSummary]:
        """The namespace's pods, by name."""
        ...

    async def pod_log(self, namespace: str, pod: str, container: str, *, tail: int | None) -> str:
        """The container's output (its last ``tail`` lines). Raises PodNotFoundError when the
        cluster has no such pod, InvalidTransitionError when it has no output to give yet
        (the container is waiting to start: the message says why), RetryableError when the
        cluster does not answer."""
        ...


class StoreObjectsPort(Protocol):
    """A store's namespace and every object storeplane applies to it, live, with health (the
    store inventory in ``reconciler/inventory.py``; ``runtime.py`` hands it to the API, which
    does not import the reconciler)."""

    async def objects(self, store: Store) -> list[StoreObject]:
        """The namespace first, then every rendered or live object (pods after the workloads
        that own them). Raises RetryableError when the cluster does not answer."""
        ...


@dataclass(frozen=True, slots=True)
class NodeProcess:
    pod: str
    container: str
    pid: int

    def __str__(self) -> str:
        return f"{self.pod}/{self.container} (pid {self.pid})"


@dataclass(frozen=True, slots=True)
class NodeResidue:
    """What storeplane's simulator still has on its node for a namespace (CONTRACTS D):
    processes alive and folders on disk of its pods and claims."""

    processes: tuple[NodeProcess, ...] = ()
    folders: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return not self.processes and not self.folders


class ClusterPort(Protocol):
    """What the reconciler needs from a Kubernetes API server."""

    async def namespace_status(self, name: str) -> NamespaceStatus: ...

    async def apply(self, manifest: Manifest) -> Manifest:
        """Server-side apply one object (field manager ``storeplane``, forced); returns the
        object as the API server stored it."""
        ...

    async def create_if_absent(self, manifest: Manifest) -> bool:
        """Create the object unless it exists; True if it was created. For objects whose content
        must never be replaced once made, such as generated secrets."""
        ...

    async def get(self, ref: ObjectRef) -> Manifest | None:
        """The object as the API server has it now (never from a cache), or None."""
        ...

    async def list_labelled(
        self, api_version: str, kind: str, namespace: str, labels: dict[str, str]
    ) -> list[Manifest]:
        """Objects of one kind in ``namespace`` carrying ``labels`` (read live)."""
        ...

    async def pod_log(self, namespace: str, pod: str, container: str, *, tail: int | None) -> str:
        """A container's output (see :class:`PodLogsPort`)."""
        ...

    async def list_owned(self, store_id: str, namespace: str) -> list[LiveObject]:
        """Every object in ``namespace`` labelled for the store, of every kind storeplane applies."""
        ...

    async def delete(self, ref: ObjectRef) -> None:
        """Delete an object; deleting an absent object is not an error."""
        ...

    async def find_residue(self, store_id: str) -> list[ObjectRef]:
        """Every object labelled for the store anywhere in the cluster, namespaced or not."""
        ...

    async def node_residue(self, namespace: str) -> NodeResidue | None:
        """What the simulator's node still runs or keeps on disk for ``namespace``; None when
        the cluster has no such endpoint (a real cluster: 404) or does not let storeplane ask
        (403), so nothing can be said."""
        ...

    async def record_event(self, namespace: str, type_: str, reason: str, message: str) -> None:
        """Post a Kubernetes Event about the namespace, so `kubectl get events` tells the story
        too. Best effort: the caller ignores failures."""
        ...

    async def read_secret(self, namespace: str, name: str) -> dict[str, str] | None:
        """The Secret's values, decoded to text (None if it does not exist). Only the smoke
        check reads one (the store's admin password); nothing caches or logs the values."""
        ...

    async def service_get(
        self, namespace: str, service: str, port: int, path: str
    ) -> ServiceAnswer:
        """GET ``path`` on a Service through the API server's proxy: status, body and the
        simulator's runtime hint."""
        ...


class WriteKind(StrEnum):
    """What a step does to one object (how the next pass tells whether it took effect)."""

    APPLY = "apply"  # server-side apply: took effect if storeplane's field manager wrote since
    CREATE = "create"  # create if absent: took effect if the object was created since
    DELETE = "delete"  # took effect if the object is gone or being deleted


@dataclass(frozen=True, slots=True)
class PlannedWrite:
    kind: WriteKind
    ref: ObjectRef


@dataclass(frozen=True, slots=True)
class StepIntent:
    """A step recorded *before* its cluster writes (``reconciler/steps.py``): the event it
    becomes once done, and the writes it plans. Completed into that event after the writes;
    if the process dies or the database goes away in between, the next pass of the store reads
    the planned objects from the cluster and completes it from what took effect."""

    id: str
    store_id: str
    time: datetime
    type: str  # EventType value
    reason: str
    message: str  # may contain ``{objects}``: the objects that took effect, in words
    actor: str
    generation: int
    writes: tuple[PlannedWrite, ...]


class StepJournal(Protocol):
    """The database side of step recording (``storeplane.db.steps`` implements it). Each call is
    one transaction; outages raise DatabaseUnavailableError."""

    def begin(self, store: Store, intent: StepIntent, unsaved: Sequence[Event]) -> list[Event]:
        """Record ``unsaved`` (the pass's events so far, in order) and the intent, and save the
        store's phase: all or nothing. Raise LeaseLostError if this process no longer holds the
        store's lease (it must not write to the cluster then). Returns ``unsaved`` with ids."""
        ...

    def complete(self, intent_id: str, event: Event | None) -> Event | None:
        """Delete the intent and insert ``event`` (None: nothing took effect) in one
        transaction. Returns the event with its id; None if the intent was already completed
        (by another process that took the store over) or ``event`` is None."""
        ...

    def pending(self, store_id: str) -> list[StepIntent]:
        """The store's intents not yet completed, oldest first."""
        ...

    def pending_stores(self) -> list[str]:
        """Stores with intents not yet completed (looked at when a process starts)."""
        ...


class StoreObjectPort(Protocol):
    """The Store custom resources of the cluster (storeplane/cluster/store_objects.py): what
    the store-object watcher (services/store_objects.py) reads and writes."""

    async def installed(self) -> bool:
        """True when the cluster serves the Store CRD (``stores.storeplane.dev``)."""
        ...

    async def list_objects(self) -> tuple[list[StoreKubeObject], str]:
        """Every Store object (all namespaces) and the list's resourceVersion."""
        ...

    def watch(self, resource_version: str) -> AsyncIterator[tuple[str, StoreKubeObject]]:
        """ADDED/MODIFIED/DELETED events after ``resource_version``; ends or raises when
        the watch breaks (the caller lists again)."""
        ...

    async def write_status(
        self, obj: StoreKubeObject, status: Mapping[str, Any]
    ) -> StoreKubeObject:
        """Replace the object's status (the status subresource); the object as written."""
        ...

    async def set_finalizer(self, obj: StoreKubeObject, present: bool) -> StoreKubeObject | None:
        """Add or remove ``storeplane.dev/teardown``, guarded by the object's
        resourceVersion (a changed object is read again first); the object as written, or
        None once it is gone."""
        ...
