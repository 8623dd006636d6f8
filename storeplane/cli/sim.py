"""``storeplane sim``: the Kubernetes API simulator on its own."""

from __future__ import annotations

from pathlib import Path

import typer

from storeplane.cli.common import configure_logging


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
    local_runtimes: bool = typer.Option(
        False,
        help="Run containers whose image has a local runtime (Medusa, postgres, redis) "
        "as processes on this machine (docs/simulator.md, 'The local node').",
    ),
    runtimes: Path | None = typer.Option(
        None,
        help="Your own runtime table (JSON or YAML) instead of the built-in one; "
        "implies --local-runtimes.",
    ),
    ingress_port: int | None = typer.Option(
        None, help="Serve the cluster's Ingresses on this port, routed by Host (0 picks one)."
    ),
    node_dir: Path | None = typer.Option(
        None, help="Folder for pods' and claims' files (default: beside --state, else temporary)."
    ),
    rbac: bool = typer.Option(
        False,
        "--rbac",
        help="Authenticate bearer tokens (admin in the kubeconfig, ServiceAccount tokens from "
        "'kubectl create token') and authorize every request with RBAC.",
    ),
) -> None:
    """Run the Kubernetes API simulator on its own (faults: see docs/simulator.md)."""
    from storeplane.sim.config import parse_codes, parse_ready_delays
    from storeplane.sim.faults import Faults
    from storeplane.sim.runner import SimulatorConfig, serve_forever

    configure_logging(False, "text")
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
        if runtimes is not None:  # a bad table is the user's to fix before anything starts
            from storeplane.sim.node.images import load_table

            load_table(runtimes)
    except Exception as exc:  # ApiError (bad fault setting), ValueError (bad flag or table)
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
            local_runtimes=local_runtimes,
            runtimes_file=runtimes,
            node_dir=node_dir,
            rbac=rbac,
            ingress_port=ingress_port,
        ),
        kubeconfig,
    )
