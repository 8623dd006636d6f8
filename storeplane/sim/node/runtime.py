"""The node's runtime port, shaped like the CRI (``RuntimeService`` of cri-api's api.proto).

The kubelet stand-in (:mod:`storeplane.sim.node.agent`) talks to containers only through
:class:`Runtime`: it runs a pod *sandbox* (the pod's address and folders), then creates,
starts, stops and removes containers in it, reads their status and their log files, and runs
exec probes. Two implementations:

- :class:`storeplane.sim.node.simulated.SimulatedRuntime`: nothing runs; a container is
  "running" from its start until it is stopped (or, for a run-to-completion container, until
  its configured run time ends, then it exits 0). What every image without a local runtime gets.
- :class:`storeplane.sim.node.process.ProcessRuntime`: the container is a local process
  group (``setsid``) with its output in a log file.

Everything a kubelet decides (init order, restart policy, back-off, probes, grace periods,
volumes, env resolution) lives above the port and is shared by both.
Values at the cut are plain frozen dataclasses, as in the CRI's messages.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Protocol


class ContainerState(Enum):
    """CRI ``ContainerState``."""

    CREATED = "created"
    """Created, never started."""
    RUNNING = "running"
    """Started and not exited."""
    EXITED = "exited"
    """Ended (by itself or stopped); ``exit_code`` says how."""
    UNKNOWN = "unknown"
    """The runtime lost track of it (e.g. its record is gone)."""


@dataclass(frozen=True)
class SandboxConfig:
    """What a pod sandbox needs: identity, its own loopback address, its folder."""

    uid: str
    namespace: str
    name: str
    ip: str
    directory: Path


@dataclass(frozen=True)
class ProcessSpec:
    """The process of a container, resolved above the port: host paths, host names and
    ``$(VAR)`` already rewritten. ``user`` is an OS user name to run as (None: as the
    simulator). ``run_for`` is only read by the simulated runtime: seconds until a simulated
    run-to-completion container exits 0 (None: it runs until stopped)."""

    argv: tuple[str, ...]
    env: dict[str, str]
    cwd: Path
    user: str | None = None
    run_for: float | None = None


@dataclass(frozen=True)
class ContainerConfig:
    """CRI ``ContainerConfig``: name, image, attempt (the restart count), the process, and
    the log file the container's output goes to."""

    name: str
    image: str
    attempt: int
    process: ProcessSpec
    log_path: Path


@dataclass(frozen=True)
class ContainerStatus:
    """CRI ``ContainerStatus``. Times are epoch seconds (0 = not yet)."""

    id: str
    state: ContainerState
    created_at: float = 0.0
    started_at: float = 0.0
    finished_at: float = 0.0
    exit_code: int = 0
    reason: str = ""
    message: str = ""
    pid: int | None = None
    log_path: Path | None = None


@dataclass(frozen=True)
class ExecResult:
    exit_code: int
    output: str = ""
    timed_out: bool = False


@dataclass
class RuntimeError_(Exception):
    """A runtime call failed; ``reason`` is what the kubelet puts into the container's
    Waiting state (e.g. ``RunContainerError``)."""

    reason: str
    message: str
    details: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return self.message


class Runtime(Protocol):
    """CRI ``RuntimeService``, the subset a kubelet stand-in needs."""

    name: str
    """``local`` or ``simulated``: shown in the pod's annotations and the proxy's header."""

    def run_pod_sandbox(self, config: SandboxConfig) -> str:
        """Prepare the sandbox; returns its id (idempotent for the same pod uid)."""
        ...

    def stop_pod_sandbox(self, sandbox_id: str) -> None:
        """SIGKILL whatever still runs in the sandbox (the kubelet has already given each
        container its grace period)."""
        ...

    def remove_pod_sandbox(self, sandbox_id: str) -> None: ...

    def create_container(self, sandbox_id: str, config: ContainerConfig) -> str: ...

    def start_container(self, container_id: str) -> None:
        """Start it; raises :class:`RuntimeError_` (``RunContainerError``) when it cannot."""
        ...

    def signal_container(self, container_id: str, kill: bool) -> None:
        """SIGTERM (``kill`` False) or SIGKILL the container's whole process group. The
        grace period between the two is the kubelet's business (see the agent)."""
        ...

    def remove_container(self, container_id: str) -> None: ...

    def container_status(self, container_id: str) -> ContainerStatus: ...

    async def exec_sync(
        self, container_id: str, argv: tuple[str, ...], timeout: float
    ) -> ExecResult:
        """Run ``argv`` beside the container (same env, folder and user), as exec probes do."""
        ...
