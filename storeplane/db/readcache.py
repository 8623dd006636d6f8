"""``ReadCache``: results of hot reads, kept for as long as *nothing* was committed to the
SQLite file since — by any connection of any process.

Two users, one instance each:
- :class:`storeplane.db.users.SqlUserRepository`: which user a token digest authenticated, so
  the API answers a request whose token is known without a query and without a thread-pool trip;
- :class:`storeplane.db.repository.SqlStoreRepository`: a store and a page of stores with its
  count (``get``, ``list_page`` and their ``cached_*`` variants, which the API calls on the
  event loop before it sends a read to the thread pool). A page without writes in between costs
  no query and no ``count(*)`` (0.3 ms of SQLite per page at 10,000 stores).

The invalidation is SQLite's own, so it crosses processes: ``PRAGMA data_version`` on this
never-writing connection changes whenever any other connection (another thread's, another API
process's of ``storeplane serve --api-processes N``, ``storeplane tokens revoke`` in a shell)
commits, and reading it costs about 1.5 µs (the WAL index in shared memory). On a change every
entry is dropped, so an answer from the cache is always the answer the query would give now: a
revoked token, a deleted user or a changed role is refused on the very next request. While the
reconciler commits (status, events), the cache is dropped at each commit and reads cost what
they did, so it only ever saves work.

Only SQLite files get a cache. PostgreSQL has no cheap synchronous "did anything commit?"
(LISTEN/NOTIFY arrives late, so a revoked token could pass once), and its replicas may be on
other machines: there every read runs its queries.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Hashable
from threading import Lock
from typing import Any

from sqlalchemy import Engine


class ReadCache:
    def __init__(self, path: str, max_entries: int = 4096) -> None:
        # Never writes, so its own commits can never hide another's from data_version.
        self._connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._max_entries = max_entries
        self._lock = Lock()
        self._version = -1
        self._entries: dict[Hashable, Any] = {}
        self.hits = 0

    @classmethod
    def for_engine(cls, engine: Engine, max_entries: int = 4096) -> ReadCache | None:
        """A cache for an SQLite file database; None for anything else."""
        url = engine.url
        database = url.database
        if url.get_backend_name() != "sqlite" or not database or database == ":memory:":
            return None
        if database.startswith("file:") or url.query:
            return None  # URI databases may be shared-cache or in memory: stay uncached
        return cls(database, max_entries)

    def lookup(self, key: Hashable) -> tuple[Any | None, int]:
        """The cached result for ``key`` (None if absent) and the data version now: pass the
        version to :meth:`put` with the result read after this call."""
        with self._lock:
            version: int = self._connection.execute("PRAGMA data_version").fetchone()[0]
            if version != self._version:
                self._entries.clear()
                self._version = version
                return None, version
            found = self._entries.get(key)
            if found is not None:
                self.hits += 1
            return found, version

    def put(self, key: Hashable, value: Any, version: int) -> None:
        """Remember ``value``, read after :meth:`lookup` said ``version``. A commit after that
        lookup moves the version on, and the next lookup drops the entry with all others."""
        with self._lock:
            if version != self._version:
                return
            if len(self._entries) >= self._max_entries:
                self._entries.clear()
            self._entries[key] = value

    def close(self) -> None:
        self._connection.close()


class SnapshotCache:
    """Results of hot reads on PostgreSQL, for one database snapshot at a time.

    The version is ``pg_current_snapshot()`` as text, read by the same statement as the result
    (:mod:`storeplane.db.pgreads`): equal snapshots mean no write transaction completed in
    between, anywhere, so an entry answers a request only when the request's own snapshot (read
    by its token check, on every request) equals the entry's. A result of another snapshot
    replaces them all. Used on the event loop; the lock only keeps it safe elsewhere.
    """

    def __init__(self, max_entries: int = 4096) -> None:
        self._max_entries = max_entries
        self._lock = Lock()
        self._version: str | None = None
        self._entries: dict[Hashable, Any] = {}
        self.hits = 0

    def get(self, key: Hashable, version: str | None) -> Any | None:
        with self._lock:
            if version is None or version != self._version:
                return None
            found = self._entries.get(key)
            if found is not None:
                self.hits += 1
            return found

    def put(self, key: Hashable, value: Any, version: str) -> None:
        with self._lock:
            if version != self._version:
                self._entries.clear()
                self._version = version
            if len(self._entries) >= self._max_entries:
                self._entries.clear()
            self._entries[key] = value
