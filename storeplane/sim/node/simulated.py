"""The simulated runtime: the runtime port with nothing behind it.

Used by the kubelet stand-ins for every container whose image has no local runtime
(:mod:`storeplane.sim.node.virtual` for pods on the virtual node, the agent of
:mod:`storeplane.sim.node.agent` for the simulated containers of a pod on the local node).
A started container is running until it is stopped; one with ``run_for`` (a simulated Job
container) exits 0 that many seconds after its start. Exec probes succeed. Nothing is kept
on disk: after a restart, the kubelet above re-creates what it needs.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from itertools import count

from .runtime import (
    ContainerConfig,
    ContainerState,
    ContainerStatus,
    ExecResult,
    RuntimeError_,
    SandboxConfig,
)

_ids = count(1)


@dataclass
class _Container:
    sandbox: str
    config: ContainerConfig
    status: ContainerStatus


class SimulatedRuntime:
    name = "simulated"

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._sandboxes: dict[str, set[str]] = {}
        self._containers: dict[str, _Container] = {}

    def run_pod_sandbox(self, config: SandboxConfig) -> str:
        self._sandboxes.setdefault(config.uid, set())
        return config.uid

    def stop_pod_sandbox(self, sandbox_id: str) -> None:
        for container_id in self._sandboxes.get(sandbox_id, set()):
            self.signal_container(container_id, kill=True)

    def remove_pod_sandbox(self, sandbox_id: str) -> None:
        for container_id in self._sandboxes.pop(sandbox_id, set()):
            self._containers.pop(container_id, None)

    def create_container(self, sandbox_id: str, config: ContainerConfig) -> str:
        container_id = f"sim-{next(_ids):08x}"
        status = ContainerStatus(container_id, ContainerState.CREATED, created_at=self._clock())
        self._containers[container_id] = _Container(sandbox_id, config, status)
        self._sandboxes.setdefault(sandbox_id, set()).add(container_id)
        return container_id

    def _get(self, container_id: str) -> _Container:
        container = self._containers.get(container_id)
        if container is None:
            raise RuntimeError_("RunContainerError", f"container {container_id} not found")
        return container

    def start_container(self, container_id: str) -> None:
        container = self._get(container_id)
        container.status = replace(
            container.status, state=ContainerState.RUNNING, started_at=self._clock()
        )

    def signal_container(self, container_id: str, kill: bool) -> None:
        container = self._containers.get(container_id)
        if container is None or self.container_status(container_id).state is not (
            ContainerState.RUNNING
        ):
            return
        container.status = replace(
            container.status,
            state=ContainerState.EXITED,
            finished_at=self._clock(),
            exit_code=137 if kill else 143,
            reason="Error",
        )

    def remove_container(self, container_id: str) -> None:
        container = self._containers.pop(container_id, None)
        if container is not None:
            self._sandboxes.get(container.sandbox, set()).discard(container_id)

    def container_status(self, container_id: str) -> ContainerStatus:
        container = self._containers.get(container_id)
        if container is None:
            return ContainerStatus(container_id, ContainerState.UNKNOWN)
        status = container.status
        run_for = container.config.process.run_for
        if (
            status.state is ContainerState.RUNNING
            and run_for is not None
            and self._clock() >= status.started_at + run_for
        ):
            status = container.status = replace(
                status,
                state=ContainerState.EXITED,
                finished_at=status.started_at + run_for,
                exit_code=0,
                reason="Completed",
            )
        return status

    async def exec_sync(
        self, container_id: str, argv: tuple[str, ...], timeout: float
    ) -> ExecResult:
        return ExecResult(0, "")
