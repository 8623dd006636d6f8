"""``storeplane db``: database maintenance."""

from __future__ import annotations

import typer

from storeplane.cli.common import console

db_app = typer.Typer(help="Database maintenance.", no_args_is_help=True)


@db_app.command("migrate")
def db_migrate() -> None:
    """Upgrade the database (STOREPLANE_DATABASE_URL, default SQLite in the data dir) to the latest schema."""
    from storeplane.db import migrate
    from storeplane.settings import Settings

    settings = Settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    migrate(settings.sqlalchemy_url)
    console.print(f"database is up to date: {settings.sqlalchemy_url}")
