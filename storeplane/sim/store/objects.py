"""The object store: every object by (resource, namespace, name), plus optional persistence.

Owned by :class:`storeplane.sim.store.cluster.Cluster`, which is the only writer; nothing else
should call ``put``/``delete``. Objects are plain JSON-able dicts. ``get`` and
``list_objects`` return deep copies, which callers may change; ``peek``, ``values`` and
``list_objects(copies=False)`` return the stored objects for reading only (the fast path
for serialising a response or a controller's look). ``put`` takes ownership of the object:
the cluster never changes an object after storing it, it stores a new one.

With a state file, every change is written through to SQLite (WAL) in one transaction
together with the cluster-wide resourceVersion counter, so a process killed with SIGKILL
and restarted on the same file finds the cluster exactly as the last answered request left
it. Controller timers (``timers`` table) are stored the same way, so pending work such as a
ready delay or a namespace termination resumes after a restart.
"""

from __future__ import annotations

import contextlib
import copy
import gc
import json
import logging
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar, cast

logger = logging.getLogger(__name__)

Obj = dict[str, Any]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS objects (
    resource TEXT NOT NULL, namespace TEXT NOT NULL, name TEXT NOT NULL, body TEXT NOT NULL,
    PRIMARY KEY (resource, namespace, name));
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS timers (
    resource TEXT NOT NULL, namespace TEXT NOT NULL, name TEXT NOT NULL,
    controller TEXT NOT NULL, due REAL NOT NULL, generation INTEGER NOT NULL,
    PRIMARY KEY (resource, namespace, name, controller));
"""


_ATOMS = (str, int, float, bool, type(None))
# A state file with at least this many objects has its loaded heap frozen (see _open); the
# small ones the tests start many simulators on are left alone.
FREEZE_AFTER = 10_000
LOAD_BATCH = 1000  # objects decoded by one json.loads when a state file is loaded
T = TypeVar("T")


def json_copy(value: T) -> T:
    """A deep copy of a JSON-shaped value (dicts, lists, strings, numbers, booleans, None),
    ~9x faster than ``copy.deepcopy`` on a Deployment, which was a sixth of the simulator's
    CPU. Anything else inside (never in a stored object) is copied by ``copy.deepcopy``.
    Unlike deepcopy it does not keep two references to one sub-object as one: stored objects
    are trees."""
    return cast(T, _copy(value))


def _copy(value: Any) -> Any:
    kind = type(value)
    if kind is dict:
        return {k: v if type(v) in _ATOMS else _copy(v) for k, v in value.items()}
    if kind is list:
        return [v if type(v) in _ATOMS else _copy(v) for v in value]
    if kind in _ATOMS:
        return value
    return copy.deepcopy(value)


def read_meta(path: Path, key: str) -> str | None:
    """One setting from a state file without loading its objects (None if absent)."""
    if not path.exists():
        return None
    db = sqlite3.connect(path)
    try:
        db.executescript(_SCHEMA)
        row = db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    finally:
        db.close()
    return str(row[0]) if row else None


def write_meta(path: Path, key: str, value: str) -> None:
    """Keep one setting in a state file before a store opens it (the runner's TLS pair)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path)
    try:
        db.executescript(_SCHEMA)
        with db:
            db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))
    finally:
        db.close()


@dataclass(frozen=True, order=True)
class ObjectKey:
    """Where an object lives: ``resource`` is the qualified name, e.g. ``deployments.apps``;
    ``namespace`` is ``""`` for cluster-scoped objects."""

    resource: str
    namespace: str
    name: str


@dataclass(frozen=True)
class Timer:
    """Work a controller must do on ``key`` at wall-clock time ``due`` (epoch seconds),
    valid while the object is still at ``generation``."""

    key: ObjectKey
    controller: str
    due: float
    generation: int


