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

Connections are made lazily per event loop (after a fork, in each API process), at most
``max_connections`` per loop; each carries many statements at once (libpq's pipeline mode:
the statements of one pass of the event loop go out in one write), and another is opened only
while each has ``_PIPELINE_DEPTH`` in flight. They are closed by :meth:`close`, or once their
loop is closed.
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
# Statements in flight on a connection before another is opened (see PgReads._connection).
_PIPELINE_DEPTH = 16
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
        # Per event loop; a closed loop's entry is shut by the next _pool() on another loop.
        self._pools: dict[asyncio.AbstractEventLoop, _LoopPool] = {}
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
        pool = self._pool()
        for attempt in (1, 2):
            connection, fresh = await pool.connection()
            try:
                found = await connection.rows(sql, params)
            except psycopg.OperationalError as exc:
                pool.drop(connection)
                if fresh or attempt == 2:
                    raise DatabaseUnavailableError(_cause(exc)) from exc
                continue  # the server dropped an open connection (a restart): once more
            self.statements += 1
            return found
        raise AssertionError("unreachable")  # pragma: no cover

    async def close(self) -> None:
        """Close the running loop's connections (the API's shutdown)."""
        pool = self._pools.pop(asyncio.get_running_loop(), None)
        if pool is not None:
            pool.close()

    def _pool(self) -> _LoopPool:
        """The running loop's connections: a connection, its futures and its socket callback
        belong to the loop that made it, and several loops may read at once (each of the
        tests' clients runs the app on a loop of its own). Pools of closed loops are shut."""
        loop = asyncio.get_running_loop()
        pool = self._pools.get(loop)
        if pool is None:
            for old, stale in list(self._pools.items()):  # a copy: other loops' threads add
                if old.is_closed() and self._pools.pop(old, None) is not None:
                    stale.close()
            pool = self._pools[loop] = _LoopPool(self._connect_kwargs, self._max)
        return pool


class _LoopPool:
    """One event loop's connections for :class:`PgReads`."""

    def __init__(self, connect_kwargs: dict[str, Any], max_connections: int) -> None:
        self._connect_kwargs = connect_kwargs
        self._max = max_connections
        self.open: list[LoopConnection] = []
        self._connecting = asyncio.Lock()
        self._connect_failures = 0
        self._last_failure = ""

    async def connection(self) -> tuple[LoopConnection, bool]:
        """The open connection with the fewest statements in flight, and whether it is new.
        Another is opened (one at a time) while each has ``_PIPELINE_DEPTH`` in flight and
        fewer than ``max_connections`` are open: deep pipelines share writes (the point),
        several connections keep one slow statement from holding up everything behind it."""
        while True:
            best = self._least_busy()
            if best is not None:
                return best, False
            if self._connecting.locked() and self.open:
                return min(self.open, key=_busy), False  # one is being opened: do not wait
            failures = self._connect_failures
            async with self._connecting:
                if self._connect_failures != failures:
                    # The server could not be reached while this request waited: so be it,
                    # rather than each waiting request trying (and timing out) in turn.
                    raise DatabaseUnavailableError(self._last_failure)
                if self._least_busy() is not None:
                    continue
                made = await self._connect()
                self.open.append(made)
                return made, True

    def _least_busy(self) -> LoopConnection | None:
        if any(c.broken is not None for c in self.open):  # the server ended it (a restart)
            for connection in [c for c in self.open if c.broken is not None]:
                self.drop(connection)
        if not self.open:
            return None
        best = min(self.open, key=_busy)
        if best.in_flight < _PIPELINE_DEPTH or len(self.open) >= self._max:
            return best
        return None

    def drop(self, connection: LoopConnection) -> None:
        connection.close()
        if connection in self.open:
            self.open.remove(connection)

    def close(self) -> None:
        connections, self.open = self.open, []
        for connection in connections:
            connection.close()

    async def _connect(self) -> LoopConnection:
        try:
            return await LoopConnection.connect(**self._connect_kwargs)
        except psycopg.OperationalError as exc:
            self._connect_failures += 1
            self._last_failure = _cause(exc)
            raise DatabaseUnavailableError(self._last_failure) from exc


def _busy(connection: LoopConnection) -> int:
    return connection.in_flight


def _cause(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:200]


def processors(columns: Sequence[ColumnElement[Any]], engine: Engine) -> list[Any]:
    """What SQLAlchemy's result processing would do to each of ``columns``' raw values."""
    return [column.type._cached_result_processor(engine.dialect, None) for column in columns]
