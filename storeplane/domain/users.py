"""Users, their roles and API tokens: who may act, and on which stores.

Two roles: ``admin`` acts on every store; ``member`` sees and changes only the stores it
owns. A member asking for someone else's store is told it does not exist (the API answers
404, never 403), so store ids leak nothing. The API never sees a token's value after it was
handed out: the database keeps its SHA-256 digest, and a token is looked up by that digest.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from storeplane.domain.errors import InvalidRequestError
from storeplane.domain.store import Store

USER_NAME_PATTERN = re.compile(r"^[a-z][a-z0-9._-]{1,62}$")


class Role(StrEnum):
    ADMIN = "admin"
    """Every store, every action."""
    MEMBER = "member"
    """Only the stores it owns."""


def validate_user_name(name: str) -> str:
    if not USER_NAME_PATTERN.fullmatch(name):
        raise InvalidRequestError(
            "a user name is 2 to 63 characters: lower-case letters, digits, '.', '_' and '-', "
            f"starting with a letter (got {name!r})",
            field="name",
        )
    return name


@dataclass(frozen=True, slots=True)
class User:
    id: str
    name: str
    role: Role
    created_at: datetime
    # How many live (not yet Deleted) stores this user may own; None means the default for
    # its role (members: the server setting; admins: no limit).
    max_live_stores: int | None = None
    # Set when the user acts through a Kubernetes Store object (``Store default/my-shop``):
    # the store watcher acts as its user with this set, and then ``name`` says who acted
    # (the object and its field manager). Only this door may change a store it owns.
    via_object: str | None = None

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    def can_see(self, store: Store) -> bool:
        """An admin sees every store; a member only its own."""
        return self.is_admin or (store.owner_id is not None and store.owner_id == self.id)

    def store_limit(self, member_default: int) -> int | None:
        """The most live stores this user may own (None: no limit)."""
        if self.max_live_stores is not None:
            return self.max_live_stores
        return None if self.is_admin else member_default


@dataclass(frozen=True, slots=True)
class ApiToken:
    """A token's record; the value itself is never stored, only ``token_hash``."""

    id: str
    user_id: str
    label: str
    token_hash: str
    created_at: datetime
    revoked_at: datetime | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


@dataclass(frozen=True, slots=True)
class IdempotencyKey:
    """A client's ``Idempotency-Key`` for one create, and a digest of the request it came with."""

    user_id: str
    key: str
    request_hash: str
