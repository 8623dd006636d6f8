"""``PgReads``: the API's hot reads on PostgreSQL (a token, a store, a page of stores), made on
the event loop (:class:`storeplane.db.loopconnection.LoopConnection`: libpq driven from the
loop), one statement and one round trip each.

Called by :class:`storeplane.db.users.SqlUserRepository` (``authenticate_async``) and
:class:`storeplane.db.repository.SqlStoreRepository` (``get_async``, ``list_page_async``),
which the API's ``ApiRoute`` and ``api/cachedreads.py`` await instead of sending the sync
methods to the thread pool. Everything else keeps using the SQLAlchemy engine.

Why not the engine: a GET through it cost ~1.8 ms of the API process (bench/RESULTS.md): two
thread-pool trips (token, then read), and per trip a pool checkout with ``pool_pre_ping``
(``SELECT 1``), a ``BEGIN``, the query, and the ``ROLLBACK`` of reset-on-return, about four
round trips with a thread switch at each. Here a read is one statement on an autocommit
connection (no ``BEGIN``/``ROLLBACK``; each statement is its own snapshot, like SQLite's
``read_connection``), prepared on its first use on a connection, with no pre-ping: a statement that
fails on a connection the server dropped is retried once on a new one (reads are idempotent),
and a connection that cannot be made is the domain's ``DatabaseUnavailableError`` (503).

Each statement also returns ``pg_current_snapshot()`` of the snapshot it read in. Two equal
snapshots mean no write transaction completed in between (a commit either leaves the list of
running transactions or moves ``xmax``), in any process or replica using this server: the
store cache (:class:`storeplane.db.readcache.SnapshotCache`) keeps the answers of one snapshot,
and the token check, run on *every* request, says which snapshot the request is at. So a
revoked token is refused on the very next request (it is never cached) and a cached store or
page is exactly what the query would answer at that request's snapshot.

Connections are made lazily per event loop (after a fork, in each API process) and at most
``max_connections`` at once; they are closed by :meth:`close` or when another loop takes over.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable, Sequence
from contextvars import ContextVar
from typing import Any

import psycopg
from sqlalchemy import Engine, Text, func, literal, select, true
from sqlalchemy.sql import Select
from sqlalchemy.sql.cache_key import CacheKey
from sqlalchemy.sql.elements import ColumnElement

from storeplane.db.loopconnection import LoopConnection
from storeplane.domain.errors import DatabaseUnavailableError

# The snapshot the current request's token check read in (set by
# SqlUserRepository.authenticate_async; each request runs in its own asyncio task, so its own
# context). None: no snapshot known, the cache is not consulted.
request_snapshot: ContextVar[str | None] = ContextVar("storeplane_request_snapshot", default=None)

_MAX_SHAPES = 512
_registry: weakref.WeakKeyDictionary[Engine, PgReads] = weakref.WeakKeyDictionary()


def snapshot_column() -> ColumnElement[Any]:
    return func.pg_current_snapshot().cast(Text).label("snapshot")


def one_row(inner: Select[Any], *outer: ColumnElement[Any]) -> Select[Any]:
    """``SELECT snapshot, outer..., inner.* FROM (SELECT 1) LEFT JOIN (inner) ON true``: at
    least one row, so the snapshot comes back when ``inner`` finds nothing."""
    sub = inner.subquery("found")
    one = select(literal(1).label("one")).subquery("one")
    return select(snapshot_column(), *outer, *sub.c).select_from(one.outerjoin(sub, true()))


class Compiled:
    """A statement compiled once for psycopg: its SQL and how to build its parameters."""

    def __init__(
        self, statement: Select[Any], engine: Engine, cache_key: CacheKey | None = None
    ) -> None:
        # With its cache key, the compiled form takes another statement of the same shape's
        # values (:meth:`params_for`), as SQLAlchemy's own compiled cache does.
        compiled = statement.compile(dialect=engine.dialect, cache_key=cache_key)
        self.sql = compiled.string
        self._compiled = compiled
        self._processors: dict[str, Callable[[Any], Any]] = {
            name: processor
            for name, processor in compiled._bind_processors.items()
            if callable(processor)
        }
        # The statement's own values, processed once; a call only adds the named ones.
        self._defaults = self._processed(dict(compiled.construct_params(_check=False)))

    def params(self, values: dict[str, Any] | None = None) -> dict[str, Any]:
        if not values:
            return dict(self._defaults)
        return {**self._defaults, **self._processed(values)}

    def params_for(self, cache_key: CacheKey) -> dict[str, Any]:
        """The parameters of a statement with the same shape whose cache key this is."""
        params = self._compiled.construct_params(
            extracted_parameters=cache_key.bindparams, _check=False
        )
        return self._processed(dict(params))

    def _processed(self, params: dict[str, Any]) -> dict[str, Any]:
        for name, processor in self._processors.items():
            if name in params:
                params[name] = processor(params[name])
        return params


class PgReads:
    def __init__(self, engine: Engine, max_connections: int = 8) -> None:
        self.engine = engine
        _args, kwargs = engine.dialect.create_connect_args(engine.url)
        self._connect_kwargs = {"connect_timeout": 3, **kwargs, "autocommit": True}
        self._max = max_connections
        self._loop: asyncio.AbstractEventLoop | None = None
        self._idle: list[LoopConnection] = []
        self._slots: asyncio.Semaphore | None = None
        self.statements = 0
        self._shapes: dict[Any, Compiled] = {}

    @classmethod
    def for_engine(cls, engine: Engine) -> PgReads | None:
        """The one instance for a PostgreSQL (psycopg) engine; None for anything else."""
        if engine.dialect.name != "postgresql" or engine.dialect.driver != "psycopg":
            return None
        found = _registry.get(engine)
        if found is None:
            found = _registry[engine] = cls(engine)
        return found

    def prepare(self, statement: Select[Any]) -> tuple[str, dict[str, Any]]:
        """SQL and parameters of a statement built per request (a page's filters): compiled
        once per shape (compiling one cost more than running it), keyed as SQLAlchemy keys
        its own cache."""
        cache_key = statement._generate_cache_key()
        if cache_key is None:  # pragma: no cover - every statement here is cacheable
            compiled = Compiled(statement, self.engine)
            return compiled.sql, compiled.params()
        found = self._shapes.get(cache_key.key)
        if found is None:
            if len(self._shapes) >= _MAX_SHAPES:
                self._shapes.clear()
            found = self._shapes[cache_key.key] = Compiled(statement, self.engine, cache_key)
        return found.sql, found.params_for(cache_key)

    async def rows(self, sql: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
        """All rows of one statement; DatabaseUnavailableError when the server is away."""
        slots = self._bind_loop()
        async with slots:
            for attempt in (1, 2):
                connection = self._idle.pop() if self._idle else None
                fresh = connection is None
                if connection is None:
                    connection = await self._connect()
                try:
                    found = await connection.rows(sql, params)
                except psycopg.OperationalError as exc:
                    connection.close()
                    if fresh or attempt == 2:
                        raise DatabaseUnavailableError(_cause(exc)) from exc
                    continue  # the server dropped an idle connection (a restart): once more
                except BaseException:
                    connection.close()  # cancelled or failed mid-statement: state unknown
                    raise
                self.statements += 1
                self._idle.append(connection)
                return found
        raise AssertionError("unreachable")  # pragma: no cover

    async def close(self) -> None:
        """Close the idle connections (the API's shutdown)."""
        idle, self._idle = self._idle, []
        for connection in idle:
            connection.close()

    def _bind_loop(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        if loop is not self._loop or self._slots is None:
            # Connections (and the semaphore) belong to the loop that made them.
            for connection in self._idle:
                connection.close()
            self._idle = []
            self._loop = loop
            self._slots = asyncio.Semaphore(self._max)
        return self._slots

    async def _connect(self) -> LoopConnection:
        try:
            return await LoopConnection.connect(**self._connect_kwargs)
        except psycopg.OperationalError as exc:
            raise DatabaseUnavailableError(_cause(exc)) from exc


def _cause(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:200]


def processors(columns: Sequence[ColumnElement[Any]], engine: Engine) -> list[Any]:
    """What SQLAlchemy's result processing would do to each of ``columns``' raw values."""
    return [column.type._cached_result_processor(engine.dialect, None) for column in columns]
