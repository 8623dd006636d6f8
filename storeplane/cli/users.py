"""``storeplane users ...`` and ``storeplane tokens ...``: the operator's commands for accounts.

They work on the database directly (``STOREPLANE_DATABASE_URL``, default SQLite in the data
dir), not through the API, so an operator can make the first tokens, and revoke any, with
access to the database alone. A token's value is printed once, when it is made.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, NoReturn

import typer
from rich.console import Console
from rich.table import Table

from storeplane.domain.errors import StoreplaneError
from storeplane.domain.users import Role

if TYPE_CHECKING:
    from storeplane.db import SqlUserRepository

users_app = typer.Typer(help="Manage users (on the database directly).", no_args_is_help=True)
tokens_app = typer.Typer(help="Manage API tokens (on the database directly).", no_args_is_help=True)
console = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


def _fail(message: str) -> NoReturn:
    err.print(f"[bold red]error:[/] {message}")
    raise typer.Exit(1)


@contextmanager
def _users() -> Iterator[SqlUserRepository]:
    """A migrated user repository on the configured database; errors printed as words."""
    from storeplane.db import SqlUserRepository, create_engine_for, migrate
    from storeplane.settings import Settings

    settings = Settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    migrate(settings.sqlalchemy_url)
    engine = create_engine_for(settings.sqlalchemy_url)
    try:
        yield SqlUserRepository(engine)
    except StoreplaneError as exc:
        _fail(str(exc))
    finally:
        engine.dispose()


@users_app.command("create")
def users_create(
    name: str = typer.Argument(..., help="Lower-case name, 2-63 characters."),
    role: Role = typer.Option(Role.MEMBER, help="admin: every store; member: its own stores."),
    max_stores: int | None = typer.Option(
        None, min=0, help="Live stores this user may own (default: the server's setting)."
    ),
    token: bool = typer.Option(False, "--token", help="Also make a first API token."),
) -> None:
    """Create a user."""
    from storeplane.services import auth

    with _users() as repo:
        user = auth.create_user(repo, name, role, max_live_stores=max_stores)
        console.print(f"created user {user.name} ({user.role.value}, {user.id})")
        if token:
            record, value = auth.issue_token(repo, user, "created with the user")
            _print_token(record.id, value)


@users_app.command("list")
def users_list() -> None:
    """List users."""
    with _users() as repo:
        table = Table("ID", "NAME", "ROLE", "MAX STORES", "CREATED")
        for user in repo.users():
            limit = "-" if user.max_live_stores is None else str(user.max_live_stores)
            table.add_row(user.id, user.name, user.role.value, limit, user.created_at.isoformat())
        console.print(table)


def _print_token(token_id: str, value: str) -> None:
    console.print(f"token {token_id} (shown only now; it cannot be read back):")
    console.print(value)


@tokens_app.command("create")
def tokens_create(
    user: str = typer.Argument(..., help="The user's name."),
    label: str = typer.Option("", help="What the token is for, to recognise it later."),
) -> None:
    """Make an API token for a user and print it once."""
    from storeplane.services import auth

    with _users() as repo:
        record, value = auth.issue_token_for(repo, user, label)
        _print_token(record.id, value)


@tokens_app.command("revoke")
def tokens_revoke(
    token: str = typer.Argument(..., help="The token's id (tok-...) or the token itself."),
) -> None:
    """Revoke a token: the next request that uses it is refused (401)."""
    from storeplane.services import auth

    with _users() as repo:
        record = auth.revoke_token(repo, token)
        console.print(f"revoked token {record.id}")


@tokens_app.command("list")
def tokens_list(user: str | None = typer.Option(None, help="Only this user's tokens.")) -> None:
    """List tokens (ids and labels; values are never stored)."""
    with _users() as repo:
        names = {u.id: u.name for u in repo.users()}
        user_id = repo.user_by_name(user).id if user else None
        table = Table("ID", "USER", "LABEL", "CREATED", "REVOKED")
        for t in repo.tokens(user_id):
            revoked = t.revoked_at.isoformat() if t.revoked_at else "-"
            table.add_row(
                t.id, names.get(t.user_id, t.user_id), t.label, t.created_at.isoformat(), revoked
            )
        console.print(table)
