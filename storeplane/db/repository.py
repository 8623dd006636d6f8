"""``SqlStoreRepository``: the :class:`storeplane.domain.ports.StoreRepository` on SQLAlchemy.

Used by the services (API, CLI) and the reconciler. Every method is one transaction; writes
begin with ``BEGIN IMMEDIATE`` on SQLite (see :mod:`storeplane.db.engine`).

Concurrency rules, in one place:

* **Intent** (``save_intent``) is guarded by ``revision``: the UPDATE matches only if the row
  still has the revision the caller read; the caller re-reads and retries on False. It writes
  the spec and the bookkeeping the domain's intent methods reset, never the reconciler's
  observations (conditions, observed generation, url, last error, ``deleted_at``), and never
  touches a store whose deletion was completed.
* **Status** (``save_status``) is guarded by ``revision`` *and* the lease: only the replica
  holding the lease writes, and only while no new intent arrived since it read the store.
* **Leases** (``claim_due``): a due store is leased to one owner until ``now + lease``. A
  replica calling ``claim_due`` again also gets back the due stores it already holds, with the
  lease extended — that is the renewal (and how a restarted replica with a stable owner id
  takes its leases back at once), so there is no separate ``renew``. Free stores are handed
  out before the caller's own, and the reconciler's work queue must ignore a store it is
  already working on.
  PostgreSQL picks candidates with ``FOR UPDATE SKIP LOCKED``; SQLite's ``BEGIN IMMEDIATE``
  serialises claimers. Either way the UPDATE re-checks the lease condition, so two owners can
  never both hold a store.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Collection, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import (
    Connection,
    Engine,
    Select,
    and_,
    bindparam,
    case,
    delete,
    func,
    insert,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.elements import ColumnElement

from storeplane.db.engine import read_connection, write_transaction
from storeplane.db.leases import take_leases
from storeplane.db.mapping import (
    INTENT_COLUMNS,
    STATUS_COLUMNS,
    event_from_row,
    event_to_row,
    store_from_row,
    store_to_row,
)
from storeplane.db.pgreads import Compiled, PgReads, one_row, request_snapshot
from storeplane.db.readcache import ReadCache, SnapshotCache
from storeplane.db.rowcache import StoreRowReader
from storeplane.db.tables import (
    LIVE_NAME_INDEX,
    IdempotencyKeyRow,
    StoreDomainRow,
    StoreEventRow,
    StoreRow,
    UserRow,
    idempotency_keys,
    store_domains,
    store_events,
    stores,
)
from storeplane.domain.errors import (
    DomainTakenError,
    IdempotencyKeyReusedError,
    InvalidRequestError,
    NameTakenError,
    StoreLimitError,
    StoreNotFoundError,
)
from storeplane.domain.events import Event
from storeplane.domain.ports import StorePage
from storeplane.domain.store import Phase, Store
from storeplane.domain.users import IdempotencyKey

MAX_PAGE_SIZE = 200


class SqlStoreRepository:
    """Stores, their events and work leases in one SQL database (SQLite or PostgreSQL)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        # The read path (get, list_page) maps each distinct row once; see rowcache.py.
        self.reader = StoreRowReader()
        # Built once: coercing the 20-odd columns of a select costs more than running it.
        self._select_raw = select(*self.reader.columns)
        # SQLite: get and list_page answers kept until anything commits (readcache.py).
        self.results = ReadCache.for_engine(engine)
        # PostgreSQL: the same reads on the event loop, kept per snapshot (pgreads.py).
        self.pg = PgReads.for_engine(engine)
        self.pg_results = SnapshotCache()
        self._id_index = self.reader.names.index("id")
        self._get_one = (
            Compiled(one_row(self._select_raw.where(StoreRow.id == bindparam("store_id"))), engine)
            if self.pg is not None
            else None
        )

    # -- health ---------------------------------------------------------------------------

    def ping(self) -> None:
        """Raise if the database cannot answer ``SELECT 1`` (used by ``/readyz``)."""
        with self.engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    # -- stores ---------------------------------------------------------------------------

    def create(
        self,
        store: Store,
        events: Sequence[Event],
        *,
        owner_limit: int | None = None,
        idempotency: IdempotencyKey | None = None,
    ) -> Store:
        """Insert the store and its events; see the port for the idempotency and limit rules.

        With an owner, the transaction first locks the owner's ``users`` row
        (``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite's ``BEGIN IMMEDIATE`` already holds
        the database's write lock), so the key lookup, the count of live stores and the insert
        of concurrent creates for one owner happen one after the other.
        """
        try:
            with write_transaction(self.engine) as connection:
                if store.owner_id is not None:
                    _lock_user(connection, store.owner_id)
                if idempotency is not None:
                    replayed = _replay(connection, idempotency)
                    if replayed is not None:
                        return replayed
                if store.managed_uid is not None:
                    made = connection.execute(
                        select(stores).where(StoreRow.managed_uid == store.managed_uid)
                    ).first()
                    if made is not None:
                        return store_from_row(made._mapping)
                if owner_limit is not None and store.owner_id is not None:
                    live = connection.execute(
                        select(func.count())
                        .select_from(StoreRow)
                        .where(StoreRow.owner_id == store.owner_id, StoreRow.deleted_at.is_(None))
                    ).scalar_one()
                    if live >= owner_limit:
                        raise StoreLimitError(owner_limit)
                connection.execute(insert(stores).values(**store_to_row(store)))
                _insert_events(connection, events)
                if idempotency is not None:
                    connection.execute(
                        insert(idempotency_keys).values(
                            user_id=idempotency.user_id,
                            key=idempotency.key,
                            request_hash=idempotency.request_hash,
                            store_id=store.id,
                            created_at=store.created_at,
                        )
                    )
        except IntegrityError as exc:
            if store.managed_uid is not None:
                # The object's store exists already (a create retried after a crash or by a
                # second replica): it is the answer, as a replayed idempotency key is.
                existing = self.by_managed_uid(store.managed_uid)
                if existing is not None:
                    return existing
            if _is_name_conflict(exc):
                raise NameTakenError(store.name) from exc
            raise
        return store

    def by_managed_uid(self, uid: str) -> Store | None:
        """The store made from the Store object with this uid, or None."""
        with self.engine.connect() as connection:
            row = connection.execute(select(stores).where(StoreRow.managed_uid == uid)).first()
        return store_from_row(row._mapping) if row is not None else None

    def get(self, store_id: str) -> Store:
        key = ("get", store_id)
        version = 0
        if self.results is not None:
            found, version = self.results.lookup(key)
            if found is not None:
                return cast(Store, found)
        with read_connection(self.engine) as connection:
            row = connection.execute(self._select_raw.where(StoreRow.id == store_id)).one_or_none()
        if row is None:
            raise StoreNotFoundError(store_id)
        store = self.reader.stores([row], self.engine.dialect)[0]
        if self.results is not None:
            self.results.put(key, store, version)
        return store

    def cached_get(self, store_id: str) -> Store | None:
        """What :meth:`get` would answer, if the read cache holds it (no query: the API calls
        this on the event loop); None means "call get"."""
        if self.results is None:
            return cast(
                Store | None, self.pg_results.get(("get", store_id), request_snapshot.get())
            )
        return cast(Store | None, self.results.lookup(("get", store_id))[0])

    def list_page(
        self,
        *,
        phase: Phase | None = None,
        query: str | None = None,
        limit: int = 50,
        cursor: str | None = None,
        owner_id: str | None = None,
        include_deleted: bool = False,
        labels: Mapping[str, str] | None = None,
    ) -> StorePage:
        """Stores newest first (``created_at`` descending, then ``id`` descending: both the
        same direction, so every ``(..., created_at, id)`` index is read backwards instead of
        the whole table being sorted per page), ``limit`` at a time.

        Without ``phase`` the listing shows live stores only, or every store with
        ``include_deleted``; ask for ``phase=Deleted`` to see only tombstones. ``query`` matches a case-insensitive substring of the name. ``count`` is
        the number of stores matching the filters on all pages; ``next_cursor`` is None on the
        last page. ``owner_id`` keeps one owner's stores only; ``labels`` keeps the stores that
        carry every one of these ``key=value`` labels.
        """
        if not 1 <= limit <= MAX_PAGE_SIZE:
            raise InvalidRequestError(
                f"limit must be between 1 and {MAX_PAGE_SIZE} (got {limit})", field="limit"
            )
        cache_key = _page_key(phase, query, limit, cursor, owner_id, include_deleted, labels)
        version = 0
        if self.results is not None:
            found, version = self.results.lookup(cache_key)
            if found is not None:
                return cast(StorePage, found)
        filters, page_filters = _page_filters(
            phase, query, cursor, owner_id, include_deleted, labels
        )
        with read_connection(self.engine) as connection:
            count = connection.execute(
                select(func.count()).select_from(StoreRow).where(*filters)
            ).scalar_one()
            rows = connection.execute(
                self._select_raw.where(*page_filters)
                .order_by(StoreRow.created_at.desc(), StoreRow.id.desc())
                .limit(limit + 1)
            ).all()
        page = self._page(rows, count, limit)
        if self.results is not None:
            self.results.put(cache_key, page, version)
        return page

    def _page(self, rows: Sequence[Sequence[Any]], count: int, limit: int) -> StorePage:
        items = self.reader.stores(rows[:limit], self.engine.dialect)
        next_cursor = None
        if len(rows) > limit:
            last = items[-1]
            next_cursor = _encode_cursor(last.created_at, last.id)
        return StorePage(items=items, count=count, next_cursor=next_cursor)

    def cached_page(
        self,
        *,
        phase: Phase | None = None,
        query: str | None = None,
        limit: int = 50,
        cursor: str | None = None,
        owner_id: str | None = None,
        include_deleted: bool = False,
        labels: Mapping[str, str] | None = None,
    ) -> StorePage | None:
        """What :meth:`list_page` would answer, if the read cache holds it (no query: the API
        calls this on the event loop); None means "call list_page"."""
        key = _page_key(phase, query, limit, cursor, owner_id, include_deleted, labels)
        if self.results is None:
            return cast(StorePage | None, self.pg_results.get(key, request_snapshot.get()))
        return cast(StorePage | None, self.results.lookup(key)[0])

    # -- the same reads on the event loop (PostgreSQL, see pgreads.py) ----------------------

    @property
    def reads_async(self) -> bool:
        """True when :meth:`get_async` and :meth:`list_page_async` can be awaited."""
        return self.pg is not None

    async def get_async(self, store_id: str) -> Store:
        """:meth:`get` in one statement on the event loop (PostgreSQL only); the answer is
        kept for the snapshot it was read in."""
        assert self.pg is not None and self._get_one is not None
        rows = await self.pg.rows(self._get_one.sql, self._get_one.params({"store_id": store_id}))
        snapshot, raw = rows[0][0], rows[0][1:]
        if raw[self._id_index] is None:
            raise StoreNotFoundError(store_id)
        store = self.reader.stores([raw], self.engine.dialect)[0]
        self.pg_results.put(("get", store_id), store, snapshot)
        return store

    async def list_page_async(
        self,
        *,
        phase: Phase | None = None,
        query: str | None = None,
        limit: int = 50,
        cursor: str | None = None,
        owner_id: str | None = None,
        include_deleted: bool = False,
        labels: Mapping[str, str] | None = None,
    ) -> StorePage:
        """:meth:`list_page` in one statement (count and rows in one snapshot) on the event
        loop (PostgreSQL only); the answer is kept for that snapshot."""
        assert self.pg is not None
        if not 1 <= limit <= MAX_PAGE_SIZE:
            raise InvalidRequestError(
                f"limit must be between 1 and {MAX_PAGE_SIZE} (got {limit})", field="limit"
            )
        filters, page_filters = _page_filters(
            phase, query, cursor, owner_id, include_deleted, labels
        )
        total = select(func.count()).select_from(StoreRow).where(*filters).scalar_subquery()
        statement = one_row(
            self._select_raw.where(*page_filters)
            .order_by(StoreRow.created_at.desc(), StoreRow.id.desc())
            .limit(limit + 1),
            total.label("total"),
        )
        ordered = statement.order_by(text("found.created_at DESC, found.id DESC"))
        rows = await self.pg.rows(*self.pg.prepare(ordered))
        snapshot, count = rows[0][0], rows[0][1]
        raw = [row[2:] for row in rows if row[2 + self._id_index] is not None]
        page = self._page(raw, count, limit)
        key = _page_key(phase, query, limit, cursor, owner_id, include_deleted, labels)
        self.pg_results.put(key, page, snapshot)
        return page

    def save_intent(self, store: Store, *, expected_revision: int, events: Sequence[Event]) -> bool:
        """Save a change of intent; its custom domains are claimed in the same transaction
        (DomainTakenError when another store holds one: the primary key of store_domains
        decides, also between two concurrent claims)."""
        row = store_to_row(store)
        try:
            with write_transaction(self.engine) as connection:
                result = connection.execute(
                    update(stores)
                    .where(
                        StoreRow.id == store.id,
                        StoreRow.revision == expected_revision,
                        StoreRow.deleted_at.is_(None),
                    )
                    .values({column: row[column] for column in INTENT_COLUMNS})
                )
                if result.rowcount != 1:
                    return False
                _claim_domains(connection, store)
                _insert_events(connection, events)
        except IntegrityError as exc:
            taken = _taken_domain(exc, store)
            if taken is None:
                raise
            raise DomainTakenError(taken) from exc
        return True

    def save_status(self, store: Store, *, owner: str, release: bool = False) -> bool:
        row = store_to_row(store)
        values = {column: row[column] for column in STATUS_COLUMNS}
        if release:  # the lease goes in the same write (see the protocol)
            values.update(lease_owner=None, lease_expires_at=None)
        with write_transaction(self.engine) as connection:
            result = connection.execute(
                update(stores)
                .where(
                    StoreRow.id == store.id,
                    StoreRow.revision == store.revision,
                    StoreRow.lease_owner == owner,
                )
                .values(values)
            )
            if result.rowcount == 1 and store.phase == Phase.DELETED:
                # Deleted: nothing of it serves any more, its domains are free for others.
                connection.execute(delete(store_domains).where(StoreDomainRow.store_id == store.id))
            return result.rowcount == 1

    # -- events ---------------------------------------------------------------------------

    def append_events(self, events: Sequence[Event]) -> None:
        if not events:
            return
        with write_transaction(self.engine) as connection:
            _insert_events(connection, events)

    def events(self, store_id: str) -> list[Event]:
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(store_events)
                .where(StoreEventRow.store_id == store_id)
                .order_by(StoreEventRow.id.asc())
            ).all()
        return [event_from_row(r._mapping) for r in rows]

    # -- leases ---------------------------------------------------------------------------

    def claim_due(
        self,
        *,
        owner: str,
        now: datetime,
        lease: timedelta,
        limit: int,
        running: Collection[str] = (),
    ) -> list[Store]:
        if limit < 1:
            return []
        claimable = and_(StoreRow.next_reconcile_at <= now, _leasable(owner, now))
        if running:
            # The caller's passes in flight release their lease as they end, possibly while
            # this claim runs: a lease renewed here could be gone by the time it returns.
            claimable = and_(claimable, StoreRow.id.not_in(list(running)))
        # Stores nobody holds come first: the caller's own leases are passes it is still
        # running (when it does not say so in ``running``), and returning those would waste
        # the free slots it asked to fill.
        already_ours = case((StoreRow.lease_owner == owner, 1), else_=0)
        candidates = (
            select(StoreRow.id)
            .where(claimable)
            .order_by(already_ours, StoreRow.next_reconcile_at.asc(), StoreRow.id.asc())
            .limit(limit)
        )
        return self._take_leases(candidates, claimable, owner=owner, until=now + lease)

    def claim_ids(
        self, store_ids: Sequence[str], *, owner: str, now: datetime, lease: timedelta
    ) -> list[Store]:
        """Lease these stores now, whether due or not (a watch saw their objects change), if
        their lease is free, expired or already ours. Deleted stores are never returned."""
        if not store_ids:
            return []
        claimable = and_(StoreRow.id.in_(list(store_ids)), _leasable(owner, now))
        candidates = select(StoreRow.id).where(claimable)
        return self._take_leases(candidates, claimable, owner=owner, until=now + lease)

    def _take_leases(
        self,
        candidates: Select[Any],
        claimable: ColumnElement[bool],
        *,
        owner: str,
        until: datetime,
    ) -> list[Store]:
        """Lease the candidate stores that are still claimable, in one write transaction."""
        with write_transaction(self.engine) as connection:
            ids = take_leases(
                connection,
                candidates,
                claimable,
                table=stores,
                holder="lease_owner",
                expires="lease_expires_at",
                owner=owner,
                until=until,
            )
            if not ids:
                return []
            rows = connection.execute(
                select(stores)
                .where(StoreRow.id.in_(ids), StoreRow.lease_owner == owner)
                .order_by(StoreRow.next_reconcile_at.asc(), StoreRow.id.asc())
            ).all()
        return [store_from_row(r._mapping) for r in rows]

    def release(self, store_id: str, *, owner: str) -> None:
        """Give up ``owner``'s lease on the store; a no-op if someone else holds it."""
        with write_transaction(self.engine) as connection:
            connection.execute(
                update(stores)
                .where(StoreRow.id == store_id, StoreRow.lease_owner == owner)
                .values(lease_owner=None, lease_expires_at=None)
            )

    # -- gauges (read on each metrics scrape) ----------------------------------------------

    def phase_counts(self) -> dict[str, int]:
        """How many stores are in each phase."""
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(StoreRow.phase, func.count()).group_by(StoreRow.phase)
            ).all()
        return {str(phase): int(count) for phase, count in rows}

    def due_summary(self, now: datetime) -> tuple[int, datetime | None]:
        """(stores due for a reconcile now, when the longest-waiting one became due)."""
        due = and_(StoreRow.next_reconcile_at <= now, StoreRow.deleted_at.is_(None))
        with self.engine.connect() as connection:
            count, oldest = connection.execute(
                select(func.count(), func.min(StoreRow.next_reconcile_at)).where(due)
            ).one()
        if oldest is not None and oldest.tzinfo is None:
            oldest = oldest.replace(tzinfo=UTC)
        return int(count), oldest

    def lease_of(self, store_id: str) -> tuple[str | None, datetime | None]:
        """Who holds the store's lease and until when (for tests and diagnostics)."""
        with self.engine.connect() as connection:
            row = connection.execute(
                select(StoreRow.lease_owner, StoreRow.lease_expires_at).where(
                    StoreRow.id == store_id
                )
            ).one_or_none()
        if row is None:
            raise StoreNotFoundError(store_id)
        return row[0], row[1]


