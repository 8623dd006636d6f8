"""What every command module shares: the console and log set-up."""

from __future__ import annotations

import typer
from rich.console import Console

console = Console(soft_wrap=True)


def configure_logging(verbose: bool, fmt: str) -> None:
    from storeplane.observability.logging import configure

    if fmt not in ("json", "text"):
        raise typer.BadParameter("must be json or text", param_hint="--log-format")
    configure(fmt, verbose=verbose)
