"""The ``storeplane`` command: run the product (dev, serve, sim), migrate, and manage stores.

One module per command group; this one only wires them. ``storeplane dev`` is the
one-command local experience; ``storeplane stores`` talks to a running API
(``--api-url``/``STOREPLANE_API_URL``).
"""

from __future__ import annotations

import typer

from storeplane.cli.db import db_app
from storeplane.cli.dev import dev
from storeplane.cli.rollouts import rollouts_app
from storeplane.cli.serve import serve
from storeplane.cli.sim import sim
from storeplane.cli.stores import stores_app
from storeplane.cli.users import tokens_app, users_app

app = typer.Typer(
    help="storeplane: provision and manage e-commerce stores on Kubernetes.",
    no_args_is_help=True,
    add_completion=False,
)
app.command()(dev)
app.command()(serve)
app.command()(sim)
app.add_typer(stores_app, name="stores")
app.add_typer(rollouts_app, name="rollouts")
app.add_typer(users_app, name="users")
app.add_typer(tokens_app, name="tokens")
app.add_typer(db_app, name="db")


def main() -> None:
    app()