def _lock_user(connection: Connection, user_id: str) -> None:
    """Serialise writers for one user: a row lock on PostgreSQL (SQLite holds the write lock)."""
    statement = select(UserRow.id).where(UserRow.id == user_id)
    if connection.dialect.name == "postgresql":
        statement = statement.with_for_update()
    connection.execute(statement)


def _replay(connection: Connection, key: IdempotencyKey) -> Store | None:
    """The store a used key created, if the request matches; None for a new key."""
    row = connection.execute(
        select(IdempotencyKeyRow.request_hash, IdempotencyKeyRow.store_id).where(
            IdempotencyKeyRow.user_id == key.user_id, IdempotencyKeyRow.key == key.key
        )
    ).one_or_none()
    if row is None:
        return None
    if row.request_hash != key.request_hash:
        raise IdempotencyKeyReusedError(key.key)
    store_row = connection.execute(select(stores).where(StoreRow.id == row.store_id)).one()
    return store_from_row(store_row._mapping)


def _leasable(owner: str, now: datetime) -> ColumnElement[bool]:
    """A live store whose lease is free, expired, or already ``owner``'s."""
    return and_(
        StoreRow.phase != Phase.DELETED.value,
        StoreRow.deleted_at.is_(None),
        or_(
            StoreRow.lease_owner.is_(None),
            StoreRow.lease_expires_at.is_(None),
            StoreRow.lease_expires_at <= now,
            StoreRow.lease_owner == owner,
        ),
    )


