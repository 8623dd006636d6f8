"""Accounts for admins: list users, create a member, set a store limit, issue and revoke tokens.

Called by the API's ``/api/v1/users`` and ``/api/v1/tokens`` routes (the dashboard's admin
pages); the operator commands ``storeplane users`` / ``storeplane tokens`` do the same on the
database directly through :mod:`storeplane.services.auth`. Every use case takes the acting
user and refuses a member with :class:`AdminOnlyError`, which the API answers exactly as an
unknown path (404): a member learns nothing about other accounts, as with other people's stores.
"""

from __future__ import annotations

from dataclasses import dataclass

from storeplane.domain.errors import AdminOnlyError, TokenNotFoundError, UserNotFoundError
from storeplane.domain.ports import FleetReader, UserRepository
from storeplane.domain.users import ApiToken, Role, User
from storeplane.services import auth
from storeplane.settings import Settings


@dataclass(frozen=True, slots=True)
class Account:
    """A user, what it may own and what it owns, and how many working tokens it has."""

    user: User
    store_limit: int | None  # the effective limit (None: no limit)
    live_stores: int
    active_tokens: int


@dataclass(frozen=True, slots=True)
class IssuedToken:
    """A new token's record and its value: the only time the value is ever returned."""

    token: ApiToken
    user: User
    value: str


def _require_admin(actor: User) -> None:
    if not actor.is_admin:
        raise AdminOnlyError()


def _user(repo: UserRepository, user_id: str) -> User:
    # Ids only: a name would be a second way to address the same account.
    if not user_id.startswith("user-"):
        raise UserNotFoundError(user_id)
    return repo.user_by_id(user_id)


def list_accounts(
    repo: UserRepository, fleet: FleetReader | None, settings: Settings, actor: User
) -> list[Account]:
    """Every user, oldest first, with its limit, live stores and active tokens."""
    _require_admin(actor)
    owned = fleet.live_stores_by_owner() if fleet is not None else {}
    active: dict[str, int] = {}
    for token in repo.tokens():
        if token.active:
            active[token.user_id] = active.get(token.user_id, 0) + 1
    return [
        Account(
            user=u,
            store_limit=u.store_limit(settings.max_stores_per_user),
            live_stores=owned.get(u.id, 0),
            active_tokens=active.get(u.id, 0),
        )
        for u in repo.users()
    ]


def create_member(
    repo: UserRepository, name: str, max_live_stores: int | None, actor: User
) -> User:
    """A new member (admins are made with ``storeplane users create --role admin``).
    Raises UserExistsError if the name is taken, InvalidRequestError for a bad name."""
    _require_admin(actor)
    return auth.create_user(repo, name, Role.MEMBER, max_live_stores=max_live_stores)


def set_store_limit(
    repo: UserRepository, user_id: str, max_live_stores: int | None, actor: User
) -> User:
    """Set how many live stores the user may own (None: the server's default for its role).
    Stores it already owns are kept; only new ones are refused beyond the limit."""
    _require_admin(actor)
    _user(repo, user_id)
    return repo.set_store_limit(user_id, max_live_stores)


def list_tokens(repo: UserRepository, actor: User, user_id: str | None = None) -> list[ApiToken]:
    """Token records (never values), oldest first; one user's with ``user_id``."""
    _require_admin(actor)
    if user_id is not None:
        _user(repo, user_id)
    return repo.tokens(user_id)


def issue_token(repo: UserRepository, user_id: str, label: str, actor: User) -> IssuedToken:
    """A new token for the user; its value is in the answer and never readable again."""
    _require_admin(actor)
    user = _user(repo, user_id)
    token, value = auth.issue_token(repo, user, label)
    return IssuedToken(token=token, user=user, value=value)


def revoke_token(repo: UserRepository, token_id: str, actor: User) -> ApiToken:
    """Revoke by id (idempotent: revoking again returns the same record). From the next
    request on the token authenticates nobody."""
    _require_admin(actor)
    if not token_id.startswith("tok-"):
        raise TokenNotFoundError(token_id)
    return auth.revoke_token(repo, token_id)
