"""The simulator's settings, shared by the app and the runner (re-exported by runner)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .faults import Faults


@dataclass
class SimulatorConfig:
    """How to run a simulator.

    ``port`` 0 picks a free port. ``state_path`` None keeps the cluster in memory only.
    ``ready_delay``: seconds until Deployments/StatefulSets are ready and Jobs complete
    (0 = on the next tick). ``terminate_delay``: seconds a deleted namespace stays
    Terminating before its contents and itself are removed. ``ready_delays`` overrides
    ``ready_delay`` per kind: ``Pod`` (so Deployments/StatefulSets), ``Job``,
    ``PersistentVolumeClaim`` (bound), ``Ingress`` (and LoadBalancer Services get an address).
    ``controllers`` False runs no built-in controller at all (a bare API server: nothing
    gets status, no pods, namespaces stay Terminating), for tests of the API alone.

    Watch: ``watch_history`` changes are kept per resource for resuming from a
    resourceVersion (older ones get 410 Expired); ``watch_bookmark_interval`` seconds of
    quiet before a BOOKMARK (when the client allows them); a watcher more than
    ``watch_queue_size`` events behind is closed.

    ``faults``: failure injection at start-up (none by default; see
    :mod:`storeplane.sim.faults`), changeable at runtime through ``/sim/v1/faults``.

    The node (see :mod:`storeplane.sim.node`): ``local_runtimes`` True runs containers whose
    image is in the runtime table as local processes (the built-in table, or
    ``runtimes_file``, which turns them on too); off by default, when every container is
    simulated as before. ``node_dir``: where pods' and claims' folders go (default: beside
    the state file, ``<state>.node``, else a temporary folder). ``ingress_port``: serve the
    cluster's Ingresses on this port (0 picks one; None: off); see
    ``RunningSimulator.ingress_url``.
    ``rbac`` True turns on authentication and authorization (see :mod:`storeplane.sim.api.auth`):
    every request needs a bearer token (the admin token, user ``admin`` in ``system:masters``,
    or a ServiceAccount token from the TokenRequest API) and is allowed only as the RBAC
    objects say. ``admin_token`` fixes the admin token (None: the one kept in the state file,
    else a new random one); the runner resolves it before start so a kubeconfig can carry it.
    Off by default: then any token (or none) may do anything, as before.
    """

    host: str = "127.0.0.1"
    port: int = 0
    state_path: Path | None = None
    ready_delay: float = 2.0
    terminate_delay: float = 0.2
    ready_delays: dict[str, float] = field(default_factory=dict)
    controllers: bool = True
    watch_history: int = 1000
    watch_bookmark_interval: float = 60.0
    watch_queue_size: int = 10000
    faults: Faults = field(default_factory=Faults)
    local_runtimes: bool = False
    runtimes_file: Path | None = None
    node_dir: Path | None = None
    ingress_port: int | None = None

    @property
    def runtime_mode(self) -> bool:
        """Whether the node runs local processes (and the scheduler, Job and endpoints
        controllers that go with them)."""
        return self.local_runtimes or self.runtimes_file is not None

    rbac: bool = False
    admin_token: str | None = None


def parse_ready_delays(values: list[str]) -> dict[str, float]:
    """``["Pod=1.5", "Job=0"]`` (the ``--ready-delay-for`` flag) as ``{"Pod": 1.5, "Job": 0.0}``;
    ValueError naming the bad entry."""
    delays: dict[str, float] = {}
    for value in values:
        kind, sep, seconds = value.partition("=")
        try:
            delays[kind.strip()] = float(seconds)
        except ValueError:
            sep = ""
        if not sep or not kind.strip():
            raise ValueError(f"expected KIND=SECONDS (e.g. Pod=1.5), got {value!r}")
    return delays


def parse_codes(value: str) -> tuple[int, ...]:
    """``"500,503,429"`` (the ``--fault-codes`` flag) as a tuple of ints."""
    try:
        return tuple(int(code) for code in value.split(",") if code.strip())
    except ValueError as exc:
        raise ValueError(f"expected HTTP codes separated by commas, got {value!r}") from exc
