"""``storeplane dev``: the one-command local experience - SQLite, the in-process Kubernetes
simulator, the API, the reconciler and the dashboard, at a printed URL."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import typer

from storeplane.cli.common import configure_logging, console
from storeplane.cli.connection import ADMIN_TOKEN_FILE, forget_api_url, write_api_url


def dev(
    port: int = typer.Option(8080, help="Port for the API and dashboard (0 picks a free one)."),
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    data_dir: Path = typer.Option(
        Path(".data"), help="SQLite database, simulator state and kubeconfig."
    ),
    ready_delay: float = typer.Option(
        2.0, help="Seconds the simulator takes to make workloads ready."
    ),
    verbose: bool = typer.Option(False, "--verbose", "-v"),
    log_format: str = typer.Option("text", envvar="STOREPLANE_LOG_FORMAT", help="text or json."),
) -> None:
    """Run everything locally: SQLite + the built-in Kubernetes simulator + API + reconciler + dashboard."""
    from storeplane.cluster import connect
    from storeplane.runtime import bind, run
    from storeplane.settings import Settings
    from storeplane.sim.kubeconfig import write_kubeconfig
    from storeplane.sim.runner import SimulatorConfig, start_in_thread

    configure_logging(verbose, log_format)
    data_dir = data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    settings = Settings(data_dir=data_dir)
    bound = bind(host, port)
    sim = start_in_thread(
        SimulatorConfig(state_path=data_dir / "simulator.db", ready_delay=ready_delay)
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
            )
        )
    finally:
        for url in recorded:
            forget_api_url(data_dir, url)
        sim.stop()
