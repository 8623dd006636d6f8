"""``LoopConnection`` (storeplane/db/loopconnection.py) answers what a psycopg cursor answers,
prepared or not, to each of many statements in flight at once; a failed statement fails
alone and leaves it usable, as does a cancelled one; a connection the server ended fails its
statements, and ``PgReads`` then answers on a new one."""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest
from sqlalchemy.engine import make_url

from storeplane.db import create_engine_for, loopconnection
from storeplane.db.loopconnection import LoopConnection
from storeplane.db.pgreads import PgReads
from tests.conftest import POSTGRES_URL_ENV

pytestmark = pytest.mark.postgres


def _base_url() -> str:
    base = os.environ.get(POSTGRES_URL_ENV)
    if not base:
        pytest.skip(f"{POSTGRES_URL_ENV} is not set (scripts/postgres-test.sh start)")
    return base


def _conninfo() -> str:
    return make_url(_base_url()).set(drivername="postgresql").render_as_string(False)


@pytest.fixture
async def connection() -> AsyncIterator[LoopConnection]:
    found = await LoopConnection.connect(conninfo=_conninfo(), autocommit=True)
    yield found
    found.close()


STATEMENTS: list[tuple[str, dict[str, Any]]] = [
    ("SELECT %(n)s::int AS n, %(t)s::text AS t, %(n)s::int + 1 AS m", {"n": 41, "t": "shop"}),
    ("SELECT %(at)s::timestamptz AS at", {"at": datetime(2026, 12, 1, 19, 0, tzinfo=UTC)}),
    ("SELECT 'a%%b' AS literal, %(x)s::text IS NULL AS missing", {"x": None}),
    ("SELECT %(flag)s::boolean, '{\"a\": [1]}'::jsonb, NULL::int", {"flag": True}),
    ("SELECT s, s::text FROM generate_series(1, %(n)s) AS s", {"n": 5}),
    ("SELECT 1 WHERE %(never)s", {"never": False}),
]
IDS = [
    "a name used twice is one parameter",
    "a timestamp",
    "a literal percent sign and a null parameter",
    "booleans, json and a null column",
    "several rows",
    "no rows",
]