def _insert_events(connection: Connection, events: Sequence[Event]) -> None:
    if events:
        connection.execute(insert(store_events), [event_to_row(e) for e in events])


def _claim_domains(connection: Connection, store: Store) -> None:
    """Make the store's rows in store_domains its spec's domains: release the ones it no
    longer lists, insert the new ones (a name another store holds fails the insert)."""
    wanted = set(store.spec.domains)
    held = set(
        connection.execute(
            select(StoreDomainRow.name).where(StoreDomainRow.store_id == store.id)
        ).scalars()
    )
    if held - wanted:
        connection.execute(
            delete(store_domains).where(
                StoreDomainRow.store_id == store.id, StoreDomainRow.name.in_(held - wanted)
            )
        )
    new = [name for name in store.spec.domains if name not in held]
    if new:
        # Name the domain when it is plainly held (the insert below still decides in a race).
        taken = connection.execute(
            select(StoreDomainRow.name).where(StoreDomainRow.name.in_(new)).limit(1)
        ).scalar()
        if taken is not None:
            raise DomainTakenError(taken)
    for name in new:
        if name not in held:
            connection.execute(
                insert(store_domains).values(
                    name=name, store_id=store.id, claimed_at=store.updated_at
                )
            )


def _taken_domain(exc: IntegrityError, store: Store) -> str | None:
    """Which of the store's domains an IntegrityError was about, if it was about one."""
    text_ = str(exc.orig)
    if "store_domains" not in text_:
        return None
    named = [d for d in store.spec.domains if d in text_]  # PostgreSQL's detail names the key
    return named[0] if named else ", ".join(store.spec.domains)


