"""``storeplane serve``: the API and the reconciler against a real cluster (production)."""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
import os
import signal
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import typer

from storeplane.cli.common import configure_logging, console, end_on_sigterm_like_ctrl_c

if TYPE_CHECKING:
    from storeplane.runtime import Bound
    from storeplane.settings import Settings
    from storeplane.wakes import WakePipe


def serve(
    port: int = typer.Option(8080, help="Port for the API and dashboard."),
    host: str = typer.Option("0.0.0.0", help="Address to listen on."),
    kubeconfig: Path | None = typer.Option(
        None, help="Kubeconfig file; default KUBECONFIG, ~/.kube/config, or in-cluster."
    ),
    verbose: bool = typer.Option(False, "--verbose", "-v"),
    log_format: str = typer.Option("json", envvar="STOREPLANE_LOG_FORMAT", help="json or text."),
    api_processes: int | None = typer.Option(
        None,
        "--api-processes",
        min=1,
        max=64,
        help="Processes serving the API on the one port (default STOREPLANE_API_PROCESSES, 1). "
        "The reconciler runs once, in the first.",
    ),
) -> None:
    """Run the API and the reconciler against a real cluster (settings from STOREPLANE_* env)."""
    from storeplane.cluster import connect
    from storeplane.db import SqlUserRepository, create_engine_for, migrate
    from storeplane.runtime import bind, default_owner, run
    from storeplane.services import auth
    from storeplane.settings import Settings
    from storeplane.wakes import WakePipe

    configure_logging(verbose, log_format)
    settings = Settings()
    if api_processes is not None:
        settings = settings.model_copy(update={"api_processes": api_processes})
    bound = bind(host, port)

    serving: list[str] = []

    def started(url: str) -> None:
        serving.append(url)
        console.print(f"storeplane serving at {url} (owner {owner})")

    def bootstrapped(token: str) -> None:
        # Printed once, on the first start against an empty database, and never logged.
        console.print(
            "first start: created the user admin; its API token (shown only now, keep it "
            f"safe):\nbootstrap admin token: {token}"
        )

    wakes: WakePipe | None = None
    children: list[int] = []
    if settings.api_processes > 1:
        # Before forking: the schema and the first admin are made once, by this process.
        migrate(settings.sqlalchemy_url)
        engine = create_engine_for(settings.sqlalchemy_url)
        token = auth.bootstrap_admin(SqlUserRepository(engine))
        engine.dispose()
        if token is not None:
            bootstrapped(token)
        wakes = WakePipe()
        parent = os.getpid()
        for _ in range(settings.api_processes - 1):
            pid = os.fork()
            if pid == 0:
                _api_child(settings, kubeconfig, bound, wakes.for_child(), parent)
            children.append(pid)
        wakes.close_write()
    owner = default_owner()
    end_on_sigterm_like_ctrl_c(lambda: bool(serving))  # after forking: the children keep theirs
    try:
        status = asyncio.run(
            run(
                settings,
                connect(kubeconfig),
                bound,
                owner=owner,
                on_started=started,
                on_bootstrap=bootstrapped,
                wakes=wakes,
                children=children,
            )
        )
    finally:
        _stop_children(children)
    if status:
        raise typer.Exit(status)


def _api_child(
    settings: Settings, kubeconfig: Path | None, bound: Bound, wakes: WakePipe, parent: int
) -> NoReturn:
    """The body of a forked API process: serve until SIGTERM (also sent when the parent dies,
    however it dies), then leave without running the parent's cleanup."""
    # Its own process group: a terminal's Ctrl-C reaches the parent only, which stops the
    # children in order (a child stopping first would read as a crash).
    os.setpgid(0, 0)
    ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    if os.getppid() != parent:  # the parent died before the line above
        os._exit(1)
    from storeplane.cluster import connect
    from storeplane.runtime import serve_api

    status = 0
    try:
        asyncio.run(serve_api(settings, connect(kubeconfig), bound, wakes))
    except BaseException:
        logging.getLogger(__name__).exception("API process %d failed", os.getpid())
        status = 1
    finally:
        os._exit(status)


def _stop_children(children: list[int]) -> None:
    for pid in children:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            continue
    for pid in children:
        with contextlib.suppress(ChildProcessError):  # already reaped: the one that exited
            os.waitpid(pid, 0)
