"""The kubelet of the local node: runs the pods bound to it through the runtime port.

Started by the app's lifespan when local runtimes are configured (``SimulatorConfig``
``local_runtimes`` / ``runtimes_file``); fed by :meth:`Cluster.subscribe_changes`. One
:class:`PodWorker` (an asyncio task) per pod bound to :data:`LOCAL_NODE` does what the
kubelet's pod workers do, above the port and the same for every runtime:

- the sandbox: an address (:mod:`.network`), folders and volumes (:mod:`.volumes`);
- init containers one after the other, each to a successful exit; then every container;
- before each start the container's config: env (:mod:`.envvars`; a missing Secret,
  ConfigMap or key waits in ``CreateContainerConfigError``), command and args with
  ``$(VAR)``, paths and host names rewritten, the image's contract (:mod:`.images`);
- restarts per ``restartPolicy`` with the kubelet's back-off (immediately, then 10 s doubling
  to 5 min: ``CrashLoopBackOff``), ``restartCount`` and ``lastState``;
- probes (:mod:`.probes`): startup, then readiness (``Ready``) and liveness (a failure
  restarts the container); containers without a readiness probe are ready once running;
- pod deletion: SIGTERM, ``terminationGracePeriodSeconds``, SIGKILL; then the folders go
  (claims' folders stay until their claim is deleted);
- status (phase, conditions, container statuses) written only when it changes, and Events
  (Pulled, Created, Started, Killing, BackOff, Unhealthy, FailedMount).

Containers whose image has a local runtime run as processes (:class:`ProcessRuntime`); the
other containers of such a pod run in the simulated runtime, and the pod says so in its
``sim.storeplane.dev/Simulated`` condition. After a restart of the simulator the agent
adopts the processes it finds (pid and start time on disk) and kills those of pods that
no longer exist.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import hashlib
import logging
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from ..controllers import events
from ..kinds import Kind, by_qualified
from ..store.cluster import Cluster, rfc3339
from . import envvars, network, probes
from .images import LocalImage, RuntimeTable
from .process import CONTAINER_MARK, POD_MARK, ProcessRuntime, marked
from .runtime import (
    ContainerConfig,
    ContainerState,
    ProcessSpec,
    Runtime,
    RuntimeError_,
    SandboxConfig,
)
from .simulated import SimulatedRuntime
from .volumes import NodeFolders, PodPaths, VolumeError, overlay, rewrite_paths, setup_volumes

logger = logging.getLogger(__name__)

Obj = dict[str, Any]
PODS = by_qualified("pods")
SERVICES = by_qualified("services")
LOCAL_NODE = "storeplane-local"
COMPONENT = "kubelet"
SIMULATED_CONDITION = "sim.storeplane.dev/Simulated"
RUNTIME_ANNOTATION = "sim.storeplane.dev/runtime"
BACKOFF_INITIAL = 10.0
BACKOFF_MAX = 300.0
BACKOFF_RESET = 600.0  # a container that ran this long starts its back-off again
TICK = 0.5
STOP_GRACE = 3.0  # seconds each container gets when the whole simulator stops
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def is_local(pod: Obj) -> bool:
    return (pod.get("spec") or {}).get("nodeName") == LOCAL_NODE


def _container_key(pod: Obj) -> str:
    return str(pod["metadata"]["uid"])


@dataclass
class ContainerRun:
    """What the kubelet knows about one container of a pod."""

    spec: Obj
    init: bool
    image: LocalImage | None
    id: str | None = None
    runtime: Runtime | None = None
    restart_count: int = 0
    state: Obj = field(default_factory=lambda: {"waiting": {"reason": "ContainerCreating"}})
    last_state: Obj = field(default_factory=dict)
    ready: bool = False
    started: bool = False
    succeeded: bool = False
    next_start: float = 0.0
    backoff: float = 0.0
    started_at: float = 0.0
    kill_reason: str = ""
    paths: PodPaths | None = None
    env: dict[str, str] = field(default_factory=dict)
    probe_task: asyncio.Task[None] | None = None

    @property
    def name(self) -> str:
        return str(self.spec.get("name"))

    @property
    def running(self) -> bool:
        return "running" in self.state


class PodWorker:
    """One pod's lifecycle on the local node."""

    def __init__(self, node: LocalNode, pod: Obj) -> None:
        self.node = node
        self.pod = pod
        self.uid = str(pod["metadata"]["uid"])
        self.namespace = str(pod["metadata"].get("namespace", ""))
        self.name = str(pod["metadata"]["name"])
        spec = pod.get("spec") or {}
        self.policy = str(spec.get("restartPolicy") or "Always")
        table = node.table
        self.inits = [ContainerRun(c, True, table.lookup(c.get("image")))
                      for c in spec.get("initContainers") or []]  # fmt: skip
        self.apps = [ContainerRun(c, False, table.lookup(c.get("image")))
                     for c in spec.get("containers") or []]  # fmt: skip
        self.ip: str | None = None
        self.sandbox = False
        self.volumes: dict[str, Path] = {}
        self.volume_error = ""
        self.failed = False
        self.initialized = not self.inits
        self.wake = asyncio.Event()
        self.stopping = False
        self.task: asyncio.Task[None] | None = None
        self._written: Obj | None = None
        self.socket_dir: Path | None = None

    # --- naming ---

    @property
    def directory(self) -> Path:
        return self.node.folders.pod_dir(self.uid)

    def runtime_for(self, run: ContainerRun) -> Runtime:
        if run.image is not None:
            return self.node.process
        return self.node.simulated

    # --- the loop ---

    async def run(self) -> None:
        try:
            while not self.stopping:
                try:
                    self.sync()
                except Exception:
                    logger.exception("pod worker %s/%s failed a sync", self.namespace, self.name)
                self.write_status()
                self.wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.wake.wait(), TICK)
        except asyncio.CancelledError:
            pass

    def sync(self) -> None:
        if not self.sandbox and not self._make_sandbox():
            return
        if self.failed:
            return
        if not self.initialized:
            for run in self.inits:
                if run.succeeded:
                    continue
                self._step(run)
                if not run.succeeded:
                    return
            self.initialized = True
            self.node.wake_controllers()
        for run in self.apps:
            self._step(run)
        self._check_failed()

    def _check_failed(self) -> None:
        if (
            self.policy == "Never"
            and any(
                "terminated" in r.state and r.state["terminated"].get("exitCode") != 0
                for r in self.apps
            )
            and all("terminated" in r.state for r in self.apps)
        ):
            self.failed = True

    # --- sandbox ---

    def sync_sandbox(self) -> None:
        """Set the sandbox up now (after a restart, before adopting its containers)."""
        if not self.sandbox:
            self._make_sandbox()

    def _make_sandbox(self) -> bool:
        record = self.node.folders.pod_record(self.uid)
        if self.ip is None:
            self.ip = (record or {}).get("ip") or self.node.addresses.pod()
            self.node.addresses.claim_pod(self.ip)
        extra: list[str] = []
        if any(
            r.image is not None and r.image.entrypoint == "postgres" for r in self.inits + self.apps
        ):
            # unix socket paths are limited to 107 bytes: a short folder of the pod's own
            self.socket_dir = Path("/tmp") / f".storeplane-pg-{self.uid[:13]}"
            extra.append(str(self.socket_dir))
        self.node.folders.write_pod_record(self.uid, {
            "namespace": self.namespace, "name": self.name, "uid": self.uid, "ip": self.ip,
            "extra_dirs": extra,
        })  # fmt: skip
        try:
            self.volumes = setup_volumes(self.node.folders, self.pod, self._lookup)
        except VolumeError as exc:
            message = str(exc)
            if message != self.volume_error:
                self.volume_error = message
                self.event("Warning", "FailedMount", message)
            return False
        self.volume_error = ""
        config = SandboxConfig(self.uid, self.namespace, self.name, self.ip, self.directory)
        self.node.process.run_pod_sandbox(config)
        self.node.simulated.run_pod_sandbox(config)
        if self.socket_dir is not None:
            self.socket_dir.mkdir(mode=0o755, exist_ok=True)
        self.sandbox = True
        return True

    def _lookup(self, resource: str, name: str) -> Obj | None:
        kind = by_qualified(resource)
        return self.node.cluster.store.peek(self.node.cluster.key(kind, self.namespace, name))

    # --- one container ---

    def _step(self, run: ContainerRun) -> None:
        now = time.time()
        if run.id is not None and run.runtime is not None:
            status = run.runtime.container_status(run.id)
            if status.state is ContainerState.RUNNING:
                return
            if status.state is ContainerState.CREATED:
                return
            self._exited(run, status.exit_code, status.reason, status.message, status.finished_at)
        if run.succeeded or ("terminated" in run.state and not self._restarts(run)):
            return
        if now < run.next_start:
            return
        self._start(run)

    def restarts(self, run: ContainerRun) -> bool:
        return self._restarts(run)

    def resume_simulated(self, run: ContainerRun, state: Obj) -> None:
        """A simulated container recorded as running before a restart: running again,
        quietly (nothing ran, so nothing restarted)."""
        run.runtime = self.node.simulated
        process = self._simulated_spec(run)
        log = self.directory / "logs" / run.name / f"{run.restart_count}.log"
        config = ContainerConfig(
            run.name, str(run.spec.get("image")), run.restart_count, process, log
        )
        self.node.simulated.run_pod_sandbox(
            SandboxConfig(self.uid, self.namespace, self.name, self.ip or "", self.directory)
        )
        run.id = self.node.simulated.create_container(self.uid, config)
        self.node.simulated.start_container(run.id)
        run.state = state
        run.started = run.ready = not run.init

    def _restarts(self, run: ContainerRun) -> bool:
        """Whether a terminated container starts again (restartPolicy)."""
        code = int((run.state.get("terminated") or {}).get("exitCode", 0))
        if self.policy == "Always":
            return not run.init or code != 0
        if self.policy == "OnFailure":
            return code != 0
        return False

    def _exited(
        self, run: ContainerRun, code: int, reason: str, message: str, finished: float
    ) -> None:
        if run.probe_task is not None:
            run.probe_task.cancel()
            run.probe_task = None
        assert run.runtime is not None and run.id is not None
        terminated: Obj = {
            "exitCode": code,
            "reason": reason or ("Completed" if code == 0 else "Error"),
            "startedAt": rfc3339(run.started_at or finished),
            "finishedAt": rfc3339(finished or time.time()),
            "containerID": f"{run.runtime.name}://{run.id}",
        }
        if message:
            terminated["message"] = message
        run.state = {"terminated": terminated}
        run.ready = False
        run.started = False
        run.runtime.remove_container(run.id)
        run.id = None
        if run.init and code == 0:
            run.succeeded = True
            return
        if code == 0 and self.policy != "Always":
            run.succeeded = True
            return
        if not self._restarts(run):
            if run.init and self.policy == "Never":
                self.failed = True
            return
        ran = (finished or time.time()) - run.started_at
        if ran > BACKOFF_RESET:
            run.backoff = 0.0
        run.last_state = run.state
        run.restart_count += 1
        run.next_start = time.time() + run.backoff
        if run.backoff:
            run.state = {"waiting": {"reason": "CrashLoopBackOff", "message": (
                f"back-off {int(run.backoff)}s restarting failed container={run.name} "
                f"pod={self.name}_{self.namespace}({self.uid})")}}  # fmt: skip
            self.event("Warning", "BackOff", "Back-off restarting failed container "
                       f"{run.name} in pod {self.name}_{self.namespace}({self.uid})", run)  # fmt: skip
        run.backoff = min(BACKOFF_MAX, run.backoff * 2 if run.backoff else BACKOFF_INITIAL)

    def _start(self, run: ContainerRun) -> None:
        runtime = self.runtime_for(run)
        if run.image is not None and not run.image.available:
            run.state = {"waiting": {"reason": "ErrImagePull", "message": str(run.image.problem)}}
            run.next_start = time.time() + 5
            return
        try:
            env = envvars.resolve(self.pod_now(), run.spec, self._lookup)
        except envvars.ConfigError as exc:
            message = str(exc)
            if (run.state.get("waiting") or {}).get("message") != message:
                self.event("Warning", "Failed", f"Error: {message}", run)
            run.state = {"waiting": {"reason": "CreateContainerConfigError", "message": message}}
            run.next_start = time.time() + 2
            return
        try:
            process = (
                self.process_spec(run, env) if run.image is not None else self._simulated_spec(run)
            )
        except RuntimeError_ as exc:
            run.state = {"waiting": {"reason": exc.reason, "message": exc.message}}
            run.next_start = time.time() + 5
            return
        log = self.directory / "logs" / run.name / f"{run.restart_count}.log"
        config = ContainerConfig(
            run.name, str(run.spec.get("image")), run.restart_count, process, log
        )
        container_id = runtime.create_container(self.uid, config)
        if run.restart_count == 0:
            self.event("Normal", "Pulled", f'Container image "{run.spec.get("image")}" already '
                       "present on machine", run)  # fmt: skip
        self.event("Normal", "Created", f"Created container {run.name}", run)
        try:
            runtime.start_container(container_id)
        except RuntimeError_ as exc:
            self.event("Warning", "Failed", f"Error: {exc.message}", run)
            run.id, run.runtime = container_id, runtime
            run.started_at = time.time()
            self._exited(run, 128, "StartError", exc.message, time.time())
            return
        self.event("Normal", "Started", f"Started container {run.name}", run)
        run.id, run.runtime = container_id, runtime
        run.started_at = time.time()
        run.state = {"running": {"startedAt": rfc3339(run.started_at)}}
        run.kill_reason = ""
        if run.init:
            return
        if run.image is None:  # simulated: nothing to probe, ready once "running"
            run.started = run.ready = True
            return
        run.probe_task = asyncio.get_running_loop().create_task(
            probes.run_probes(self, run), name=f"probes-{self.name}-{run.name}"
        )

    def probe_argv(self, run: ContainerRun, command: list[str]) -> tuple[str, ...]:
        """An exec probe's command as the container's own: ``$(VAR)``, paths, hosts."""
        resolve = self.node.resolver(self)
        paths = run.paths or PodPaths()
        return tuple(
            network.rewrite_hosts(rewrite_paths(envvars.expand(c, run.env), paths), resolve)
            for c in command
        )

    def adopt(self, run: ContainerRun, container_id: str) -> None:
        """A container found running after a restart of the simulator."""
        status = self.node.process.container_status(container_id)
        run.id, run.runtime = container_id, self.node.process
        with contextlib.suppress(envvars.ConfigError, RuntimeError_, OSError):
            self.process_spec(run, envvars.resolve(self.pod_now(), run.spec, self._lookup))
        run.started_at = status.started_at
        if status.state is ContainerState.RUNNING:
            run.state = {"running": {"startedAt": rfc3339(status.started_at)}}
            if not run.init:
                run.probe_task = asyncio.get_running_loop().create_task(
                    probes.run_probes(self, run), name=f"probes-{self.name}-{run.name}"
                )

    def pod_now(self) -> Obj:
        """The pod as env resolution sees it (status.podIP set before the first write)."""
        pod = copy.copy(self.pod)
        status = dict(pod.get("status") or {})
        status.setdefault("podIP", self.ip)
        status.setdefault("hostIP", "127.0.0.1")
        if not status.get("podIP"):
            status["podIP"] = self.ip
        pod["status"] = status
        return pod

    def _simulated_spec(self, run: ContainerRun) -> ProcessSpec:
        run_for = None
        if run.init:
            run_for = 0.0
        elif self.policy != "Always":
            run_for = self.node.job_delay
        return ProcessSpec(("simulated",), {}, self.directory, run_for=run_for)

    # --- the container's process ---

    def process_spec(self, run: ContainerRun, env: dict[str, str]) -> ProcessSpec:
        """The process of a local container: the image's contract applied to the spec."""
        image = run.image
        assert image is not None and self.ip is not None
        spec = run.spec
        mounts: dict[str, Path] = {}
        for mount in spec.get("volumeMounts") or []:
            host = self.volumes.get(str(mount.get("name")))
            if host is None:
                raise RuntimeError_("CreateContainerError",
                                    f'volume "{mount.get("name")}" of mount {mount.get("mountPath")} '
                                    "is not defined in the pod")  # fmt: skip
            if mount.get("subPath"):
                host = host / str(mount["subPath"])
                host.mkdir(parents=True, exist_ok=True)
            mounts[str(mount.get("mountPath")).rstrip("/") or "/"] = host
        if "/tmp" not in mounts:
            tmp = self.directory / "tmp"
            tmp.mkdir(exist_ok=True)
            tmp.chmod(0o1777)
            mounts["/tmp"] = tmp
        mapping = dict(mounts)
        root = overlay(self.directory, image, mounts)
        if root is not None:
            mapping[image.root_path.rstrip("/") or "/"] = root
        paths = PodPaths(sorted(mapping.items(), key=lambda kv: -len(kv[0])))
        placeholders = {"pod_ip": self.ip, "socket_dir": str(self.socket_dir or ""),
                        "path0": str(image.path[0]) if image.path else ""}  # fmt: skip

        def fill(value: str) -> str:
            for key, val in placeholders.items():
                value = value.replace("{" + key + "}", val)
            return value

        command = [str(c) for c in spec.get("command") or []]
        args = [str(a) for a in spec.get("args") or []]
        if command:
            argv = command + args
        elif args:
            argv = ([image.command[0]] if args[0].startswith("-") and image.command else []) + args
        else:
            argv = list(image.command)
        if not argv:
            raise RuntimeError_("CreateContainerError", "no command specified")
        full_env: dict[str, str] = {}
        full_env.update(image.env)
        for key, value in image.default_env.items():
            if key not in env:
                full_env[key] = fill(value)
        full_env.update(env)
        argv = [envvars.expand(a, full_env) for a in argv]
        resolve = self.node.resolver(self)
        argv = [network.rewrite_hosts(rewrite_paths(a, paths), resolve) for a in argv]
        full_env = {k: network.rewrite_hosts(rewrite_paths(v, paths), resolve)
                    for k, v in full_env.items()}  # fmt: skip
        for key, value in image.bind_env.items():
            full_env[key] = fill(value)
        program = os.path.basename(argv[0])
        if program in image.bind_args:
            argv += [fill(a) for a in image.bind_args[program]]
        shim_dir = self._shims(image, fill)
        search = [str(p) for p in image.path]
        path = ":".join([*([str(shim_dir)] if shim_dir else []), *search,
                         full_env.get("PATH", DEFAULT_PATH)])  # fmt: skip
        full_env["PATH"] = path
        full_env.setdefault("HOSTNAME", self.name)
        full_env["TMPDIR"] = str(paths.host("/tmp"))
        full_env["SP_POD_IP"] = self.ip
        # Every process of the container inherits these, detached ones too (see process.marked).
        full_env[POD_MARK] = self.uid
        full_env[CONTAINER_MARK] = run.name
        if self.socket_dir is not None:
            full_env["SP_SOCKET_DIR"] = str(self.socket_dir)
        if image.entrypoint == "postgres" and not command:
            argv = [str(Path(__file__).parent / "files" / "postgres-entrypoint.sh"), *argv]
        workdir = spec.get("workingDir") or image.working_dir or image.root_path
        cwd = paths.host(str(workdir)) if workdir and workdir != "/" else self.directory
        user = image.root_user if os.geteuid() == 0 and image.root_user else None
        if user is not None:
            for host in [*mounts.values(), *([self.socket_dir] if self.socket_dir else [])]:
                with contextlib.suppress(OSError):
                    shutil.chown(host, user, user)
            (self.directory / "logs" / run.name).mkdir(parents=True, exist_ok=True)
        cwd.mkdir(parents=True, exist_ok=True)
        run.paths, run.env = paths, full_env
        return ProcessSpec(tuple(argv), full_env, cwd, user)

    def _shims(self, image: LocalImage, fill: Any) -> Path | None:
        if not image.shims:
            return None
        directory = self.directory / "shims" / hashlib.sha256(image.image.encode()).hexdigest()[:8]
        directory.mkdir(parents=True, exist_ok=True)
        search = ":".join(str(p) for p in image.path) or DEFAULT_PATH
        for command, extra in image.shims.items():
            real = shutil.which(command, path=search) or command
            words = " ".join(f"'{fill(e)}'" for e in extra)
            shim = directory / command
            shim.write_text(f'#!/bin/sh\nexec {real} {words} "$@"\n')
            shim.chmod(0o755)
        return directory

    # --- stopping ---

    async def kill_container(self, run: ContainerRun, grace: float, reason: str) -> None:
        """SIGTERM, up to ``grace`` seconds, SIGKILL (the kubelet's killContainer)."""
        if run.id is None or run.runtime is None:
            return
        run.kill_reason = reason
        self.event("Normal", "Killing", reason, run)
        runtime, container_id = run.runtime, run.id
        runtime.signal_container(container_id, kill=False)
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            if runtime.container_status(container_id).state is not ContainerState.RUNNING:
                return
            await asyncio.sleep(0.1)
        runtime.signal_container(container_id, kill=True)
        for _ in range(50):
            if runtime.container_status(container_id).state is not ContainerState.RUNNING:
                return
            await asyncio.sleep(0.1)

    def grace(self) -> float:
        return float((self.pod.get("spec") or {}).get("terminationGracePeriodSeconds", 30))

    async def stop(self, remove: bool, grace: float | None = None) -> None:
        """Stop every container (grace period each, in parallel; ``grace`` caps it);
        ``remove``: the pod is gone, so are its sandbox, address and folders."""
        self.stopping = True
        self.wake.set()
        runs = self.inits + self.apps
        for run in runs:
            if run.probe_task is not None:
                run.probe_task.cancel()
        seconds = self.grace() if grace is None else min(grace, self.grace())
        await asyncio.gather(*(self.kill_container(r, seconds, f"Stopping container {r.name}")
                               for r in runs if r.id is not None))  # fmt: skip
        self.node.process.stop_pod_sandbox(self.uid)
        if remove:
            self.node.process.remove_pod_sandbox(self.uid)
            self.node.simulated.remove_pod_sandbox(self.uid)
            self.node.folders.remove_pod(self.uid)
            self.node.addresses.release_pod(self.ip)

    # --- status ---

    def event(self, type_: str, reason: str, message: str, run: ContainerRun | None = None) -> None:
        path = None
        if run is not None:
            section = "initContainers" if run.init else "containers"
            path = f"spec.{section}{{{run.name}}}"
        events.record(self.node.cluster, self.pod, type_, reason, message, COMPONENT, path,  # type: ignore[arg-type]
                      host=LOCAL_NODE)  # fmt: skip

    def _container_status(self, run: ContainerRun) -> Obj:
        status: Obj = {
            "name": run.name,
            "image": run.spec.get("image"),
            "imageID": "",
            "ready": run.ready,
            "started": run.started if not run.init else run.running,
            "restartCount": run.restart_count,
            "state": run.state,
            "lastState": run.last_state,
        }
        if run.id is not None and run.runtime is not None:
            status["containerID"] = f"{run.runtime.name}://{run.id}"
        elif "terminated" in run.state:
            status["containerID"] = run.state["terminated"].get("containerID")
        if (
            run.init
            and "waiting" in run.state
            and not self.initialized
            and not any(r is run for r in self.inits if not r.succeeded)
        ):
            pass
        return status

    def build_status(self) -> Obj:
        old = self.node.current(self) or {}
        now = rfc3339(time.time())
        inits = [self._container_status(r) for r in self.inits]
        for run, status in zip(self.inits, inits, strict=True):
            if run.succeeded and "terminated" in run.state:
                status["ready"] = True
        apps = []
        for run in self.apps:
            status = self._container_status(run)
            if not self.initialized and "waiting" in run.state:
                status["state"] = {"waiting": {"reason": "PodInitializing"}}
            apps.append(status)
        ready = self.initialized and all(r.ready for r in self.apps) and not self.failed
        phase = self._phase()
        if phase in ("Succeeded", "Failed"):
            ready = False
        conditions = [
            ("PodReadyToStartContainers", self.sandbox, None),
            ("Initialized", self.initialized, "ContainersNotInitialized"),
            (
                "Ready",
                ready,
                "ContainersNotReady" if phase not in ("Succeeded",) else "PodCompleted",
            ),
            ("ContainersReady", ready, "ContainersNotReady"),
            ("PodScheduled", True, None),
        ]
        old_conditions = {c.get("type"): c for c in (old.get("conditions") or [])}
        result_conditions = []
        for ctype, ok, reason in conditions:
            value = "True" if ok else "False"
            condition: Obj = {"type": ctype, "status": value, "lastProbeTime": None}
            previous = old_conditions.get(ctype)
            condition["lastTransitionTime"] = (
                previous.get("lastTransitionTime")
                if previous and previous.get("status") == value
                else now
            )
            if not ok and reason:
                condition["reason"] = reason
                waiting = [r.name for r in (self.inits if ctype == "Initialized" else self.apps)
                           if not (r.succeeded if r.init else r.ready)]  # fmt: skip
                if ctype == "Initialized":
                    condition["message"] = (
                        f"containers with incomplete status: [{' '.join(waiting)}]"
                    )
                else:
                    condition["message"] = f"containers with unready status: [{' '.join(waiting)}]"
            result_conditions.append(condition)
        simulated = self.simulated_images()
        if simulated:
            message = ("no local runtime for " + ", ".join(simulated)
                       + ": these containers are simulated (nothing runs)")  # fmt: skip
            result_conditions.append({"type": SIMULATED_CONDITION, "status": "True",
                                      "reason": "NoLocalRuntime", "message": message,
                                      "lastTransitionTime": (old_conditions.get(SIMULATED_CONDITION)
                                                             or {}).get("lastTransitionTime", now)})  # fmt: skip
        pod_status: Obj = {
            "phase": phase,
            "conditions": result_conditions,
            "hostIP": "127.0.0.1",
            "hostIPs": [{"ip": "127.0.0.1"}],
            "podIP": self.ip,
            "podIPs": [{"ip": self.ip}] if self.ip else [],
            "startTime": old.get("startTime") or now,
            "qosClass": old.get("qosClass", "BestEffort"),
            "containerStatuses": apps,
        }
        if inits:
            pod_status["initContainerStatuses"] = inits
        return pod_status

    def simulated_images(self) -> list[str]:
        seen: dict[str, None] = {}
        for run in self.inits + self.apps:
            if run.image is None:
                seen[str(run.spec.get("image"))] = None
        return list(seen)

    def _phase(self) -> str:
        if self.failed:
            return "Failed"
        if not self.initialized:
            return "Pending"
        states = [r.state for r in self.apps]
        if (
            self.policy != "Always"
            and all("terminated" in s for s in states)
            and all(r.succeeded or not self._restarts(r) for r in self.apps)
        ):
            codes = [s["terminated"].get("exitCode", 0) for s in states]
            return "Succeeded" if all(c == 0 for c in codes) else "Failed"
        if any("running" in s for s in states) or any(r.restart_count for r in self.apps):
            return "Running"
        return "Pending"

    def write_status(self) -> None:
        if self.stopping:
            return
        status = self.build_status()
        comparable = _without_times(status)
        if comparable == self._written:
            return
        current = self.node.current(self)
        if current is None:
            return
        self._written = comparable
        self.node.write_pod_status(self, status)


