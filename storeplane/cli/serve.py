"""``storeplane serve``: the API and the reconciler against a real cluster (production)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import typer

from storeplane.cli.common import configure_logging, console


def serve(
    port: int = typer.Option(8080, help="Port for the API and dashboard."),
    host: str = typer.Option("0.0.0.0", help="Address to listen on."),
    kubeconfig: Path | None = typer.Option(
        None, help="Kubeconfig file; default KUBECONFIG, ~/.kube/config, or in-cluster."
    ),
    verbose: bool = typer.Option(False, "--verbose", "-v"),
    log_format: str = typer.Option("json", envvar="STOREPLANE_LOG_FORMAT", help="json or text."),
) -> None:
    """Run the API and the reconciler against a real cluster (settings from STOREPLANE_* env)."""
    from storeplane.cluster import connect
    from storeplane.runtime import bind, default_owner, run
    from storeplane.settings import Settings

    configure_logging(verbose, log_format)
    settings = Settings()
    bound = bind(host, port)

    def started(url: str) -> None:
        console.print(f"storeplane serving at {url} (owner {owner})")

    def bootstrapped(token: str) -> None:
        # Printed once, on the first start against an empty database, and never logged.
        console.print(
            "first start: created the user admin; its API token (shown only now, keep it "
            f"safe):\nbootstrap admin token: {token}"
        )

    owner = default_owner()
    asyncio.run(
        run(
            settings,
            connect(kubeconfig),
            bound,
            owner=owner,
            on_started=started,
            on_bootstrap=bootstrapped,
        )
    )
