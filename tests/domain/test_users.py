"""Roles: who sees which store, and whose store count is limited."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from storeplane.domain.errors import InvalidRequestError
from storeplane.domain.plans import PlanName
from storeplane.domain.store import Engine, Store, StoreSpec
from storeplane.domain.users import Role, User, validate_user_name

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def user(name: str, role: Role = Role.MEMBER, limit: int | None = None) -> User:
    return User(id=f"user-{name}", name=name, role=role, created_at=T0, max_live_stores=limit)


def store(owner: str | None) -> Store:
    return Store.create(
        StoreSpec(name="shop", engine=Engine.MEDUSA, plan=PlanName.SMALL),
        store_id="store-abcd1234",
        url=None,
        now=T0,
        deadline=timedelta(minutes=5),
        owner_id=owner,
    )


@pytest.mark.parametrize(
    ("who", "owner", "sees"),
    [
        (user("alice"), "user-alice", True),
        (user("bob"), "user-alice", False),
        (user("bob"), None, False),
        (user("root", Role.ADMIN), "user-alice", True),
        (user("root", Role.ADMIN), None, True),
    ],
    ids=[
        "a member sees its own store",
        "a member does not see another member's store",
        "a member does not see a store from before there were users",
        "an admin sees a member's store",
        "an admin sees a store without an owner",
    ],
)
def test_who_sees_which_store(who: User, owner: str | None, sees: bool) -> None:
    assert who.can_see(store(owner)) is sees


@pytest.mark.parametrize(
    ("who", "limit"),
    [
        (user("alice"), 5),
        (user("alice", limit=2), 2),
        (user("root", Role.ADMIN), None),
        (user("root", Role.ADMIN, limit=50), 50),
    ],
    ids=[
        "a member gets the server default",
        "a member's own limit wins",
        "an admin has no limit by default",
        "an admin with a limit of its own has it",
    ],
)
def test_store_limits(who: User, limit: int | None) -> None:
    assert who.store_limit(5) == limit


@pytest.mark.parametrize("name", ["Alice", "a", "1abc", "has space", "x" * 64])
def test_bad_user_names_are_refused(name: str) -> None:
    with pytest.raises(InvalidRequestError, match="user name"):
        validate_user_name(name)
