"""``SqlUserRepository`` on SQLite and PostgreSQL: tokens by digest, revocation, bootstrap once."""

from __future__ import annotations

import threading

import pytest

from storeplane.db import SqlStoreRepository, SqlUserRepository
from storeplane.domain.errors import TokenNotFoundError, UserExistsError, UserNotFoundError
from storeplane.domain.users import Role
from storeplane.services import auth


@pytest.fixture
def users(repo: SqlStoreRepository) -> SqlUserRepository:
    return SqlUserRepository(repo.engine)


def test_a_token_authenticates_its_user_until_it_is_revoked(users: SqlUserRepository) -> None:
    alice = auth.create_user(users, "alice")
    record, value = auth.issue_token(users, alice, "laptop")
    assert users.authenticate(auth.hash_token(value)) == alice
    assert users.authenticate(auth.hash_token(value + "x")) is None
    revoked = auth.revoke_token(users, record.id)
    assert revoked.revoked_at is not None and not revoked.active
    assert users.authenticate(auth.hash_token(value)) is None
    assert auth.revoke_token(users, record.id).revoked_at == revoked.revoked_at  # idempotent


def test_names_are_unique_and_unknowns_say_so(users: SqlUserRepository) -> None:
    auth.create_user(users, "alice", Role.ADMIN)
    with pytest.raises(UserExistsError):
        auth.create_user(users, "alice")
    with pytest.raises(UserNotFoundError):
        users.user_by_name("nobody")
    with pytest.raises(TokenNotFoundError):
        users.revoke_token("tok-nothere", now=users.users()[0].created_at)


def test_bootstrap_happens_once_even_when_replicas_start_together(
    users: SqlUserRepository,
) -> None:
    results: list[str | None] = []
    barrier = threading.Barrier(4)

    def start() -> None:
        barrier.wait()
        results.append(auth.bootstrap_admin(users))

    threads = [threading.Thread(target=start) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    tokens = [r for r in results if r is not None]
    assert len(tokens) == 1
    assert [u.name for u in users.users()] == ["admin"]
    assert users.authenticate(auth.hash_token(tokens[0])) == users.user_by_name("admin")
    assert auth.bootstrap_admin(users) is None


def test_the_dev_token_file_is_kept_while_it_works_and_replaced_when_not(
    users: SqlUserRepository, tmp_path: object
) -> None:
    from pathlib import Path

    path = Path(str(tmp_path)) / "admin.token"
    first = auth.ensure_token_file(users, path)
    assert path.stat().st_mode & 0o777 == 0o600
    assert auth.ensure_token_file(users, path) == first
    auth.revoke_token(users, first)
    second = auth.ensure_token_file(users, path)
    assert second != first and path.read_text().strip() == second
    assert users.authenticate(auth.hash_token(second)) == users.user_by_name("admin")
