"""``LoopConnection``: one PostgreSQL connection that runs one statement at a time on the
event loop by driving libpq (``psycopg.pq``) itself, for :class:`storeplane.db.pgreads.PgReads`
(the API's token check and store reads).

Why not ``await AsyncConnection.execute()``: psycopg's async path cost ~50 µs of the API
process per statement under 50 concurrent requests, against ~16 µs here (bench/RESULTS.md,
fourth session). Per statement it registers the socket with the loop and unregisters it again
(two ``epoll_ctl`` syscalls), arms and cancels a timer, takes the connection's lock and runs
its cursor, query conversion and prepare bookkeeping in Python. Here:

- the socket is registered once, for the connection's life; when it turns readable the
  callback consumes the input and, once the statement's result is complete, resolves the
  waiting future (one loop wake-up serves every connection that became readable together);
- a statement is prepared on its first use on a connection, then only executed;
- parameters are dumped and rows decoded by psycopg's own ``Transformer`` for this connection,
  the very loaders a cursor uses: the same Python values as ``cursor.fetchall()``.

Connecting (authentication, TLS, timeouts) is psycopg's ``AsyncConnection.connect``; after it
only its ``pgconn`` is used. A connection whose socket failed is :attr:`broken`: its next
statement raises ``psycopg.OperationalError`` at once (``PgReads`` retries on a new one).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from typing import Any

import psycopg
from psycopg import pq
from psycopg.adapt import PyFormat, Transformer

# Prepared statements kept per connection (the server holds a plan for each); a statement
# beyond them runs unprepared (parsed and planned each time), which is only slower.
_MAX_PREPARED = 256
_MAX_CONVERTED = 1024
# SQLAlchemy's psycopg dialect renders ``%(name)s`` placeholders and ``%%`` for a literal %.
_PLACEHOLDER = re.compile(r"%\(([^)]+)\)s|%%")
_converted: dict[str, tuple[bytes, tuple[str, ...]]] = {}


def positional(sql: str) -> tuple[bytes, tuple[str, ...]]:
    """``sql`` with ``$1, $2...`` for its ``%(name)s`` placeholders (libpq's form), and the
    parameter names in that order; a name used twice is the same ``$n``."""
    found = _converted.get(sql)
    if found is not None:
        return found
    names: list[str] = []

    def number(match: re.Match[str]) -> str:
        name = match.group(1)
        if name is None:
            return "%"
        if name not in names:
            names.append(name)
        return f"${names.index(name) + 1}"

    converted = (_PLACEHOLDER.sub(number, sql).encode(), tuple(names))
    if len(_converted) >= _MAX_CONVERTED:
        _converted.clear()
    _converted[sql] = converted
    return converted


class LoopConnection:
    def __init__(self, connection: psycopg.AsyncConnection[Any]) -> None:
        self._connection = connection  # owns the pgconn; kept so it is not collected
        self._pgconn = connection.pgconn
        self._pgconn.nonblocking = 1
        self._encoding = connection.info.encoding
        self._transformer = Transformer(connection)
        self._loop = asyncio.get_running_loop()
        self._socket = self._pgconn.socket
        self._prepared: dict[tuple[bytes, tuple[int, ...]], bytes] = {}
        # The statement in flight: its future and the result read so far.
        self._waiting: asyncio.Future[pq.abc.PGresult | None] | None = None
        self._result: pq.abc.PGresult | None = None
        self.broken: BaseException | None = None
        self._loop.add_reader(self._socket, self._readable)

    @classmethod
    async def connect(cls, **kwargs: Any) -> LoopConnection:
        """psycopg's ``AsyncConnection.connect(**kwargs)`` (``autocommit`` should be among
        them: each statement is then its own snapshot, with no ``BEGIN``/``ROLLBACK``)."""
        return cls(await psycopg.AsyncConnection.connect(**kwargs))

    async def rows(self, sql: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
        """All rows of one statement (``%(name)s`` placeholders, values in ``params``)."""
        if self.broken is not None:
            raise psycopg.OperationalError(f"connection lost: {self.broken}")
        if self._waiting is not None:  # pragma: no cover - PgReads lends a connection once
            raise RuntimeError("a statement is already running on this connection")
        query, names = positional(sql)
        transformer = self._transformer
        values = transformer.dump_sequence([params[n] for n in names], [PyFormat.AUTO] * len(names))
        types, formats = tuple(transformer.types or ()), list(transformer.formats or ())
        pgconn = self._pgconn
        name = self._prepared.get((query, types))
        if name is None and len(self._prepared) < _MAX_PREPARED:
            name = f"storeplane_{len(self._prepared)}".encode()
            pgconn.send_prepare(name, query, types)
            self._check(await self._complete(), pq.ExecStatus.COMMAND_OK)
            self._prepared[(query, types)] = name
        if name is None:
            pgconn.send_query_params(query, values, types, formats)
        else:
            pgconn.send_query_prepared(name, values, formats)
        result = self._check(await self._complete(), pq.ExecStatus.TUPLES_OK)
        transformer.set_pgresult(result)
        return transformer.load_rows(0, result.ntuples, tuple)

    def close(self) -> None:
        """Shut the socket without a round trip (idle, broken or mid-statement alike)."""
        with contextlib.suppress(Exception):  # the loop is closed, or it was never added
            self._loop.remove_reader(self._socket)
        with contextlib.suppress(Exception):  # already closed
            self._pgconn.finish()

    async def _complete(self) -> pq.abc.PGresult:
        """Send what libpq buffered and wait until the command's last result is read."""
        self._result = None
        self._waiting = self._loop.create_future()
        try:
            await self._flush()
            self._readable()  # the answer may already be in (read while flushing)
            result = await self._waiting
        finally:
            self._waiting = None
        if result is None:  # pragma: no cover - libpq always answers a command
            raise psycopg.OperationalError("the server sent no result")
        return result

    async def _flush(self) -> None:
        # Nearly always done at once; 1 means the socket's buffer is full (a huge statement).
        while self._pgconn.flush() == 1:
            writable: asyncio.Future[None] = self._loop.create_future()
            self._loop.add_writer(self._socket, _resolve, writable)
            try:
                await writable
            finally:
                self._loop.remove_writer(self._socket)

    def _readable(self) -> None:
        """The loop's callback: read what arrived and resolve the statement once complete.
        On an idle connection this only consumes what the server sent (a notice, or the
        end of the connection, which marks it broken)."""
        pgconn = self._pgconn
        try:
            pgconn.consume_input()
            while self._waiting is not None and not pgconn.is_busy():
                result = pgconn.get_result()
                if result is None:  # the command's results are all in
                    if not self._waiting.done():
                        self._waiting.set_result(self._result)
                    return
                self._result = result
        except psycopg.Error as exc:
            self.broken = exc
            with contextlib.suppress(Exception):
                self._loop.remove_reader(self._socket)
            if self._waiting is not None and not self._waiting.done():
                self._waiting.set_exception(psycopg.OperationalError(f"connection lost: {exc}"))

    def _check(self, result: pq.abc.PGresult, expected: pq.ExecStatus) -> pq.abc.PGresult:
        if result.status == pq.ExecStatus.FATAL_ERROR:
            raise psycopg.errors.error_from_result(result, encoding=self._encoding)
        if result.status != expected:  # pragma: no cover - one statement, one kind of answer
            raise psycopg.InterfaceError(f"unexpected result {result.status!r}")
        return result


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)
