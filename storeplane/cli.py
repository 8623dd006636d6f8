"""The ``storeplane`` command: run the product (dev, serve, sim), migrate, and manage stores.

``storeplane dev`` is the one-command local experience: SQLite, the in-process Kubernetes
simulator, the API, the reconciler and the dashboard, at a printed URL. ``storeplane stores``
talks to a running API (``--api-url``/``STOREPLANE_API_URL``).
"""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import typer
from rich.console import Console

from storeplane.cli_stores import ADMIN_TOKEN_FILE, stores_app
from storeplane.cli_users import tokens_app, users_app

app = typer.Typer(
    help="storeplane: provision and manage e-commerce stores on Kubernetes.",
    no_args_is_help=True,
    add_completion=False,
)
app.add_typer(stores_app, name="stores")
app.add_typer(users_app, name="users")
app.add_typer(tokens_app, name="tokens")
db_app = typer.Typer(help="Database maintenance.", no_args_is_help=True)
app.add_typer(db_app, name="db")
console = Console(soft_wrap=True)


def _logging(verbose: bool, fmt: str) -> None:
    from storeplane.observability.logging import configure

    if fmt not in ("json", "text"):
        raise typer.BadParameter("must be json or text", param_hint="--log-format")
    configure(fmt, verbose=verbose)


@app.command()
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

    _logging(verbose, log_format)
    data_dir = data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    settings = Settings(data_dir=data_dir)
    bound = bind(host, port)
    sim = start_in_thread(
        SimulatorConfig(state_path=data_dir / "simulator.db", ready_delay=ready_delay)
    )
    kubeconfig = write_kubeconfig(data_dir / "kubeconfig", sim.url)

    token_file = data_dir / ADMIN_TOKEN_FILE

    def started(url: str) -> None:
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
            f"  try:        storeplane stores --api-url {url}{where} create my-shop --engine medusa --wait"
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
        sim.stop()


@app.command()
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

    _logging(verbose, log_format)
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


@app.command()
def sim(
    port: int = typer.Option(6443, help="Port to listen on (0 picks a free one)."),
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    kubeconfig: Path | None = typer.Option(None, help="Write a kubeconfig for the simulator here."),
    state: Path | None = typer.Option(
        None, help="Keep objects in this SQLite file (default: memory only)."
    ),
    ready_delay: float = typer.Option(
        2.0, help="Seconds before Deployments/StatefulSets report ready."
    ),
    ready_delay_for: list[str] = typer.Option(
        [], help="Per-kind ready delay, KIND=SECONDS (Pod, Job, PersistentVolumeClaim, Ingress)."
    ),
    terminate_delay: float = typer.Option(
        0.2, help="Seconds a deleted namespace stays Terminating."
    ),
    watch_history: int = typer.Option(
        1000, help="Changes kept per resource for resuming watches (older: 410 Gone)."
    ),
    fault_error_rate: float = typer.Option(
        0.0, help="Share (0-1) of API calls answered with an injected error."
    ),
    fault_codes: str = typer.Option(
        "500,503,429", help="Injected error codes, from 429,500,502,503,504."
    ),
    fault_retry_after: int = typer.Option(1, help="Retry-After seconds on injected 429/503."),
    fault_latency: float = typer.Option(0.0, help="Seconds added to every API call."),
    fault_watch_drop_after: float | None = typer.Option(
        None, help="Cut every watch connection after this many seconds."
    ),
    fault_fail_image_tag: str = typer.Option(
        "fail", help="Images with this tag never become ready ('' turns it off)."
    ),
    fault_seed: int | None = typer.Option(None, help="Seed for repeatable fault choices."),
) -> None:
    """Run the Kubernetes API simulator on its own (faults: see docs/simulator.md)."""
    from storeplane.sim.config import parse_codes, parse_ready_delays
    from storeplane.sim.faults import Faults
    from storeplane.sim.runner import SimulatorConfig, serve_forever

    _logging(False, "text")
    try:
        faults = Faults.from_json(
            {
                "error_rate": fault_error_rate,
                "error_codes": list(parse_codes(fault_codes)),
                "retry_after": fault_retry_after,
                "latency": fault_latency,
                "watch_drop_after": fault_watch_drop_after,
                "fail_image_tag": fault_fail_image_tag,
                "seed": fault_seed,
            }
        )
        delays = parse_ready_delays(ready_delay_for)
    except Exception as exc:  # ApiError (bad fault setting) or ValueError (bad flag)
        raise typer.BadParameter(str(exc)) from exc
    serve_forever(
        SimulatorConfig(
            host=host,
            port=port,
            state_path=state,
            ready_delay=ready_delay,
            ready_delays=delays,
            terminate_delay=terminate_delay,
            watch_history=watch_history,
            faults=faults,
        ),
        kubeconfig,
    )


@db_app.command("migrate")
def db_migrate() -> None:
    """Upgrade the database (STOREPLANE_DATABASE_URL, default SQLite in the data dir) to the latest schema."""
    from storeplane.db import migrate
    from storeplane.settings import Settings

    settings = Settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    migrate(settings.sqlalchemy_url)
    console.print(f"database is up to date: {settings.sqlalchemy_url}")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
