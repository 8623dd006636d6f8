"""``python -m storeplane.sim``: run a simulator in the foreground (no CLI dependencies)."""

from __future__ import annotations

import argparse
from pathlib import Path

from .runner import SimulatorConfig, serve_forever


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m storeplane.sim", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--state", type=Path, default=None, help="SQLite state file")
    parser.add_argument("--ready-delay", type=float, default=2.0)
    parser.add_argument("--terminate-delay", type=float, default=0.2)
    parser.add_argument("--kubeconfig", type=Path, default=None, help="write a kubeconfig here")
    parser.add_argument(
        "--local-runtimes", action="store_true", help="run images with a local runtime as processes"
    )
    parser.add_argument("--runtimes", type=Path, default=None, help="your own runtime table")
    parser.add_argument("--node-dir", type=Path, default=None, help="pods' and claims' folders")
    parser.add_argument("--rbac", action="store_true", help="authenticate and authorize (RBAC)")
    parser.add_argument("--ingress-port", type=int, default=None, help="serve Ingresses here")
    args = parser.parse_args(argv)
    config = SimulatorConfig(
        host=args.host,
        port=args.port,
        state_path=args.state,
        ready_delay=args.ready_delay,
        terminate_delay=args.terminate_delay,
        local_runtimes=args.local_runtimes,
        runtimes_file=args.runtimes,
        node_dir=args.node_dir,
        rbac=args.rbac,
        ingress_port=args.ingress_port,
    )
    serve_forever(config, args.kubeconfig)


if __name__ == "__main__":
    main()
