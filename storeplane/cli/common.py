"""What every command module shares: the console, the log set-up, the SIGTERM handler."""

from __future__ import annotations

import signal
from collections.abc import Callable
from types import FrameType

import typer
from rich.console import Console

console = Console(soft_wrap=True)


def configure_logging(verbose: bool, fmt: str) -> None:
    from storeplane.observability.logging import configure

    if fmt not in ("json", "text"):
        raise typer.BadParameter("must be json or text", param_hint="--log-format")
    configure(fmt, verbose=verbose)


def end_on_sigterm_like_ctrl_c(serving: Callable[[], bool]) -> None:
    """Make SIGTERM (what a supervisor or ``kill`` sends) end a serving command as cleanly as
    Ctrl-C: the reconciler's shutdown and the command's ``finally`` run, and it exits 0.

    uvicorn catches SIGTERM while it serves, shuts down, then raises the signal again with the
    handler it found. With Python's default one that kills the process on the spot, before the
    reconciler stopped (and, for dev, before the simulator stopped the processes its node runs).
    With this one the re-raise returns; before the API serves (``serving()`` is False) SIGTERM
    stops the command as Ctrl-C does.
    """

    def terminated(signum: int, frame: FrameType | None) -> None:
        if not serving():
            raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, terminated)
