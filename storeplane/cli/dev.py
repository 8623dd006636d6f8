"""``storeplane dev``: the one-command local experience - SQLite, the in-process Kubernetes
simulator, the API, the reconciler and the dashboard, at a printed URL.

By default the simulator's node runs the containers whose image has a local runtime (the
Medusa store app, PostgreSQL, Redis) as processes on this machine, and the stores' Ingresses
are served on the dev port itself: a store opens at ``http://<store-id>.localhost:<port>``
(``*.localhost`` is the loopback address, no DNS needed). ``--simulate-workloads`` runs
nothing (every container simulated), for thousands of stores or a machine without the
runtimes.
"""

from __future__ import annotations

import asyncio
import os
import socket
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from storeplane.cli.common import configure_logging, console, end_on_sigterm_like_ctrl_c
from storeplane.cli.connection import ADMIN_TOKEN_FILE, forget_api_url, write_api_url

if TYPE_CHECKING:
    from storeplane.settings import Settings


def dev(
    port: int = typer.Option(8080, help="Port for the API and dashboard (0 picks a free one)."),
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    data_dir: Path = typer.Option(
        Path(".data"), help="SQLite database, simulator state and kubeconfig."
    ),
    ready_delay: float = typer.Option(
        2.0, help="Seconds the simulator takes to make workloads ready."
    ),
    simulate_workloads: bool = typer.Option(
        False,
        "--simulate-workloads",
        help="Run no store containers at all (every pod simulated): fast, for many stores.",
    ),
    runtimes: Path | None = typer.Option(
        None, help="Your own runtime table (image -> local program); see docs/simulator.md."
    ),
    verbose: bool = typer.Option(False, "--verbose", "-v"),
    log_format: str = typer.Option("text", envvar="STOREPLANE_LOG_FORMAT", help="text or json."),
) -> None:
    """Run everything locally: SQLite + the built-in Kubernetes simulator + API + reconciler + dashboard."""
    from storeplane.cluster import connect
    from storeplane.runtime import STORE_CRD, bind, run
    from storeplane.sim.kubeconfig import write_kubeconfig
    from storeplane.sim.runner import SimulatorConfig, start_in_thread

    configure_logging(verbose, log_format)
    data_dir = data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    if simulate_workloads and runtimes is not None:
        raise typer.BadParameter("--runtimes has no effect with --simulate-workloads")
    bound = bind(host, port)
    settings = _settings(data_dir, bound.port)
    sim = start_in_thread(
        SimulatorConfig(
            state_path=data_dir / "simulator.db",
            ready_delay=ready_delay,
            local_runtimes=not simulate_workloads,
            runtimes_file=runtimes,
            ingress_port=0,
        )
    )
    kubeconfig = write_kubeconfig(data_dir / "kubeconfig", sim.url)

    token_file = data_dir / ADMIN_TOKEN_FILE

    recorded: list[str] = []

    def started(url: str) -> None:
        # The CLI finds this server through this file when it is given no --api-url.
        write_api_url(data_dir, url)
        recorded.append(url)
        console.print(
            f"[bold green]storeplane is running at {url}[/]  (dashboard, API under /api/v1, docs at /docs)"
        )
        console.print(f"  database:   {settings.sqlalchemy_url}")
        console.print(f"  simulator:  {sim.url}  (kubectl --kubeconfig {kubeconfig} get ns)")
        console.print(
            f"  stores:     http://<store-id>.localhost:{bound.port} (the stores' Ingresses)"
        )
        for line in _runtime_lines(simulate_workloads, runtimes):
            console.print(f"              {line}")
        # The CLI looks in ./.data unless told otherwise (--data-dir or STOREPLANE_DATA_DIR).
        usual = data_dir == Path(".data").resolve()
        where = "" if usual else f" --data-dir {data_dir}"
        console.print(
            f"  admin token: {token_file} (mode 0600; the CLI reads it from there, curl with "
            f'-H "Authorization: Bearer $(cat {token_file})")'
        )
        console.print(
            f"  dashboard:  sign in with that token (paste it, or open {url}/#token=<the token>)"
        )
        console.print(
            f"  try:        storeplane stores{where} create my-shop --engine medusa --wait"
        )
        console.print("  stop with Ctrl-C")

    end_on_sigterm_like_ctrl_c(lambda: bool(recorded))
    try:
        # A stable owner id: after a crash, the restarted process takes its own leases back at once.
        owner = f"dev-{socket.gethostname()}"
        asyncio.run(
            run(
                settings,
                connect(kubeconfig),
                bound,
                owner=owner,
                on_started=started,
                token_file=token_file,
                store_ingress=sim.ingress_url,
                store_crd=STORE_CRD,
            )
        )
    finally:
        for url in recorded:
            forget_api_url(data_dir, url)
        sim.stop()


def _settings(data_dir: Path, port: int) -> Settings:
    """Settings from the environment, with dev's own defaults where it says nothing: stores
    at ``<id>.localhost`` on the dev port (where :mod:`storeplane.dev_ingress` serves them),
    and no final backup when a store is deleted."""
    from storeplane.settings import Settings

    defaults: dict[str, object] = {"data_dir": data_dir}
    if "STOREPLANE_BASE_DOMAIN" not in os.environ:
        defaults["base_domain"] = "localhost"
        if "STOREPLANE_STORE_URL_PORT" not in os.environ:
            defaults["store_url_port"] = port
    # A dev store is a scratch store: no final backup on deletion unless asked for.
    if "STOREPLANE_FINAL_BACKUP_DEFAULT" not in os.environ:
        defaults["final_backup_default"] = False
    return Settings(**defaults)  # type: ignore[arg-type]


def _runtime_lines(simulate_workloads: bool, runtimes: Path | None) -> list[str]:
    """What runs for real: one line per image of the runtime table, or why nothing does."""
    if simulate_workloads:
        return ["nothing runs behind them: every container is simulated (--simulate-workloads)"]
    from storeplane.sim.node.images import TableError, load_table

    try:
        table = load_table(runtimes)
    except TableError as exc:
        raise typer.BadParameter(str(exc), param_hint="--runtimes") from exc
    return [*table.describe(), "every other image is simulated (nothing runs behind it)"]
