"""``LoopConnection``: one PostgreSQL connection in libpq's pipeline mode, driven from the
event loop (``psycopg.pq``), for :class:`storeplane.db.pgreads.PgReads` (the API's token
check and store reads). Many statements may be in flight on it at once; the statements made
during one pass of the event loop go to the server in one write, and their answers come back
in order.

Why not ``await AsyncConnection.execute()``: psycopg's async path cost ~50 µs of the API
process per statement under 50 concurrent requests (bench/RESULTS.md, fourth session). Per
statement it registers the socket with the loop and unregisters it again (two ``epoll_ctl``
syscalls), arms and cancels a timer, takes the connection's lock, runs its cursor, query
conversion and prepare bookkeeping in Python, and makes one ``send`` and one ``recv``. Here:

- the socket is registered once, for the connection's life; its readable callback consumes
  what arrived and resolves the futures of every statement whose answer is complete;
- statements made in the same pass of the loop (the token checks of the requests that
  arrived together) are written with one ``send`` by the ``pipeline_sync`` scheduled for the
  end of that pass, and usually read back with one ``recv``;
- a statement is prepared on its first use on a connection (in the same write), then only
  executed; parameters are dumped and rows decoded by psycopg's own ``Transformer`` for this
  connection, the loaders a cursor uses: the same Python values as ``cursor.fetchall()``.

The statements of one write form one implicit transaction on the server (no ``BEGIN``, ended
by the ``Sync``). Each still reads the newest committed data, and every one was sent after the
request that made it arrived: under READ COMMITTED each statement takes its own snapshot, and
under a stricter default isolation they share the first one's, taken after they all arrived.
A statement that fails aborts the ones after it in the same write: those are sent again in
the next (``_Aborted``), so only the failing statement's caller sees its error.

Connecting (authentication, TLS, timeouts) is psycopg's ``AsyncConnection.connect``; after it
only its ``pgconn`` is used. When the socket fails the connection is :attr:`broken`: every
statement in flight and every later one raises ``psycopg.OperationalError`` (``PgReads``
retries each on a new connection). A caller that stops waiting (cancelled) leaves the
connection usable: its answer is read in turn and dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections import deque
from typing import Any

import psycopg
from psycopg import pq
from psycopg.adapt import PyFormat, Transformer

# Prepared statements kept per connection (the server holds a plan for each); a statement
# beyond them runs unprepared (parsed and planned each time), which is only slower.
_MAX_PREPARED = 256
_MAX_CONVERTED = 1024
# How often a statement aborted by another's failure in the same write is sent again.
_MAX_RESENDS = 3
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


class _Aborted(Exception):
    """The server skipped this statement: an earlier one in the same write failed."""


class _Command:
    """One command in the pipeline, answered in order: its future, and for a prepare, what
    to forget if it fails."""

    __slots__ = ("future", "prepared_key")

    def __init__(self, future: asyncio.Future[pq.abc.PGresult], prepared_key: Any = None) -> None:
        self.future = future
        self.prepared_key = prepared_key


# Stands for the ``Sync`` that ends a write, in the queue of what the server will answer.
_SYNC = None


class LoopConnection:
    def __init__(self, connection: psycopg.AsyncConnection[Any]) -> None:
        self._connection = connection  # owns the pgconn; kept so it is not collected
        self._pgconn = connection.pgconn
        self._pgconn.nonblocking = 1
        self._pgconn.enter_pipeline_mode()
        self._encoding = connection.info.encoding
        self._transformer = Transformer(connection)
        self._loop = asyncio.get_running_loop()
        self._socket = self._pgconn.socket
        self._prepared: dict[tuple[bytes, tuple[int, ...]], bytes] = {}
        self._prepared_count = 0
        # What the server will answer, in order: commands, and a _SYNC after each write.
        self._answers: deque[_Command | None] = deque()
        self._unsynced: list[_Command] = []  # made in this pass of the loop, not yet sent
        self._result: pq.abc.PGresult | None = None  # the head command's answer so far
        self._writing = False  # waiting for the socket to take the rest of a write
        self.in_flight = 0  # statements sent or about to be, not yet answered
        self.broken: BaseException | None = None
        self._loop.add_reader(self._socket, self._readable)

    @classmethod
    async def connect(cls, **kwargs: Any) -> LoopConnection:
        """psycopg's ``AsyncConnection.connect(**kwargs)`` (``autocommit`` should be among
        them: nothing outside the pipeline's own implicit transactions)."""
        return cls(await psycopg.AsyncConnection.connect(**kwargs))

    async def rows(self, sql: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
        """All rows of one statement (``%(name)s`` placeholders, values in ``params``)."""
        self.in_flight += 1
        try:
            for _attempt in range(_MAX_RESENDS):
                try:
                    return await self._run(sql, params)
                except _Aborted:
                    continue  # another statement of that write failed: send it again
            raise psycopg.OperationalError("statement aborted by others' failures each time")
        finally:
            self.in_flight -= 1

    async def _run(self, sql: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
        if self.broken is not None:
            raise psycopg.OperationalError(f"connection lost: {self.broken}")
        query, names = positional(sql)
        transformer = self._transformer
        values = transformer.dump_sequence([params[n] for n in names], [PyFormat.AUTO] * len(names))
        types, formats = tuple(transformer.types or ()), list(transformer.formats or ())
        pgconn = self._pgconn
        key = (query, types)
        name = self._prepared.get(key)
        prepare: _Command | None = None
        if name is None and self._prepared_count < _MAX_PREPARED:
            self._prepared_count += 1
            name = self._prepared[key] = f"storeplane_{self._prepared_count}".encode()
            pgconn.send_prepare(name, query, types)
            prepare = self._queue(key)
        if name is None:
            pgconn.send_query_params(query, values, types, formats)
        else:
            pgconn.send_query_prepared(name, values, formats)
        result = await self._queue(None).future
        if result.status == pq.ExecStatus.PIPELINE_ABORTED:
            if prepare is not None and prepare.future.done() and not prepare.future.cancelled():
                failed = prepare.future.result()
                if failed.status == pq.ExecStatus.FATAL_ERROR:  # its own prepare failed
                    raise psycopg.errors.error_from_result(failed, encoding=self._encoding)
            raise _Aborted()
        if result.status == pq.ExecStatus.FATAL_ERROR:
            raise psycopg.errors.error_from_result(result, encoding=self._encoding)
        if result.status != pq.ExecStatus.TUPLES_OK:  # pragma: no cover - a query's answer
            raise psycopg.InterfaceError(f"unexpected result {result.status!r}")
        transformer.set_pgresult(result)
        return transformer.load_rows(0, result.ntuples, tuple)

    def close(self) -> None:
        """Shut the socket without a round trip; statements in flight fail."""
        self._fail(psycopg.OperationalError("connection closed"))
        with contextlib.suppress(Exception):  # already closed
            self._pgconn.finish()

    def _queue(self, prepared_key: Any) -> _Command:
        """A command just given to libpq; the first of a pass schedules the write."""
        command = _Command(self._loop.create_future(), prepared_key)
        if not self._unsynced:
            self._loop.call_soon(self._write)
        self._unsynced.append(command)
        return command

    def _write(self) -> None:
        """End of the loop's pass: the commands made in it, then a Sync, in one write."""
        commands, self._unsynced = self._unsynced, []
        if self.broken is not None:
            return  # _fail answered them
        self._answers.extend(commands)
        self._answers.append(_SYNC)
        try:
            self._pgconn.pipeline_sync()  # queues the Sync and flushes
            self._flush()
        except psycopg.Error as exc:
            self._fail(exc)

    def _flush(self) -> None:
        # Nearly always done at once; 1 means the socket's buffer is full: the loop calls
        # this again when it is writable.
        pending = self._pgconn.flush() == 1
        if pending and not self._writing:
            self._loop.add_writer(self._socket, self._writable)
        elif not pending and self._writing:
            self._loop.remove_writer(self._socket)
        self._writing = pending

    def _writable(self) -> None:
        try:
            self._flush()
        except psycopg.Error as exc:
            self._fail(exc)

    def _readable(self) -> None:
        """The loop's callback: read what arrived and answer the commands it completes. On
        an idle connection this only consumes what the server sent (a notice, or the end of
        the connection, which marks it broken)."""
        pgconn = self._pgconn
        answers = self._answers
        try:
            pgconn.consume_input()
            while answers and not pgconn.is_busy():
                result = pgconn.get_result()
                if result is None:  # the head command's answer is complete
                    if self._result is None:
                        break  # nothing more has arrived
                    command, answer, self._result = answers.popleft(), self._result, None
                    if command is not None:
                        self._answer(command, answer)
                elif result.status == pq.ExecStatus.PIPELINE_SYNC:
                    answers.popleft()  # the end of a write: the next write's answers follow
                else:
                    self._result = result
        except psycopg.Error as exc:
            self._fail(exc)

    def _answer(self, command: _Command, result: pq.abc.PGresult) -> None:
        if command.prepared_key is not None and result.status != pq.ExecStatus.COMMAND_OK:
            self._prepared.pop(command.prepared_key, None)  # not prepared after all
        if not command.future.done():  # done: its caller was cancelled; the answer is dropped
            command.future.set_result(result)

    def _fail(self, exc: BaseException) -> None:
        """The socket failed (or :meth:`close`): every statement in flight fails with it."""
        if self.broken is None:
            self.broken = exc
        with contextlib.suppress(Exception):  # the loop is closed, or it was never added
            self._loop.remove_reader(self._socket)
        if self._writing:
            with contextlib.suppress(Exception):
                self._loop.remove_writer(self._socket)
            self._writing = False
        lost = psycopg.OperationalError(f"connection lost: {exc}")
        for command in [*self._answers, *self._unsynced]:
            if command is None or command.future.done():
                continue
            with contextlib.suppress(RuntimeError):  # its loop is closed (PgReads' cleanup)
                if command.prepared_key is not None:
                    command.future.cancel()  # nobody awaits a prepare: nothing to retrieve
                else:
                    command.future.set_exception(lost)
        self._answers.clear()
        self._unsynced = []