async def _cursor_rows(sql: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
    async with await psycopg.AsyncConnection.connect(_conninfo(), autocommit=True) as plain:
        cursor = await plain.execute(sql, params)
        return await cursor.fetchall()


@pytest.mark.parametrize(("sql", "params"), STATEMENTS, ids=IDS)
async def test_rows_are_what_a_psycopg_cursor_answers_prepared_or_not(
    connection: LoopConnection, sql: str, params: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = await _cursor_rows(sql, params)
    assert await connection.rows(sql, params) == expected  # prepares it
    assert await connection.rows(sql, params) == expected  # runs the prepared statement
    monkeypatch.setattr(loopconnection, "_MAX_PREPARED", 0)
    unprepared = await LoopConnection.connect(conninfo=_conninfo(), autocommit=True)
    try:
        assert await unprepared.rows(sql, params) == expected
    finally:
        unprepared.close()


async def test_a_failing_statement_raises_its_error_and_the_connection_answers_the_next(
    connection: LoopConnection,
) -> None:
    with pytest.raises(psycopg.errors.DivisionByZero):
        await connection.rows("SELECT 1 / %(zero)s::int", {"zero": 0})
    with pytest.raises(psycopg.errors.UndefinedTable):
        await connection.rows("SELECT * FROM no_such_table", {})
    assert await connection.rows("SELECT 1 / %(one)s::int", {"one": 1}) == [(1,)]


async def test_statements_made_together_share_a_write_and_each_gets_its_own_answer(
    connection: LoopConnection,
) -> None:
    sql = "SELECT %(n)s::int AS n, pg_backend_pid()"
    answers = await asyncio.gather(*(connection.rows(sql, {"n": n}) for n in range(20)))
    assert [rows[0][0] for rows in answers] == list(range(20))
    assert len({rows[0][1] for rows in answers}) == 1  # one connection, one server process


async def test_a_failing_statement_fails_alone_when_others_shared_its_write(
    connection: LoopConnection,
) -> None:
    failing, after = await asyncio.gather(
        connection.rows("SELECT 1 / %(zero)s::int", {"zero": 0}),
        connection.rows("SELECT %(n)s::int", {"n": 7}),  # aborted by the server, sent again
        return_exceptions=True,
    )
    assert isinstance(failing, psycopg.errors.DivisionByZero)
    assert after == [(7,)]
    broken = await asyncio.gather(
        *(connection.rows("SELECT * FROM no_such_table", {}) for _ in range(2)),
        return_exceptions=True,
    )
    assert all(isinstance(e, psycopg.errors.UndefinedTable) for e in broken)  # its prepare's
    assert await connection.rows("SELECT 1", {}) == [(1,)]


async def test_a_cancelled_statement_leaves_the_connection_answering_in_order(
    connection: LoopConnection,
) -> None:
    [(pid,)] = await connection.rows("SELECT pg_backend_pid()", {})
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(connection.rows("SELECT pg_sleep(0.5)", {}), 0.05)
    sql = "SELECT %(n)s::int AS n, pg_backend_pid()"
    answers = await asyncio.gather(*(connection.rows(sql, {"n": n}) for n in range(5)))
    assert answers == [[(n, pid)] for n in range(5)]  # the sleep's answer was dropped


async def _terminate(pid: int) -> None:
    async with await psycopg.AsyncConnection.connect(_conninfo(), autocommit=True) as other:
        await other.execute("SELECT pg_terminate_backend(%(pid)s)", {"pid": pid})


async def test_statements_in_flight_when_the_server_ends_the_connection_fail(
    connection: LoopConnection,
) -> None:
    [(pid,)] = await connection.rows("SELECT pg_backend_pid()", {})
    sleeping = asyncio.gather(
        connection.rows("SELECT pg_sleep(5)", {}),
        connection.rows("SELECT 1", {}),
        return_exceptions=True,
    )
    await asyncio.sleep(0.1)  # both are written
    await _terminate(pid)
    assert all(isinstance(e, psycopg.OperationalError) for e in await sleeping)
    assert connection.broken is not None
    with pytest.raises(psycopg.OperationalError):
        await connection.rows("SELECT 1", {})


async def test_a_connection_the_server_ended_is_replaced_by_pgreads() -> None:
    engine = create_engine_for(_base_url())
    reads = PgReads(engine)
    try:
        [(first,)] = await reads.rows("SELECT pg_backend_pid()", {})
        [opened] = reads._pool().open
        await _terminate(first)
        for _ in range(200):  # the idle socket's end reaches the loop's callback
            if opened.broken is not None:
                break
            await asyncio.sleep(0.05)
        [(second,)] = await reads.rows("SELECT pg_backend_pid()", {})
        assert second != first
        [(third,)] = await reads.rows("SELECT pg_backend_pid()", {})
        assert third == second and len(reads._pool().open) == 1
    finally:
        await reads.close()
        engine.dispose()


async def test_a_request_finding_a_dead_connection_is_answered_on_a_new_one() -> None:
    engine = create_engine_for(_base_url())
    reads = PgReads(engine)
    try:
        [(first,)] = await reads.rows("SELECT pg_backend_pid()", {})
        [opened] = reads._pool().open
        opened.close()  # as if the server had gone while the loop had not noticed yet
        opened.broken = None
        [(second,)] = await reads.rows("SELECT pg_backend_pid()", {})
        assert second != first and opened not in reads._pool().open
    finally:
        await reads.close()
        engine.dispose()


def test_event_loops_reading_at_once_through_one_pgreads_each_get_their_own_answers() -> None:
    """Each of the tests' clients runs the app on a loop (and thread) of its own."""
    engine = create_engine_for(_base_url())
    reads = PgReads(engine)
    answers: dict[int, list[list[tuple[Any, ...]]]] = {}

    def run(n: int) -> None:
        async def read() -> list[list[tuple[Any, ...]]]:
            found = []
            for _ in range(30):
                found.append(await reads.rows("SELECT %(n)s::int", {"n": n}))
                await asyncio.sleep(0.001)  # let the other loop's statements interleave
            await reads.close()
            return found

        answers[n] = asyncio.run(read())

    threads = [threading.Thread(target=run, args=(n,)) for n in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    try:
        assert not any(thread.is_alive() for thread in threads)
        assert answers == {n: [[(n,)]] * 30 for n in range(3)}
    finally:
        engine.dispose()
