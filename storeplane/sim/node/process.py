"""The local-process runtime: a container is a process group on this machine.

Implements the runtime port (:mod:`storeplane.sim.node.runtime`) for the agent of
:mod:`storeplane.sim.node.agent`. Each container runs under ``files/conmon.sh`` (as CRI-O's
conmon): a small shell that is the container's parent, leads its own session (``setsid``, so
signals reach every process the container starts) and writes the container's pid and, at the
end, its exit code into the container's state folder. The output of the container goes to
its log file, opened by this runtime and inherited, so it survives the simulator.

Every container's identity is on disk (``state.json``: conmon's pid and its start time from
``/proc/<pid>/stat``), so a simulator killed with SIGKILL and restarted *adopts* the
containers that still run (:meth:`ProcessRuntime.adopt`) and learns the exit code of those
that ended meanwhile; a pid whose start time differs is a different process and is never
signalled.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from .runtime import (
    ContainerConfig,
    ContainerState,
    ContainerStatus,
    ExecResult,
    ProcessSpec,
    RuntimeError_,
    SandboxConfig,
)

logger = logging.getLogger(__name__)

CONMON = Path(__file__).parent / "files" / "conmon.sh"


def start_time(pid: int) -> int | None:
    """The process's start time in clock ticks since boot (``/proc/<pid>/stat`` field 22),
    or None when there is no such process (or it is a zombie)."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw[raw.rfind(")") + 2 :].split()
    if fields[0] == "Z":
        return None
    return int(fields[19])


def alive(pid: int, started: int | None) -> bool:
    """Whether ``pid`` is still the process that had start time ``started``."""
    return started is not None and start_time(pid) == started


def signal_group(pid: int, started: int | None, sig: int) -> None:
    """Signal the process group led by ``pid``, only if it is still the same process."""
    if not alive(pid, started):
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)


POD_MARK = "STOREPLANE_POD_UID"
CONTAINER_MARK = "STOREPLANE_CONTAINER"


def marked(sandbox_id: str) -> list[tuple[int, str]]:
    """(pid, container name) of every live process whose environment carries the pod's mark:
    also the ones that left the container's process group (a detached helper, as Medusa's
    telemetry starts one), which no group signal reaches. The poor man's cgroup."""
    wanted = f"{POD_MARK}={sandbox_id}".encode()
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/environ", "rb") as handle:
                environ = handle.read().split(b"\0")
        except OSError:
            continue
        if wanted not in environ:
            continue
        pid = int(entry.name)
        if start_time(pid) is None:
            continue  # a zombie
        container = next((v.split(b"=", 1)[1].decode() for v in environ
                          if v.startswith(CONTAINER_MARK.encode() + b"=")), "")  # fmt: skip
        found.append((pid, container))
    return found


def kill_strays(sandbox_id: str) -> None:
    """SIGKILL whatever still carries the pod's mark."""
    for pid, _ in marked(sandbox_id):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)


def which(name: str, path: str) -> str | None:
    if "/" in name:
        return name if os.access(name, os.X_OK) else None
    return shutil.which(name, path=path)


@dataclass
class _Container:
    id: str
    sandbox: str
    directory: Path
    config: ContainerConfig | None
    created_at: float
    started_at: float = 0.0
    finished_at: float = 0.0
    pid: int | None = None  # conmon's pid (the process group)
    pid_started: int | None = None
    popen: subprocess.Popen[bytes] | None = None
    exit_code: int | None = None
    killed: bool = False
    seen_alive: bool = False
    start_error: str = ""

    def save(self) -> None:
        state = {
            "id": self.id,
            "sandbox": self.sandbox,
            "created_at": self.created_at,
            "started_at": self.started_at,
            "pid": self.pid,
            "pid_started": self.pid_started,
        }
        if self.config is not None:
            process = self.config.process
            state["config"] = {
                "name": self.config.name, "image": self.config.image,
                "attempt": self.config.attempt, "log_path": str(self.config.log_path),
                "argv": list(process.argv), "env": process.env, "cwd": str(process.cwd),
                "user": process.user,
            }  # fmt: skip
        tmp = self.directory / "state.json.tmp"
        tmp.write_text(json.dumps(state))
        tmp.replace(self.directory / "state.json")


def _config_of(raw: object) -> ContainerConfig | None:
    if not isinstance(raw, dict):
        return None
    process = ProcessSpec(tuple(raw["argv"]), dict(raw["env"]), Path(raw["cwd"]), raw.get("user"))
    return ContainerConfig(
        raw["name"], raw["image"], int(raw["attempt"]), process, Path(raw["log_path"])
    )