def _without_times(status: Obj) -> Obj:
    clean = copy.deepcopy(status)
    for condition in clean.get("conditions") or []:
        condition.pop("lastTransitionTime", None)
    return clean


class LocalNode:
    """The agent: pod workers for every pod bound to the local node, the Service
    forwarders, adoption after a restart, teardown of claims' folders."""

    def __init__(
        self, cluster: Cluster, table: RuntimeTable, folders: NodeFolders, job_delay: float,
        temporary: bool, folder_lock: int | None = None,
    ) -> None:  # fmt: skip
        self.cluster = cluster
        self.table = table
        self.folders = folders
        self.job_delay = job_delay
        self.temporary = temporary
        self._folder_lock = folders.lock() if folder_lock is None else folder_lock
        self.process = ProcessRuntime()
        self.simulated = SimulatedRuntime()
        self.addresses = network.Addresses(folders.root)
        self.forwarder = network.Forwarder(self.pick_endpoint)
        self.workers: dict[str, PodWorker] = {}
        self._stopping: set[asyncio.Task[None]] = set()
        self._stopping_workers: set[PodWorker] = set()
        self._http: httpx.AsyncClient | None = None
        self._rr: dict[tuple[str, int], int] = {}
        self._wake_controllers: Any = None
        cluster.subscribe_changes(self._on_change)

    # --- life ---

    async def start(self) -> None:
        """Adopt what runs from a previous life, kill what belongs to vanished pods, and
        start a worker for every pod bound here."""
        live = {
            str(p["metadata"]["uid"]): p
            for p in self.cluster.store.list_objects("pods", copies=False)
            if is_local(p)
        }
        for directory in self.folders.pod_dirs():
            uid = directory.name
            found = self.process.adopt(uid, directory)
            if uid in live:
                continue
            logger.info("pod %s is gone: stopping its processes and removing %s", uid, directory)
            for container_id in found:
                self.process.signal_container(container_id, kill=True)
            self.process.remove_pod_sandbox(uid)
            self.folders.remove_pod(uid)
        for uid, pod in live.items():
            record = self.folders.pod_record(uid) or {}
            ip = record.get("ip")
            if ip and not self.addresses.owns(str(ip)):
                # another simulator has our old block now: these processes must not stay
                logger.info("pod %s had address %s of another block: restarting it", uid, ip)
                for container_id, _ in self.process.processes(uid):
                    self.process.signal_container(container_id, kill=True)
                ip = None
            worker = self._worker(pod)
            if ip:
                worker.ip = str(ip)
                self.addresses.claim_pod(worker.ip)
            worker.sync_sandbox()
            self._adopt(worker, pod)
        for namespace_dir in list((self.folders.root / "claims").iterdir()):
            for claim_dir in list(namespace_dir.iterdir()) if namespace_dir.is_dir() else []:
                key = self.cluster.key(by_qualified("persistentvolumeclaims"), namespace_dir.name,
                                       claim_dir.name)  # fmt: skip
                if not self.cluster.store.exists(key):
                    self.folders.remove_claim(namespace_dir.name, claim_dir.name)
        for uid in self.addresses.service_uids():
            if self.cluster.store.key_of_uid(uid) is None:
                self.addresses.release_service(uid)

    def _adopt(self, worker: PodWorker, pod: Obj) -> None:
        """Take the pod's running containers back, with the counts its status recorded."""
        status = pod.get("status") or {}
        recorded = {s.get("name"): s for s in [*(status.get("initContainerStatuses") or []),
                                              *(status.get("containerStatuses") or [])]}  # fmt: skip
        alive = {cid for cid, _ in self.process.processes(worker.uid)}
        for run in worker.inits + worker.apps:
            seen = recorded.get(run.name) or {}
            run.restart_count = int(seen.get("restartCount") or 0)
            run.last_state = seen.get("lastState") or {}
            state = seen.get("state") or {}
            container_id = f"{worker.uid[:8]}-{run.name}-{run.restart_count}"
            if container_id in alive:
                worker.adopt(run, container_id)
                logger.info("adopted %s of pod %s/%s", run.name, worker.namespace, worker.name)
                continue
            if "terminated" in state:
                # Ended before the restart and already recorded: a container that does not
                # restart (a completed init container, a Job's) stays as it was.
                run.state = state
                code = int(state["terminated"].get("exitCode") or 0)
                if (run.init and code == 0) or (not run.init and not worker.restarts(run)):
                    run.succeeded = code == 0
                    continue
            if run.image is None and "running" in state:
                worker.resume_simulated(run, state)
                continue
            if run.image is not None:
                exited = self.process.container_status(container_id)
                if exited.state is ContainerState.EXITED:
                    run.id, run.runtime = container_id, self.process
                    run.started_at = exited.started_at
        if all(r.succeeded for r in worker.inits):
            worker.initialized = True
        if status.get("phase") == "Failed":
            worker.failed = True

    async def stop(self) -> None:
        """The simulator stops: stop every process (their pods stay in the state file and
        start again next time); a temporary node folder is removed."""
        workers = list(self.workers.values())
        self.workers.clear()
        # The simulator's own stop has a few seconds (the runner waits 10 s for its thread).
        await asyncio.gather(*(w.stop(remove=self.temporary, grace=STOP_GRACE) for w in workers))
        for w in workers:
            if w.task is not None:
                w.task.cancel()
        await asyncio.gather(*self._stopping, return_exceptions=True)
        await self.forwarder.close()
        if self._http is not None:
            await self._http.aclose()
        self.addresses.close()
        os.close(self._folder_lock)
        if self.temporary:
            shutil.rmtree(self.folders.root, ignore_errors=True)

    # --- events from the cluster ---

    def _worker(self, pod: Obj) -> PodWorker:
        uid = str(pod["metadata"]["uid"])
        worker = self.workers.get(uid)
        if worker is None:
            worker = self.workers[uid] = PodWorker(self, pod)
            worker.task = asyncio.get_running_loop().create_task(
                worker.run(),
                name=f"pod-{pod['metadata'].get('namespace')}-{pod['metadata']['name']}",
            )
        return worker

    def _on_change(self, event: str, kind: Kind, obj: Obj, old: Obj | None = None) -> None:
        if kind is PODS:
            uid = str(obj["metadata"]["uid"])
            if event == "DELETED":
                worker = self.workers.pop(uid, None)
                if worker is not None:
                    self._stop_later(worker)
                return
            if not is_local(obj):
                return
            worker = self.workers.get(uid)
            if worker is None:
                with contextlib.suppress(RuntimeError):  # no loop: start() picks it up
                    self._worker(obj)
            else:
                worker.pod = obj
                worker.wake.set()
        elif kind.kind == "PersistentVolumeClaim" and event == "DELETED":
            meta = obj["metadata"]
            self._remove_claim_later(str(meta.get("namespace")), str(meta["name"]))
        elif kind is SERVICES and event == "DELETED":
            uid = str(obj["metadata"].get("uid"))
            self.addresses.release_service(uid)
            with contextlib.suppress(RuntimeError):
                asyncio.get_running_loop().create_task(self.forwarder.drop(uid))
        elif kind.kind in ("Secret", "ConfigMap", "PersistentVolumeClaim", "Service"):
            namespace = obj["metadata"].get("namespace")
            for worker in self.workers.values():
                if worker.namespace == namespace:
                    worker.wake.set()

    def _uses_claim(self, worker: PodWorker, namespace: str, claim: str) -> bool:
        volumes = (worker.pod.get("spec") or {}).get("volumes") or []
        return worker.namespace == namespace and any(
            (v.get("persistentVolumeClaim") or {}).get("claimName") == claim for v in volumes
        )

    def _remove_claim_later(self, namespace: str, claim: str) -> None:
        """A deleted claim's folder goes once no process of a pod that mounts it runs any
        more (a database being stopped must not see its files vanish under it)."""

        async def remove() -> None:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and any(
                self._uses_claim(w, namespace, claim)
                for w in [*self.workers.values(), *self._stopping_workers]
            ):
                await asyncio.sleep(0.2)
            self.folders.remove_claim(namespace, claim)

        self._spawn(remove())

    def _spawn(self, work: Any) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._stopping.add(task)
        task.add_done_callback(self._stopping.discard)

    def _stop_later(self, worker: PodWorker) -> None:
        self._stopping_workers.add(worker)

        async def stop() -> None:
            try:
                await worker.stop(remove=True)
            finally:
                self._stopping_workers.discard(worker)
            if worker.task is not None:
                worker.task.cancel()

        task = asyncio.get_running_loop().create_task(stop())
        self._stopping.add(task)
        task.add_done_callback(self._stopping.discard)

    def wake_controllers(self) -> None:
        pass

    # --- for the workers ---

    def current(self, worker: PodWorker) -> Obj | None:
        pod = self.cluster.store.peek(self.cluster.key(PODS, worker.namespace, worker.name))
        if pod is None or str(pod["metadata"].get("uid")) != worker.uid:
            return None
        return pod.get("status") or {}

    def write_pod_status(self, worker: PodWorker, status: Obj) -> None:
        key = self.cluster.key(PODS, worker.namespace, worker.name)
        written = self.cluster.write_status(PODS, key, status, COMPONENT)
        if written is not None:
            worker.pod = written

    def resolver(self, worker: PodWorker) -> network.Resolver:
        """Host name -> address for a container of ``worker``'s pod (see network)."""
        store, cluster = self.cluster.store, self.cluster

        def resolve(host: str) -> str | None:
            if host in network.LOCAL_NAMES:
                return worker.ip
            parts = host.split(".")
            if parts[-3:] == ["svc", "cluster", "local"]:
                parts = parts[:-3]
            elif parts[-1:] == ["svc"]:
                parts = parts[:-1]
            if len(parts) > 3 or not parts[0]:
                return None
            candidates: list[tuple[str | None, str, str]] = []  # (pod, service, namespace)
            if len(parts) == 1:
                candidates.append((None, parts[0], worker.namespace))
            elif len(parts) == 2:
                candidates += [(None, parts[0], parts[1]), (parts[0], parts[1], worker.namespace)]
            else:
                candidates.append((parts[0], parts[1], parts[2]))
            for pod_name, service_name, namespace in candidates:
                service = store.peek(cluster.key(SERVICES, namespace, service_name))
                if service is None:
                    continue
                if pod_name is not None:
                    pod = store.peek(cluster.key(PODS, namespace, pod_name))
                    ip = ((pod or {}).get("status") or {}).get("podIP")
                    return str(ip) if ip else None
                return self.service_address(service)
            return None

        return resolve

    def service_address(self, service: Obj) -> str:
        """The Service's node address, with a forwarder on each of its ports."""
        uid = str(service["metadata"]["uid"])
        ip = self.addresses.service(uid)
        for port in (service.get("spec") or {}).get("ports") or []:
            self.forwarder.ensure(uid, ip, int(port.get("port")))
        return ip

    def endpoints(self, service: Obj, port: int) -> list[tuple[str, int]]:
        """Ready local endpoints (pod address, target port) of a Service's port."""
        spec = service.get("spec") or {}
        selector = spec.get("selector") or {}
        if not selector:
            return []
        service_port = next(
            (p for p in spec.get("ports") or [] if int(p.get("port")) == port), None
        )
        if service_port is None:
            return []
        namespace = service["metadata"].get("namespace", "")
        result = []
        for pod in self.cluster.store.values("pods", namespace):
            labels = pod["metadata"].get("labels") or {}
            if not all(labels.get(k) == v for k, v in selector.items()):
                continue
            if not is_local(pod) or pod["metadata"].get("deletionTimestamp"):
                continue
            status = pod.get("status") or {}
            ready = any(c.get("type") == "Ready" and c.get("status") == "True"
                        for c in status.get("conditions") or [])  # fmt: skip
            if not ready or not status.get("podIP"):
                continue
            target = resolve_target_port(pod, service_port)
            if target is not None:
                result.append((str(status["podIP"]), target))
        return result

    def pick_endpoint(self, service_uid: str, port: int) -> tuple[str, int] | None:
        key = self.cluster.store.key_of_uid(service_uid)
        service = self.cluster.store.peek(key) if key else None
        if service is None:
            return None
        ready = self.endpoints(service, port)
        if not ready:
            return None
        n = self._rr.get((service_uid, port), 0)
        self._rr[(service_uid, port)] = n + 1
        return ready[n % len(ready)]

    # --- for the API ---

    def http_client(self) -> httpx.AsyncClient:
        """The client the service proxy and the ingress listener forward with (one per
        simulator: a client belongs to its event loop)."""
        if self._http is None:
            # No read timeout: answers are streamed (a log, a large page).
            self._http = httpx.AsyncClient(timeout=httpx.Timeout(30.0, read=None), verify=False,
                                           follow_redirects=False, trust_env=False)  # fmt: skip
        return self._http

    def residue(self, namespace: str) -> Obj:
        """CONTRACTS D: processes alive and folders on disk for a namespace's pods and claims."""
        processes = []
        folders: list[str] = []
        for directory in self.folders.pod_dirs():
            record = self.folders.pod_record(directory.name) or {}
            if record.get("namespace") != namespace:
                continue
            folders.append(str(directory))
            folders += [d for d in record.get("extra_dirs") or [] if os.path.exists(d)]
            listed = set()
            for container_id, pid in self.process.processes(directory.name):
                container = container_id[9:].rsplit("-", 1)[0]
                processes.append({"pod": record.get("name"), "container": container, "pid": pid})
                listed.add(pid)
            groups = self.process.groups(directory.name)
            for pid, container in marked(directory.name):  # helpers that left their group
                with contextlib.suppress(OSError):
                    if pid not in listed and os.getpgid(pid) not in groups:
                        processes.append(
                            {"pod": record.get("name"), "container": container, "pid": pid}
                        )
        folders += [str(d) for d in self.folders.claim_dirs(namespace)]
        return {"processes": processes, "folders": folders}


def resolve_target_port(pod: Obj, service_port: Obj) -> int | None:
    """A Service port's targetPort on a pod: a number, or a named container port."""
    target = service_port.get("targetPort", service_port.get("port"))
    if isinstance(target, int) or (isinstance(target, str) and target.isdigit()):
        return int(target)
    for container in (pod.get("spec") or {}).get("containers") or []:
        for port in container.get("ports") or []:
            if port.get("name") == target:
                return int(port.get("containerPort"))
    return None
