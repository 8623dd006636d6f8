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
    Terminating before its contents and itself are removed.

    Watch: ``watch_history`` changes are kept per resource for resuming from a
    resourceVersion (older ones get 410 Expired); ``watch_bookmark_interval`` seconds of
    quiet before a BOOKMARK (when the client allows them); a watcher more than
    ``watch_queue_size`` events behind is closed.

    ``faults``: failure injection at start-up (none by default; see
    :mod:`storeplane.sim.faults`), changeable at runtime through ``/sim/v1/faults``.
    """

    host: str = "127.0.0.1"
    port: int = 0
    state_path: Path | None = None
    ready_delay: float = 2.0
    terminate_delay: float = 0.2
    watch_history: int = 1000
    watch_bookmark_interval: float = 60.0
    watch_queue_size: int = 10000
    faults: Faults = field(default_factory=Faults)