class ObjectStore:
    def __init__(self, path: Path | None = None) -> None:
        self._objects: dict[str, dict[str, dict[str, Obj]]] = {}
        self._timers: dict[tuple[ObjectKey, str], Timer] = {}
        # Indexes for garbage collection: uid -> key, and owner uid -> dependents' keys.
        self._by_uid: dict[str, ObjectKey] = {}
        self._dependents: dict[str, set[ObjectKey]] = {}
        # Label index per resource: (key, value) -> {(namespace, name)}, so a list by label
        # equality across 20,000 namespaces looks only at the matching objects.
        self._labels: dict[str, dict[tuple[str, str], set[tuple[str, str]]]] = {}
        self._rv = 0
        # While a dry run is under way: each key it wrote -> the object (and timers) before.
        self._undo: dict[ObjectKey, tuple[Obj | None, list[Timer]]] | None = None
        self._meta: dict[str, str] = {}
        self._db: sqlite3.Connection | None = None
        if path is not None:
            self._open(path)

    # --- persistence ---

    def _open(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        # All access happens on the server's event loop, one call at a time.
        db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.executescript(_SCHEMA)
        self._db = db
        # The cyclic garbage collector would walk the growing heap again and again while
        # millions of containers are made (two thirds of the load's CPU at 85,000 objects):
        # JSON trees have no cycles, so it is off while loading.
        collecting = gc.isenabled()
        gc.disable()
        try:
            rows = db.execute("SELECT resource, namespace, name, body FROM objects")
            while batch := rows.fetchmany(LOAD_BATCH):
                # One json.loads for the batch: its key memo then holds one string per key
                # for all of them ("metadata", "managedFields"... are most of an object's
                # memory as Python): 25 % less memory than one loads per object, and faster.
                bodies = json.loads("[" + ",".join(row[3] for row in batch) + "]")
                for (resource, namespace, name, _), obj in zip(batch, bodies, strict=True):
                    self._objects.setdefault(resource, {}).setdefault(namespace, {})[name] = obj
                    self._index(ObjectKey(resource, namespace, name), None, obj)
        finally:
            if collecting:
                gc.enable()
        if self.count() >= FREEZE_AFTER:
            # And what was loaded is left out of later collections (gc.freeze: the permanent
            # generation), or each full one would walk it all, seconds at 100,000 objects,
            # during which no request is answered. Objects replaced later are still freed
            # (by reference counting: they are trees).
            gc.freeze()
        row = db.execute("SELECT value FROM meta WHERE key = 'resourceVersion'").fetchone()
        self._rv = int(row[0]) if row else 0
        for resource, namespace, name, controller, due, generation in db.execute(
            "SELECT resource, namespace, name, controller, due, generation FROM timers"
        ):
            key = ObjectKey(resource, namespace, name)
            self._timers[(key, controller)] = Timer(key, controller, due, generation)
        logger.info(
            "loaded %d objects and %d timers from %s (resourceVersion %d)",
            sum(len(names) for spaces in self._objects.values() for names in spaces.values()),
            len(self._timers),
            path,
            self._rv,
        )

    def _write(self, statements: list[tuple[str, tuple[Any, ...]]]) -> None:
        if self._db is None or self._undo is not None:
            return
        self._db.execute("BEGIN")
        try:
            for sql, params in statements:
                self._db.execute(sql, params)
            self._db.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES ('resourceVersion', ?)",
                (str(self._rv),),
            )
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise

    def get_meta(self, key: str) -> str | None:
        """A setting kept with the objects (e.g. the token signing key), or None."""
        if self._db is None:
            return self._meta.get(key)
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return str(row[0]) if row else None

    def set_meta(self, key: str, value: str) -> None:
        """Keep a setting with the objects (written through to the state file, if any)."""
        self._meta[key] = value
        if self._db is not None:
            self._db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    # --- objects ---

    @property
    def resource_version(self) -> int:
        """The last resourceVersion handed out (the list resourceVersion)."""
        return self._rv

    def next_resource_version(self) -> str:
        """Reserve the next resourceVersion; persisted with the following put/delete."""
        self._rv += 1
        return str(self._rv)

    def count(self) -> int:
        """How many objects are stored."""
        return sum(len(names) for spaces in self._objects.values() for names in spaces.values())

    def get(self, key: ObjectKey) -> Obj | None:
        """A copy of the object, which the caller may change."""
        obj = self._objects.get(key.resource, {}).get(key.namespace, {}).get(key.name)
        return json_copy(obj) if obj is not None else None

    def peek(self, key: ObjectKey) -> Obj | None:
        """The stored object itself, for reading only (no copy: the fast path)."""
        return self._objects.get(key.resource, {}).get(key.namespace, {}).get(key.name)

    def values(self, resource: str, namespace: str) -> list[Obj]:
        """The stored objects of ``resource`` in one namespace, for reading only."""
        return list(self._objects.get(resource, {}).get(namespace, {}).values())

    def exists(self, key: ObjectKey) -> bool:
        return key.name in self._objects.get(key.resource, {}).get(key.namespace, {})

    def list_objects(
        self,
        resource: str,
        namespace: str | None = None,
        *,
        labels_equal: Iterable[tuple[str, str]] = (),
        name: str | None = None,
        where: Callable[[Obj], bool] | None = None,
        copies: bool = True,
    ) -> list[Obj]:
        """Copies of the objects of ``resource`` in ``namespace`` (all namespaces when None),
        sorted by (namespace, name). ``labels_equal`` pairs (looked up in the label index),
        ``name`` and the ``where`` predicate narrow the result before anything is copied.
        ``copies`` False returns the stored objects themselves, for reading only."""
        spaces = self._objects.get(resource, {})
        keys: Iterable[tuple[str, str]]
        pairs = list(labels_equal)
        if pairs:
            index = self._labels.get(resource, {})
            candidates = set(index.get(pairs[0], ()))
            for pair in pairs[1:]:
                candidates &= index.get(pair, set())
            keys = sorted(
                (ns, n)
                for ns, n in candidates
                if (namespace is None or ns == namespace) and (name is None or n == name)
            )
        elif name is not None:
            selected = [namespace] if namespace is not None else sorted(spaces)
            keys = [(ns, name) for ns in selected if name in spaces.get(ns, {})]
        else:
            selected = [namespace] if namespace is not None else sorted(spaces)
            keys = [(ns, n) for ns in selected if ns in spaces for n in sorted(spaces[ns])]
        result = []
        for ns, n in keys:
            obj = spaces[ns][n]
            if where is None or where(obj):
                result.append(json_copy(obj) if copies else obj)
        return result

    def keys_in_namespace(self, namespace: str) -> Iterator[ObjectKey]:
        for resource, spaces in self._objects.items():
            for name in list(spaces.get(namespace, {})):
                yield ObjectKey(resource, namespace, name)

    # --- indexes ---

    @staticmethod
    def _owner_uids(obj: Obj | None) -> set[str]:
        refs = ((obj or {}).get("metadata") or {}).get("ownerReferences") or []
        return {str(r["uid"]) for r in refs if isinstance(r, dict) and r.get("uid")}

    def _index(self, key: ObjectKey, old: Obj | None, new: Obj | None) -> None:
        old_labels = ((old or {}).get("metadata") or {}).get("labels") or {}
        new_labels = ((new or {}).get("metadata") or {}).get("labels") or {}
        if old_labels != new_labels:
            index = self._labels.setdefault(key.resource, {})
            where = (key.namespace, key.name)
            for pair in set(old_labels.items()) - set(new_labels.items()):
                members = index.get(pair)
                if members is not None:
                    members.discard(where)
                    if not members:
                        del index[pair]
            for pair in set(new_labels.items()) - set(old_labels.items()):
                if isinstance(pair[1], str):
                    index.setdefault(pair, set()).add(where)
        old_uid = ((old or {}).get("metadata") or {}).get("uid")
        new_uid = ((new or {}).get("metadata") or {}).get("uid")
        if old_uid and old_uid != new_uid:
            self._by_uid.pop(old_uid, None)
        if new_uid:
            self._by_uid[new_uid] = key
        before, after = self._owner_uids(old), self._owner_uids(new)
        for uid in before - after:
            dependents = self._dependents.get(uid)
            if dependents is not None:
                dependents.discard(key)
                if not dependents:
                    del self._dependents[uid]
        for uid in after - before:
            self._dependents.setdefault(uid, set()).add(key)

    def key_of_uid(self, uid: str) -> ObjectKey | None:
        """Where the object with this uid lives, if it exists."""
        return self._by_uid.get(uid)

    def dependents(self, uid: str) -> list[ObjectKey]:
        """Keys of the objects with an ownerReference to ``uid``, sorted."""
        return sorted(self._dependents.get(uid, ()))

    @contextlib.contextmanager
    def undone(self) -> Iterator[None]:
        """Every put and delete inside the block is undone when it ends and none reaches the
        state file; resourceVersions handed out are taken back too. For ``dryRun=All``: the
        caller runs the real verb (admission, validation, garbage collection) and answers
        with its result, and the store is as it was. Calls are synchronous, so nothing else
        sees the intermediate state."""
        if self._undo is not None:
            raise RuntimeError("dry runs do not nest")
        undo: dict[ObjectKey, tuple[Obj | None, list[Timer]]] = {}
        self._undo, rv = undo, self._rv
        try:
            yield
        finally:
            self._undo = None
            for key, (before, timers) in undo.items():
                spaces = self._objects.setdefault(key.resource, {}).setdefault(key.namespace, {})
                self._index(key, spaces.get(key.name), before)
                if before is None:
                    spaces.pop(key.name, None)
                    if not spaces:
                        del self._objects[key.resource][key.namespace]
                else:
                    spaces[key.name] = before
                for timer in timers:
                    self._timers[(timer.key, timer.controller)] = timer
            self._rv = rv

    def _remember(self, key: ObjectKey) -> None:
        if self._undo is not None and key not in self._undo:
            timers = [t for (k, _), t in self._timers.items() if k == key]
            self._undo[key] = (self.peek(key), timers)

    def put(self, key: ObjectKey, obj: Obj) -> None:
        """Store ``obj``, which the store then owns: the caller must not change it after."""
        self._remember(key)
        spaces = self._objects.setdefault(key.resource, {}).setdefault(key.namespace, {})
        self._index(key, spaces.get(key.name), obj)
        spaces[key.name] = obj
        self._write(
            [
                (
                    "INSERT OR REPLACE INTO objects (resource, namespace, name, body) "
                    "VALUES (?, ?, ?, ?)",
                    (key.resource, key.namespace, key.name, json.dumps(obj)),
                )
            ]
        )

    def delete(self, key: ObjectKey) -> None:
        self._remember(key)
        spaces = self._objects.get(key.resource, {})
        self._index(key, spaces.get(key.namespace, {}).pop(key.name, None), None)
        if key.namespace in spaces and not spaces[key.namespace]:
            del spaces[key.namespace]
        doomed = [k for k in self._timers if k[0] == key]
        for timer_key in doomed:
            del self._timers[timer_key]
        where = "resource = ? AND namespace = ? AND name = ?"
        params = (key.resource, key.namespace, key.name)
        self._write(
            [
                (f"DELETE FROM objects WHERE {where}", params),
                (f"DELETE FROM timers WHERE {where}", params),
            ]
        )

    # --- timers ---

    def timers(self) -> list[Timer]:
        return sorted(self._timers.values(), key=lambda t: t.due)

    def get_timer(self, key: ObjectKey, controller: str) -> Timer | None:
        return self._timers.get((key, controller))

    def set_timer(self, timer: Timer) -> None:
        self._timers[(timer.key, timer.controller)] = timer
        k = timer.key
        self._write(
            [
                (
                    "INSERT OR REPLACE INTO timers "
                    "(resource, namespace, name, controller, due, generation) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    (k.resource, k.namespace, k.name, timer.controller, timer.due,
                     timer.generation),
                )
            ]
        )  # fmt: skip

    def clear_timer(self, key: ObjectKey, controller: str) -> None:
        if self._timers.pop((key, controller), None) is None:
            return
        self._write(
            [
                (
                    "DELETE FROM timers WHERE resource = ? AND namespace = ? AND name = ? "
                    "AND controller = ?",
                    (key.resource, key.namespace, key.name, controller),
                )
            ]
        )
