"""``AuthCache``: remember which user a token digest authenticated, for as long as *nothing*
was committed to the database since — by any connection of any process.

Used by :class:`storeplane.db.users.SqlUserRepository` (``authenticate`` fills it,
``cached_user`` reads it); the API answers a request whose token is in it without a database
query and without a trip through the thread pool.

Invalidation crosses processes because it is SQLite's own: ``PRAGMA data_version`` on a
connection of the cache's changes whenever another connection (another thread's, another API
process's, ``storeplane tokens revoke`` in a shell) commits to the file, and reading it costs
about 1.5 µs (it reads the WAL index in shared memory). On a change the whole cache is dropped,
so a revoked token, a deleted user or a changed role is refused on the very next request.
The price: while the reconciler writes (status, events), the cache is dropped at every commit
and authentication costs its query as before, so the cache only ever saves work.

Only SQLite files get a cache. PostgreSQL has no cheap synchronous "did anything commit?"
(LISTEN/NOTIFY arrives late, so a revoked token could pass once), and its replicas may be on
other machines: there every request looks its token up.
"""

from __future__ import annotations

import sqlite3
from threading import Lock

from sqlalchemy import Engine

from storeplane.domain.users import User

_MAX_ENTRIES = 10_000


class AuthCache:
    def __init__(self, path: str) -> None:
        # Never writes, so its own commits can never hide another's from data_version.
        self._connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._lock = Lock()
        self._version = -1
        self._entries: dict[str, User] = {}

    @classmethod
    def for_engine(cls, engine: Engine) -> AuthCache | None:
        """A cache for an SQLite file database; None for anything else."""
        url = engine.url
        database = url.database
        if url.get_backend_name() != "sqlite" or not database or database == ":memory:":
            return None
        if database.startswith("file:") or url.query:
            return None  # URI databases may be shared-cache or in memory: stay uncached
        return cls(database)

    def version(self) -> int:
        """The database's data version now; pass it to :meth:`put` after the lookup."""
        with self._lock:
            version: int = self._connection.execute("PRAGMA data_version").fetchone()[0]
            if version != self._version:
                self._entries.clear()
                self._version = version
            return version

    def get(self, token_hash: str) -> User | None:
        """The cached user, if nothing was committed since it was looked up."""
        self.version()
        return self._entries.get(token_hash)

    def put(self, token_hash: str, user: User, version: int) -> None:
        """Remember ``user`` for ``token_hash``, looked up after :meth:`version` said
        ``version``; dropped if anything committed in between."""
        with self._lock:
            if version != self._version:
                return
            if len(self._entries) >= _MAX_ENTRIES:
                self._entries.clear()
            self._entries[token_hash] = user

    def close(self) -> None:
        self._connection.close()
