"""``take_leases``: the one way rows are leased to a worker (stores, checks, backups, rollouts).

Several replicas claim work from the same tables; each table says what is claimable (due,
free, expired...), this module makes the claim safe the same way for all of them. Called inside
the caller's write transaction, so the caller can read the leased rows back in it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, Select, Table, update


def take_leases(
    connection: Connection,
    candidates: Select[Any],
    claimable: ColumnElement[bool],
    *,
    table: Table,
    holder: str,
    expires: str,
    owner: str,
    until: datetime,
) -> Sequence[Any]:
    """Lease the rows whose ids ``candidates`` selects to ``owner`` until ``until``, writing the
    columns named ``holder`` and ``expires``; the ids it tried (read back the ones ``owner``
    now holds in the same transaction: a row another claimer took in between is not among them).

    PostgreSQL skips rows another claimer has locked (FOR UPDATE SKIP LOCKED); SQLite's
    BEGIN IMMEDIATE serialises claimers. The UPDATE re-checks ``claimable``, so two owners
    never both hold a row.
    """
    if connection.dialect.name == "postgresql":
        candidates = candidates.with_for_update(skip_locked=True)
    ids = list(connection.execute(candidates).scalars())
    if ids:
        connection.execute(
            update(table)
            .where(table.c.id.in_(ids), claimable)
            .values({holder: owner, expires: until})
        )
    return ids
