"""Users and API tokens: create them, hand a token out once, revoke it, authenticate a request.

Called by the API's authentication dependency, by the operator commands (``storeplane users``,
``storeplane tokens``, which work on the database directly) and at start (the bootstrap
admin, and ``storeplane dev``'s token file).

A token is ``sp_`` and 43 random URL-safe characters (256 bits from :mod:`secrets`). Only
its SHA-256 digest is stored: a token is high-entropy, so a plain digest cannot be brute
forced, and it lets a request be authenticated with one indexed lookup. The value is shown
once, when it is made, and never again.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import string
from datetime import UTC, datetime
from pathlib import Path

from storeplane.domain.errors import (
    AuthenticationError,
    TokenNotFoundError,
    UserExistsError,
    UserNotFoundError,
)
from storeplane.domain.ports import UserRepository
from storeplane.domain.users import ApiToken, Role, User, validate_user_name

TOKEN_PREFIX = "sp_"
BOOTSTRAP_ADMIN = "admin"
_ID_ALPHABET = string.ascii_lowercase + string.digits


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _new_id(prefix: str) -> str:
    return prefix + "".join(secrets.choice(_ID_ALPHABET) for _ in range(10))


def new_token_value() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def create_user(
    repo: UserRepository,
    name: str,
    role: Role = Role.MEMBER,
    *,
    max_live_stores: int | None = None,
    now: datetime | None = None,
) -> User:
    """Create a user; UserExistsError if the name is taken."""
    user = User(
        id=_new_id("user-"),
        name=validate_user_name(name),
        role=role,
        created_at=now or _utcnow(),
        max_live_stores=max_live_stores,
    )
    return repo.create_user(user)


def ensure_user(
    repo: UserRepository, name: str, role: Role = Role.MEMBER, *, max_live_stores: int | None = None
) -> User:
    """The user called ``name``, made when missing (the Store-object door's user)."""
    try:
        return repo.user_by_name(name)
    except UserNotFoundError:
        pass
    try:
        return create_user(repo, name, role, max_live_stores=max_live_stores)
    except UserExistsError:  # another replica made it meanwhile
        return repo.user_by_name(name)


def issue_token(
    repo: UserRepository, user: User, label: str = "", *, now: datetime | None = None
) -> tuple[ApiToken, str]:
    """A new token for ``user``: its record and its value. Show the value to the person once;
    it cannot be read back."""
    value = new_token_value()
    token = ApiToken(
        id=_new_id("tok-"),
        user_id=user.id,
        label=label[:64],
        token_hash=hash_token(value),
        created_at=now or _utcnow(),
    )
    return repo.add_token(token), value


def issue_token_for(
    repo: UserRepository, user_name: str, label: str = "", *, now: datetime | None = None
) -> tuple[ApiToken, str]:
    return issue_token(repo, repo.user_by_name(user_name), label, now=now)


def revoke_token(repo: UserRepository, token: str, *, now: datetime | None = None) -> ApiToken:
    """Revoke a token by its id (``tok-...``) or by its value (``sp_...``). From the next
    request on it authenticates nobody. Idempotent."""
    token_id = token
    if token.startswith(TOKEN_PREFIX):
        found = next((t for t in repo.tokens() if t.token_hash == hash_token(token)), None)
        if found is None:
            raise TokenNotFoundError("(the token you gave)")
        token_id = found.id
    return repo.revoke_token(token_id, now=now or _utcnow())


def authenticate(repo: UserRepository, authorization: str | None) -> User:
    """The user behind an ``Authorization: Bearer <token>`` header value.

    Raises AuthenticationError (reason ``missing`` without a bearer token, ``invalid`` for an
    unknown or revoked one). A revoked token fails at once: the lookup reads the database, or
    a cache that any commit, from any process, invalidates (``storeplane.db.readcache``).
    """
    digest = _bearer_digest(authorization)
    return _known(repo.authenticate(digest) if digest is not None else None)


async def authenticate_async(repo: UserRepository, authorization: str | None) -> User:
    """:func:`authenticate` with the repository's ``authenticate_async`` (the API's event
    loop, on PostgreSQL: ``storeplane.db.pgreads``); the same answers and errors."""
    digest = _bearer_digest(authorization)
    lookup = repo.authenticate_async  # type: ignore[attr-defined]
    return _known(await lookup(digest) if digest is not None else None)


def _bearer_digest(authorization: str | None) -> str | None:
    """The digest of the bearer token in ``authorization``; None for a value that cannot be
    one of ours (it authenticates nobody); AuthenticationError(missing) without a token."""
    if not authorization:
        raise AuthenticationError(
            "this endpoint needs an API token: send Authorization: Bearer <token> (an operator "
            "makes one with `storeplane tokens create USER`; `storeplane dev` writes one to "
            "<data dir>/admin.token)",
            reason="missing",
        )
    scheme, _, value = authorization.partition(" ")
    value = value.strip()
    if scheme.lower() != "bearer" or not value:
        raise AuthenticationError(
            "the Authorization header must be `Bearer <token>`", reason="missing"
        )
    return hash_token(value) if value.startswith(TOKEN_PREFIX) else None


def _known(user: User | None) -> User:
    if user is None:
        raise AuthenticationError(
            "the API token is unknown or revoked; ask an operator for a new one "
            "(storeplane tokens create USER)",
            reason="invalid",
        )
    return user


def cached_user(repo: UserRepository, authorization: str | None) -> User | None:
    """The user behind ``authorization`` when the repository can tell without any I/O (a
    cache that a commit anywhere invalidates, see ``storeplane.db.readcache``); None means
    "call :func:`authenticate`", never "refused". Cheap enough for the API's event loop."""
    lookup = getattr(repo, "cached_user", None)
    if lookup is None or not authorization:
        return None
    scheme, _, value = authorization.partition(" ")
    value = value.strip()
    if scheme.lower() != "bearer" or not value.startswith(TOKEN_PREFIX):
        return None
    user: User | None = lookup(hash_token(value))
    return user


def bootstrap_admin(repo: UserRepository, *, now: datetime | None = None) -> str | None:
    """On a database without users, create the ``admin`` user with one token and return the
    token's value (to print once); None when there were users already."""
    at = now or _utcnow()
    user = User(id=_new_id("user-"), name=BOOTSTRAP_ADMIN, role=Role.ADMIN, created_at=at)
    value = new_token_value()
    token = ApiToken(
        id=_new_id("tok-"),
        user_id=user.id,
        label="bootstrap",
        token_hash=hash_token(value),
        created_at=at,
    )
    return value if repo.bootstrap(user, token) else None


def ensure_token_file(repo: UserRepository, path: Path) -> str:
    """``storeplane dev``: make sure ``path`` (mode 0600) holds a working admin token.

    Keeps the token in the file if it still authenticates an admin; otherwise issues a new
    one for the ``admin`` user (creating that user if needed) and writes it. Returns it.
    """
    if path.is_file():
        current = path.read_text().strip()
        if current.startswith(TOKEN_PREFIX):
            user = repo.authenticate(hash_token(current))
            if user is not None and user.is_admin:
                _restrict(path)
                return current
    value = bootstrap_admin(repo)
    if value is None:
        try:
            admin = repo.user_by_name(BOOTSTRAP_ADMIN)
        except UserNotFoundError:
            admin = create_user(repo, BOOTSTRAP_ADMIN, Role.ADMIN)
        if not admin.is_admin:
            raise SystemExit(
                f'the user "{BOOTSTRAP_ADMIN}" in this database is not an admin; '
                "storeplane dev cannot make a token for itself"
            )
        _, value = issue_token(repo, admin, "storeplane dev")
    write_secret_file(path, value + "\n")
    return value


def write_secret_file(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` readable by its owner only (0600), from the first byte."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    _restrict(path)


def _restrict(path: Path) -> None:
    os.chmod(path, 0o600)