def _is_name_conflict(exc: IntegrityError) -> bool:
    """True if the insert tripped the live-name index (not, say, an id collision)."""
    constraint = getattr(getattr(exc.orig, "diag", None), "constraint_name", None)
    if constraint is not None:  # psycopg names the constraint
        return bool(constraint == LIVE_NAME_INDEX)
    return "stores.name" in str(exc.orig)  # sqlite3: "UNIQUE constraint failed: stores.name"


def _page_filters(
    phase: Phase | None,
    query: str | None,
    cursor: str | None,
    owner_id: str | None,
    include_deleted: bool,
    labels: Mapping[str, str] | None,
) -> tuple[list[ColumnElement[bool]], list[ColumnElement[bool]]]:
    """The WHERE terms of a page: (those of its ``count``, those of its rows)."""
    filters: list[ColumnElement[bool]] = []
    if phase is None:
        if not include_deleted:
            filters.append(StoreRow.phase != Phase.DELETED.value)
    else:
        filters.append(StoreRow.phase == phase.value)
    if owner_id is not None:
        filters.append(StoreRow.owner_id == owner_id)
    if query:
        filters.append(func.lower(StoreRow.name).contains(query.lower(), autoescape=True))
    for key, value in (labels or {}).items():
        # ->> on PostgreSQL, json_extract on SQLite; label syntax has no '"', so the key
        # cannot break out of SQLite's JSON path.
        filters.append(StoreRow.labels[key].as_string() == value)
    page_filters = list(filters)
    if cursor is not None:
        created_at, store_id = _decode_cursor(cursor)
        page_filters.append(
            or_(
                StoreRow.created_at < created_at,
                and_(StoreRow.created_at == created_at, StoreRow.id < store_id),
            )
        )
    return filters, page_filters


def _page_key(
    phase: Phase | None,
    query: str | None,
    limit: int,
    cursor: str | None,
    owner_id: str | None,
    include_deleted: bool,
    labels: Mapping[str, str] | None,
) -> tuple[object, ...]:
    terms = tuple(sorted(labels.items())) if labels else ()
    return ("page", phase, query, limit, cursor, owner_id, include_deleted, terms)


def _encode_cursor(created_at: datetime, store_id: str) -> str:
    raw = json.dumps({"c": created_at.isoformat(), "i": store_id}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data = json.loads(raw)
        created_at = datetime.fromisoformat(data["c"])
        store_id = data["i"]
        if created_at.tzinfo is None or not isinstance(store_id, str):
            raise ValueError("incomplete cursor")
    except (binascii.Error, ValueError, KeyError, TypeError) as exc:
        raise InvalidRequestError(
            "cursor is not one this server handed out; pass next_cursor from the previous "
            "page unchanged, or leave it out to start from the first page",
            field="cursor",
        ) from exc
    return created_at, store_id
