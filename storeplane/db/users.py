"""``SqlUserRepository``: the :class:`storeplane.domain.ports.UserRepository` on SQLAlchemy.

Used by the auth service (the API's authentication dependency, the operator commands
``storeplane users`` / ``storeplane tokens`` and the bootstrap at start). Only token digests
are stored; nothing here ever sees a token's value.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import Engine, Select, bindparam, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from storeplane.db.engine import read_connection, write_transaction
from storeplane.db.mapping import token_from_row, token_to_row, user_from_row, user_to_row
from storeplane.db.pgreads import Compiled, PgReads, one_row, processors, request_snapshot
from storeplane.db.readcache import ReadCache
from storeplane.db.tables import ApiTokenRow, UserRow, api_tokens, users
from storeplane.domain.errors import TokenNotFoundError, UserExistsError, UserNotFoundError
from storeplane.domain.users import ApiToken, User

# Any constant: serialises the first-start bootstrap of several replicas on PostgreSQL.
_BOOTSTRAP_LOCK_ID = 0x5703E91B


class SqlUserRepository:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        # SQLite files only: token digest -> user while nothing committed since (readcache.py).
        self.auth_cache = ReadCache.for_engine(engine, max_entries=10_000)
        # PostgreSQL: the token check on the event loop, with the snapshot it read (pgreads.py).
        self.pg = PgReads.for_engine(engine)
        self._token_user = (
            Compiled(one_row(_token_user_select(bindparam("token_hash"))), engine)
            if self.pg is not None
            else None
        )
        self._user_processors = processors(list(users.c), engine)

    def create_user(self, user: User) -> User:
        try:
            with write_transaction(self.engine) as connection:
                connection.execute(insert(users).values(**user_to_row(user)))
        except IntegrityError as exc:
            raise UserExistsError(user.name) from exc
        return user

    def user_by_name(self, name: str) -> User:
        with self.engine.connect() as connection:
            row = connection.execute(select(users).where(UserRow.name == name)).one_or_none()
        if row is None:
            raise UserNotFoundError(name)
        return user_from_row(row._mapping)

    def users(self) -> list[User]:
        with self.engine.connect() as connection:
            rows = connection.execute(select(users).order_by(UserRow.created_at, UserRow.id)).all()
        return [user_from_row(r._mapping) for r in rows]

    def user_by_id(self, user_id: str) -> User:
        with self.engine.connect() as connection:
            row = connection.execute(select(users).where(UserRow.id == user_id)).one_or_none()
        if row is None:
            raise UserNotFoundError(user_id)
        return user_from_row(row._mapping)

    def set_store_limit(self, user_id: str, max_live_stores: int | None) -> User:
        with write_transaction(self.engine) as connection:
            connection.execute(
                update(users).where(UserRow.id == user_id).values(max_live_stores=max_live_stores)
            )
            row = connection.execute(select(users).where(UserRow.id == user_id)).one_or_none()
        if row is None:
            raise UserNotFoundError(user_id)
        return user_from_row(row._mapping)

    def add_token(self, token: ApiToken) -> ApiToken:
        with write_transaction(self.engine) as connection:
            connection.execute(insert(api_tokens).values(**token_to_row(token)))
        return token

    def tokens(self, user_id: str | None = None) -> list[ApiToken]:
        statement = select(api_tokens).order_by(ApiTokenRow.created_at, ApiTokenRow.id)
        if user_id is not None:
            statement = statement.where(ApiTokenRow.user_id == user_id)
        with self.engine.connect() as connection:
            rows = connection.execute(statement).all()
        return [token_from_row(r._mapping) for r in rows]

    def revoke_token(self, token_id: str, *, now: datetime) -> ApiToken:
        with write_transaction(self.engine) as connection:
            connection.execute(
                update(api_tokens)
                .where(ApiTokenRow.id == token_id, ApiTokenRow.revoked_at.is_(None))
                .values(revoked_at=now)
            )
            row = connection.execute(
                select(api_tokens).where(ApiTokenRow.id == token_id)
            ).one_or_none()
        if row is None:
            raise TokenNotFoundError(token_id)
        return token_from_row(row._mapping)

    def token_by_hash(self, token_hash: str) -> ApiToken | None:
        with self.engine.connect() as connection:
            row = connection.execute(
                select(api_tokens).where(ApiTokenRow.token_hash == token_hash)
            ).one_or_none()
        return None if row is None else token_from_row(row._mapping)

    def cached_user(self, token_hash: str) -> User | None:
        """The user of ``token_hash`` if the cache can say so without the database (nothing
        committed since it was looked up); None means: call ``authenticate``."""
        if self.auth_cache is None:
            return None
        return cast(User | None, self.auth_cache.lookup(token_hash)[0])

    def authenticate(self, token_hash: str) -> User | None:
        cache = self.auth_cache
        if cache is None:
            return self._authenticate(token_hash)
        # The version is read before the query: a commit after it drops the entry.
        cached, version = cache.lookup(token_hash)
        user = cast(User | None, cached) or self._authenticate(token_hash)
        if user is not None:
            cache.put(token_hash, user, version)
        return user

    def _authenticate(self, token_hash: str) -> User | None:
        with read_connection(self.engine) as connection:
            row = connection.execute(_token_user_select(token_hash)).one_or_none()
        return None if row is None else user_from_row(row._mapping)

    @property
    def authenticates_async(self) -> bool:
        """True when :meth:`authenticate_async` can be awaited (PostgreSQL)."""
        return self.pg is not None

    async def authenticate_async(self, token_hash: str) -> User | None:
        """:meth:`authenticate` in one statement on the event loop (PostgreSQL only). Sets
        ``pgreads.request_snapshot`` to the snapshot it read in: the request's cached store
        reads are valid for that snapshot only. The token itself is never cached."""
        assert self.pg is not None and self._token_user is not None
        found = await self.pg.rows(
            self._token_user.sql, self._token_user.params({"token_hash": token_hash})
        )
        snapshot, raw = found[0][0], found[0][1:]
        request_snapshot.set(snapshot)
        if raw[0] is None:  # users.id: no active token with this digest
            return None
        values = {
            column.name: processor(value) if processor is not None else value
            for column, processor, value in zip(users.c, self._user_processors, raw, strict=True)
        }
        return user_from_row(values)  # type: ignore[arg-type]

    def bootstrap(self, user: User, token: ApiToken) -> bool:
        with write_transaction(self.engine) as connection:
            if connection.dialect.name == "postgresql":
                connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_BOOTSTRAP_LOCK_ID})")
            if connection.execute(select(func.count()).select_from(UserRow)).scalar_one():
                return False
            connection.execute(insert(users).values(**user_to_row(user)))
            connection.execute(insert(api_tokens).values(**token_to_row(token)))
        return True


def _token_user_select(token_hash: Any) -> Select[Any]:
    """The user of an active (not revoked) token with this digest."""
    return (
        select(users)
        .join(api_tokens, ApiTokenRow.user_id == UserRow.id)
        .where(ApiTokenRow.token_hash == token_hash, ApiTokenRow.revoked_at.is_(None))
    )
