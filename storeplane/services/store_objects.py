"""The store-object watcher: Kubernetes Store objects as the second front door.

Started by :func:`storeplane.runtime.run` when ``Settings.watch_store_objects`` is on (the
default); it waits until the cluster serves the Store CRD. It lists every Store object,
then watches from that list (a broken or expired watch lists again, and a restart starts
with a list: every object is resynced), and for each object:

- **new** -> the finalizer ``storeplane.dev/teardown`` is added, then the store is created
  through :func:`storeplane.services.stores.create_store`, owned by the object
  (``Store.managed_by`` = ``Store <ns>/<name>``) and idempotent on the object's uid: a crash
  between seeing the object and recording the store, or two replicas, still make one store;
- **spec changed** -> the same service calls a PATCH makes (``update_store`` for the plan
  and ``engineVersion``, ``change_labels``, ``change_domains``; the domains of a new object
  too, right after its create); the engine and the name cannot change (the status says so);
- **deleted** (``deletionTimestamp``) -> ``delete_store``; the finalizer is removed once the
  store is Deleted with its teardown verified, so ``kubectl delete`` returns then;
- **refused** (name taken, the store limit, a domain another store has, a rule the schema
  cannot express) -> the API's own 4xx wording in ``status.message`` (with phase ``Failed``
  and the ``Accepted`` condition when no store was made); it is tried again on a spec
  change and every ten status rounds (10 s).

Events name the object and the field manager that last wrote its spec as their actor
(``Store default/shop (kubectl-client-side-apply)``). Every second the status of every
object is compared with its store and written back (status subresource) when it differs,
so each phase or condition change shows in ``kubectl get stores -w``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import replace
from typing import Any, TypeVar

from storeplane.db.outage import note_outage
from storeplane.domain.domains import validate_domains
from storeplane.domain.errors import (
    DomainTakenError,
    InvalidRequestError,
    NameTakenError,
    StoreLimitError,
)
from storeplane.domain.ports import StoreObjectPort, StoreRepository
from storeplane.domain.store import Phase, Store
from storeplane.domain.store_objects import (
    FINALIZER,
    StoreKubeObject,
    object_status,
    spec_of,
    teardown_verified,
)
from storeplane.domain.users import User
from storeplane.services import stores
from storeplane.settings import Settings

log = logging.getLogger(__name__)
T = TypeVar("T")
REFUSED = (InvalidRequestError, NameTakenError, StoreLimitError, DomainTakenError)
RETRY_REFUSED_ROUNDS = 10  # status rounds between new attempts at refused objects


def _version(resource_version: str) -> int:
    # Opaque to clients in general; both the simulator and etcd-backed servers use integers.
    return int(resource_version) if resource_version.isdigit() else 0


class StoreObjectSync:
    """One watcher per storeplane process (replicas may each run one: every write is
    idempotent or guarded). ``door`` is the user stores made from objects belong to."""

    def __init__(
        self,
        repo: StoreRepository,
        objects: StoreObjectPort,
        settings: Settings,
        door: User,
        *,
        on_change: Callable[[str], None] | None = None,
        status_interval: float = 1.0,
        install_poll: float = 5.0,
    ) -> None:
        self._repo = repo
        self._port = objects
        self._settings = settings
        self._door = door
        self._on_change = on_change or (lambda _store_id: None)
        self._status_interval = status_interval
        self._install_poll = install_poll
        self._objects: dict[str, StoreKubeObject] = {}  # uid -> the latest version seen
        self._refusals: dict[str, str] = {}  # uid -> why its spec was refused
        self._handled: dict[str, int] = {}  # uid -> the generation acted on
        self.synced = asyncio.Event()  # set after the first full list was handled

    async def _db(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        return await asyncio.to_thread(fn, *args, **kwargs)

    async def run(self, stop: asyncio.Event) -> None:
        tasks = [
            asyncio.create_task(self._watch_loop(), name="store-objects watch"),
            asyncio.create_task(self._status_loop(), name="store-objects status"),
        ]
        await stop.wait()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    # --- watching ---------------------------------------------------------------------------

    async def _watch_loop(self) -> None:
        announced = False
        while True:
            try:
                if not await self._port.installed():
                    if not announced:
                        log.info("the Store CRD is not installed; not watching Store objects")
                        announced = True
                    await asyncio.sleep(self._install_poll)
                    continue
                objects, version = await self._port.list_objects()
                self._objects = {o.uid: o for o in objects}
                for obj in objects:
                    await self._handle_safely(obj)
                self.synced.set()
                async for event, obj in self._port.watch(version):
                    if event == "DELETED":
                        self._forget(obj.uid)
                    elif event in ("ADDED", "MODIFIED"):
                        self._objects.setdefault(obj.uid, obj)
                        self._remember(obj)
                        await self._handle_safely(obj)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # a broken watch or an unreachable cluster: list again
                log.info("watch on Store objects interrupted (%s); listing again", exc)
                await asyncio.sleep(1.0)

    def _forget(self, uid: str) -> None:
        self._objects.pop(uid, None)
        self._refusals.pop(uid, None)
        self._handled.pop(uid, None)

    async def _handle_safely(self, obj: StoreKubeObject) -> None:
        try:
            await self.handle(obj)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # an outage is logged once (db/outage.py), a bug here
            if not note_outage(exc):
                log.exception("could not act on %s; trying again on its next event", obj.ref)

    def _user(self, obj: StoreKubeObject) -> User:
        return replace(self._door, name=obj.actor, via_object=obj.ref)

    async def handle(self, obj: StoreKubeObject) -> None:
        """Bring the object's store to what the object says (idempotent)."""
        store = await self._db(self._repo.by_managed_uid, obj.uid)
        user = self._user(obj)
        if obj.deleting:
            if store is not None and not store.is_deleting and store.phase != Phase.DELETED:
                store = await self._db(stores.delete_store, self._repo, store.id, user)
                self._on_change(store.id)
            await self._sync_status(obj, store)
            return
        if FINALIZER not in obj.finalizers:
            # First, so that a delete from now on waits for the teardown.
            self._remember(await self._port.set_finalizer(obj, True))
        done = store is not None or obj.uid in self._refusals
        if self._handled.get(obj.uid) == obj.generation and done:
            return
        refusal = None
        try:
            spec = spec_of(obj)
            if store is None:
                # Bad domains refuse the object before any store is made.
                validate_domains(spec.domains, self._settings.base_domain)
                store = await self._db(
                    stores.create_store, self._repo, replace(spec, domains=()),
                    self._settings, user, object_uid=obj.uid,
                )  # fmt: skip
                self._on_change(store.id)
            # The domains (on create too: they are claimed as a PATCH claims them).
            store = await self._db(self._converge, store, obj, user)
            self._on_change(store.id)
        except REFUSED as exc:
            refusal = str(exc)  # the API's 4xx wording
            log.info("%s refused: %s", obj.ref, refusal)
        if refusal:
            self._refusals[obj.uid] = refusal
        else:
            self._refusals.pop(obj.uid, None)
        self._handled[obj.uid] = obj.generation
        await self._sync_status(obj, store)

    def _converge(self, store: Store, obj: StoreKubeObject, user: User) -> Store:
        """The spec changes as PATCH makes them (synchronous: runs in a worker thread)."""
        if store.is_deleting or store.phase == Phase.DELETED:
            return store
        spec = spec_of(obj)
        if spec.engine != store.spec.engine:
            raise InvalidRequestError(
                f"engine cannot be changed: store {store.id} runs {store.spec.engine.value}; "
                "delete this object and create a new one for another engine",
                field="engine",
            )
        if spec.name != store.spec.name:
            raise InvalidRequestError(
                f"name cannot be changed: store {store.id} is called {store.spec.name!r}",
                field="name",
            )
        # One write for the whole spec, as a PATCH: a refused field changes none of the others.
        # An object that names no engine version leaves the store's as it is.
        return stores.patch_store(
            self._repo,
            store.id,
            self._settings,
            user,
            plan=spec.plan,
            engine_version=spec.engine_version or None,
            labels=spec.labels,
            domains=spec.domains,
        )

    # --- status -----------------------------------------------------------------------------

    async def _status_loop(self) -> None:
        rounds = 0
        while True:
            await asyncio.sleep(self._status_interval)
            rounds += 1
            if rounds % RETRY_REFUSED_ROUNDS == 0:
                # A refusal may have gone away (the name freed, a store deleted): try again.
                for uid in list(self._refusals):
                    refused = self._objects.get(uid)
                    if refused is not None:
                        self._handled.pop(uid, None)
                        await self._handle_safely(refused)
            for obj in list(self._objects.values()):
                try:
                    store = await self._db(self._repo.by_managed_uid, obj.uid)
                    await self._sync_status(obj, store)
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # the next round tries again
                    log.debug("status of %s not written (%s)", obj.ref, exc)

    async def _sync_status(self, obj: StoreKubeObject, store: Store | None) -> None:
        """Write the status when it differs; drop the finalizer once the teardown is done."""
        current = self._objects.get(obj.uid, obj)
        if (
            current.deleting
            and FINALIZER in current.finalizers
            and (store is None or teardown_verified(store))
        ):
            self._remember(await self._port.set_finalizer(current, False))
            return
        refusal = self._refusals.get(obj.uid)
        if store is None and refusal is None:
            return
        wanted = object_status(store, current, refusal=refusal)
        if wanted == dict(current.status):
            return
        self._remember(await self._port.write_status(current, wanted))

    def _remember(self, obj: StoreKubeObject | None) -> None:
        """Keep the newest version of an object seen (a write's answer may arrive after the
        watch brought a newer one, or before)."""
        if obj is None or obj.uid not in self._objects:
            return
        known = self._objects[obj.uid]
        if _version(obj.resource_version) >= _version(known.resource_version):
            self._objects[obj.uid] = obj