class ProcessRuntime:
    """Containers as local processes; sandboxes are folders (the agent allocates addresses)."""

    name = "local"

    def __init__(self) -> None:
        self._sandboxes: dict[str, Path] = {}
        self._containers: dict[str, _Container] = {}

    # --- sandboxes ---

    def run_pod_sandbox(self, config: SandboxConfig) -> str:
        (config.directory / "containers").mkdir(parents=True, exist_ok=True)
        self._sandboxes[config.uid] = config.directory
        return config.uid

    def stop_pod_sandbox(self, sandbox_id: str) -> None:
        for container in list(self._containers.values()):
            if container.sandbox == sandbox_id:
                self.signal_container(container.id, kill=True)
        kill_strays(sandbox_id)

    def remove_pod_sandbox(self, sandbox_id: str) -> None:
        for container in list(self._containers.values()):
            if container.sandbox == sandbox_id:
                self.remove_container(container.id)
        kill_strays(sandbox_id)
        self._sandboxes.pop(sandbox_id, None)

    def adopt(self, sandbox_id: str, directory: Path) -> list[str]:
        """After a restart: take back the containers recorded under ``directory``
        (running ones keep running); returns their ids."""
        self._sandboxes[sandbox_id] = directory
        found = []
        for state_file in sorted((directory / "containers").glob("*/state.json")):
            try:
                state = json.loads(state_file.read_text())
            except (OSError, ValueError):
                continue
            container = _Container(
                id=str(state["id"]),
                sandbox=sandbox_id,
                directory=state_file.parent,
                config=_config_of(state.get("config")),
                created_at=float(state.get("created_at") or 0),
                started_at=float(state.get("started_at") or 0),
                pid=state.get("pid"),
                pid_started=state.get("pid_started"),
            )
            container.seen_alive = container.pid is not None and alive(
                container.pid, container.pid_started
            )
            self._containers[container.id] = container
            found.append(container.id)
        return found

    def processes(self, sandbox_id: str) -> list[tuple[str, int]]:
        """(container id, pid of the container's own process) for every live container."""
        result = []
        for container in self._containers.values():
            if container.sandbox != sandbox_id or container.pid is None:
                continue
            if not alive(container.pid, container.pid_started):
                continue
            result.append((container.id, self._child_pid(container) or container.pid))
        return result

    def groups(self, sandbox_id: str) -> set[int]:
        """The process groups of the sandbox's live containers (conmon leads each)."""
        return {c.pid for c in self._containers.values()
                if c.sandbox == sandbox_id and c.pid is not None and alive(c.pid, c.pid_started)}  # fmt: skip

    @staticmethod
    def _child_pid(container: _Container) -> int | None:
        try:
            return int((container.directory / "pid").read_text())
        except (OSError, ValueError):
            return None

    # --- containers ---

    def create_container(self, sandbox_id: str, config: ContainerConfig) -> str:
        directory = self._sandboxes[sandbox_id] / "containers" / f"{config.name}-{config.attempt}"
        if directory.exists():
            shutil.rmtree(directory)
        directory.mkdir(parents=True)
        container_id = f"{sandbox_id[:8]}-{config.name}-{config.attempt}"
        container = _Container(container_id, sandbox_id, directory, config, time.time())
        if config.process.user is not None:  # conmon writes its pid and exit code here
            shutil.chown(directory, config.process.user, config.process.user)
        container.save()
        self._containers[container_id] = container
        return container_id

    def start_container(self, container_id: str) -> None:
        container = self._containers[container_id]
        config = container.config
        assert config is not None and container.pid is None, "containers start once"
        process = config.process
        executable = which(process.argv[0], process.env.get("PATH", os.defpath))
        if executable is None:
            container.start_error = f'exec: "{process.argv[0]}": executable file not found in $PATH'
            container.exit_code = 128
            container.finished_at = time.time()
            raise RuntimeError_(
                "RunContainerError",
                "failed to create containerd task: failed to create shim task: OCI runtime "
                f"create failed: runc create failed: unable to start container process: "
                f"{container.start_error}: unknown",
            )
        if not process.cwd.is_dir():
            raise RuntimeError_(
                "RunContainerError",
                f"failed to start container: working directory {process.cwd} does not exist",
            )
        config.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(config.log_path, "ab") as log:
            popen = subprocess.Popen(
                [str(CONMON), str(container.directory), executable, *process.argv[1:]],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                cwd=process.cwd,
                env=process.env,
                start_new_session=True,
                user=process.user,
                close_fds=True,
            )
        container.popen = popen
        container.pid = popen.pid
        container.pid_started = start_time(popen.pid)
        container.started_at = time.time()
        container.save()
        logger.info("started %s (pid %s): %s", container_id, popen.pid, " ".join(process.argv))

    def signal_container(self, container_id: str, kill: bool) -> None:
        container = self._containers.get(container_id)
        if container is None or container.pid is None:
            return
        if kill:
            container.killed = True
        signal_group(
            container.pid, container.pid_started, signal.SIGKILL if kill else signal.SIGTERM
        )

    def remove_container(self, container_id: str) -> None:
        container = self._containers.pop(container_id, None)
        if container is None:
            return
        if container.pid is not None and alive(container.pid, container.pid_started):
            signal_group(container.pid, container.pid_started, signal.SIGKILL)
        if container.popen is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                container.popen.wait(1)
        shutil.rmtree(container.directory, ignore_errors=True)

    def _exit_code(self, container: _Container) -> int | None:
        """The exit code once the container ended, else None. Reaps our own child."""
        if container.exit_code is not None:
            return container.exit_code
        if container.pid is None:
            return None
        if container.popen is not None:
            code = container.popen.poll()
            if code is None:
                return None
        elif alive(container.pid, container.pid_started):
            return None
        try:
            code = int((container.directory / "exit").read_text())
        except (OSError, ValueError):
            # conmon itself was killed (SIGKILL to the group): the container with it.
            code = 137 if container.killed or container.popen is None else None
            if code is None and container.popen is not None:
                raw = container.popen.returncode
                code = 128 - raw if raw < 0 else raw
        container.exit_code = code
        container.finished_at = time.time()
        # As when a container's first process ends: whatever it started ends with it. The
        # group cannot be someone else's yet (a pid is not reused while its group lives),
        # unless it ended long before we looked (adopted after a restart): then leave it.
        if container.popen is not None or container.seen_alive:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(container.pid, signal.SIGKILL)
        return code

    def container_status(self, container_id: str) -> ContainerStatus:
        container = self._containers.get(container_id)
        if container is None:
            return ContainerStatus(container_id, ContainerState.UNKNOWN)
        log_path = container.config.log_path if container.config else None
        base = ContainerStatus(
            container_id,
            ContainerState.CREATED,
            created_at=container.created_at,
            started_at=container.started_at,
            log_path=log_path,
        )
        if container.start_error:
            return ContainerStatus(
                container_id, ContainerState.EXITED, container.created_at, 0,
                container.finished_at, 128, "StartError", container.start_error,
            )  # fmt: skip
        if container.pid is None:
            return base
        code = self._exit_code(container)
        if code is None:
            return ContainerStatus(
                container_id, ContainerState.RUNNING, container.created_at,
                container.started_at, pid=self._child_pid(container) or container.pid,
                log_path=log_path,
            )  # fmt: skip
        reason = "Completed" if code == 0 else "Error"
        return ContainerStatus(
            container_id, ContainerState.EXITED, container.created_at, container.started_at,
            container.finished_at or time.time(), code, reason, log_path=log_path,
        )  # fmt: skip

    async def exec_sync(
        self, container_id: str, argv: tuple[str, ...], timeout: float
    ) -> ExecResult:
        container = self._containers.get(container_id)
        if container is None or container.config is None:
            return ExecResult(126, f"container {container_id} is not known to this runtime")
        process = container.config.process
        executable = which(argv[0], process.env.get("PATH", os.defpath))
        if executable is None:
            return ExecResult(127, f'exec: "{argv[0]}": executable file not found in $PATH')
        # A thread, not the loop's subprocess support: uvloop's has no ``user``.
        return await asyncio.to_thread(_run, (executable, *argv[1:]), process, timeout)


def _run(argv: tuple[str, ...], process: ProcessSpec, timeout: float) -> ExecResult:
    proc = subprocess.Popen(
        argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        cwd=process.cwd, env=process.env, start_new_session=True, user=process.user,
    )  # fmt: skip
    try:
        output, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        return ExecResult(-1, "", timed_out=True)
    return ExecResult(proc.returncode or 0, output.decode(errors="replace"))
