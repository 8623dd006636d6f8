"""``/api/v1/users`` and ``/api/v1/tokens``: accounts, for admins (the console's admin pages).

Thin: :mod:`storeplane.services.accounts` does the work and refuses members, who get the
answer of a path that does not exist (404), as they do for other people's stores. A token's
value is in the answer to its creation only.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, status

from storeplane.api.deps import CurrentUserDep, FleetDep, SettingsDep, UsersDep
from storeplane.api.routing import ApiRoute
from storeplane.api.schemas import (
    TokenCreate,
    TokenIssued,
    TokenPublic,
    TokensPublic,
    UserCreate,
    UserPublic,
    UsersPublic,
    UserUpdate,
)
from storeplane.services import accounts as service
from storeplane.services.accounts import Account

users_router = APIRouter(prefix="/api/v1/users", tags=["accounts"], route_class=ApiRoute)
tokens_router = APIRouter(prefix="/api/v1/tokens", tags=["accounts"], route_class=ApiRoute)

UserId = Annotated[str, Path(max_length=32, description="The user's id, e.g. `user-4k2m9x7q1z`.")]
TokenId = Annotated[str, Path(max_length=32, description="The token's id, e.g. `tok-4k2m9x7q1z`.")]
_ADMINS = "Admins only: for a member every path here answers 404, as a path that does not exist."


def _problems(**codes: str) -> dict[int | str, dict[str, Any]]:
    return {int(code.removeprefix("e")): {"description": text} for code, text in codes.items()}


def _account(user_id: str, accounts: list[Account]) -> UserPublic:
    found = next(a for a in accounts if a.user.id == user_id)
    return UserPublic.from_account(found)


@users_router.get(
    "",
    response_model=UsersPublic,
    summary="List users",
    description=f"Every user, oldest first, with its store limit, live stores and tokens. {_ADMINS}",
    responses=_problems(e404="You are not an admin."),
)
def list_users(
    users: UsersDep, fleet: FleetDep, settings: SettingsDep, user: CurrentUserDep
) -> UsersPublic:
    accounts = service.list_accounts(users, fleet, settings, user)
    return UsersPublic(items=[UserPublic.from_account(a) for a in accounts], count=len(accounts))


@users_router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=UserPublic,
    summary="Create a member",
    description=(
        "A new member: it sees and changes only its own stores. Give it a token with "
        f"`POST /api/v1/tokens`. Admins are made with `storeplane users create --role admin`. {_ADMINS}"
    ),
    responses=_problems(
        e404="You are not an admin.",
        e409="A user with this name exists.",
        e422="The body is invalid (the name's rule, a negative limit).",
    ),
)
def create_user(
    body: UserCreate, users: UsersDep, fleet: FleetDep, settings: SettingsDep, user: CurrentUserDep
) -> UserPublic:
    created = service.create_member(users, body.name, body.max_live_stores, user)
    return _account(created.id, service.list_accounts(users, fleet, settings, user))


@users_router.patch(
    "/{user_id}",
    response_model=UserPublic,
    summary="Set a user's store limit",
    description=(
        "How many live stores the user may own (null: the server's default for its role). "
        f"Stores it already owns are kept; only new ones beyond the limit are refused. {_ADMINS}"
    ),
    responses=_problems(e404="No such user, or you are not an admin."),
)
def update_user(
    user_id: UserId,
    body: UserUpdate,
    users: UsersDep,
    fleet: FleetDep,
    settings: SettingsDep,
    user: CurrentUserDep,
) -> UserPublic:
    service.set_store_limit(users, user_id, body.max_live_stores, user)
    return _account(user_id, service.list_accounts(users, fleet, settings, user))


@tokens_router.get(
    "",
    response_model=TokensPublic,
    summary="List tokens",
    description=f"Token records (never their values), oldest first. {_ADMINS}",
    responses=_problems(e404="No such user, or you are not an admin."),
)
def list_tokens(
    users: UsersDep,
    user: CurrentUserDep,
    user_id: Annotated[
        str | None, Query(max_length=32, description="Only this user's tokens.")
    ] = None,
) -> TokensPublic:
    tokens = service.list_tokens(users, user, user_id)
    return TokensPublic(items=[TokenPublic.from_domain(t) for t in tokens], count=len(tokens))


@tokens_router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=TokenIssued,
    summary="Issue a token",
    description=(
        "A new API token for a user. Its `value` is in this answer and never again (only a "
        f"digest is stored): give it to its user now. {_ADMINS}"
    ),
    responses=_problems(e404="No such user, or you are not an admin."),
)
def issue_token(body: TokenCreate, users: UsersDep, user: CurrentUserDep) -> TokenIssued:
    return TokenIssued.from_issued(service.issue_token(users, body.user_id, body.label, user))


@tokens_router.delete(
    "/{token_id}",
    response_model=TokenPublic,
    summary="Revoke a token",
    description=(
        "From the next request on the token authenticates nobody. Idempotent: revoking a "
        f"revoked token answers its record again. {_ADMINS}"
    ),
    responses=_problems(e404="No such token, or you are not an admin."),
)
def revoke_token(token_id: TokenId, users: UsersDep, user: CurrentUserDep) -> TokenPublic:
    return TokenPublic.from_domain(service.revoke_token(users, token_id, user))
