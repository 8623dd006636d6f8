"""Container probes, as the kubelet's prober runs them (``pkg/kubelet/prober``).

Started by the agent (:mod:`storeplane.sim.node.agent`) for each started container and
cancelled when it stops. The startup probe runs first (until it succeeds; ``failureThreshold``
failures restart the container); then readiness (``ready`` follows it; no probe = ready once
started) and liveness (``failureThreshold`` failures in a row restart the container) run side
by side. httpGet (200-399 is success) and tcpSocket go to the pod's address unless ``host`` is
set; exec runs the command beside the container through the runtime, with the same path and
host-name rewriting as the container's own command. Defaults are the API's: period 10 s,
timeout 1 s, success 1, failure 3, initial delay 0.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import TYPE_CHECKING, Any

import httpx

from .runtime import ContainerState

if TYPE_CHECKING:
    from .agent import ContainerRun, PodWorker

Obj = dict[str, Any]


def _port(worker: PodWorker, run: ContainerRun, port: Any) -> int:
    if isinstance(port, int) or (isinstance(port, str) and port.isdigit()):
        return int(port)
    for item in run.spec.get("ports") or []:
        if item.get("name") == port:
            return int(item["containerPort"])
    raise ValueError(f"port {port!r} is not a port of the container")


async def check(worker: PodWorker, run: ContainerRun, probe: Obj) -> tuple[bool, str]:
    """One probe attempt: (success, the failure's message as the kubelet words it)."""
    timeout = float(probe.get("timeoutSeconds") or 1)
    try:
        if "httpGet" in probe:
            action = probe["httpGet"]
            host = action.get("host") or worker.ip
            scheme = str(action.get("scheme") or "HTTP").lower()
            url = f"{scheme}://{host}:{_port(worker, run, action.get('port'))}{action.get('path') or '/'}"
            headers = {h["name"]: h["value"] for h in action.get("httpHeaders") or []}
            headers.setdefault("User-Agent", "kube-probe/1.31")
            async with httpx.AsyncClient(timeout=timeout, verify=False) as client:
                response = await client.get(url, headers=headers)
            if 200 <= response.status_code < 400:
                return True, ""
            return False, f"HTTP probe failed with statuscode: {response.status_code}"
        if "tcpSocket" in probe:
            action = probe["tcpSocket"]
            host = action.get("host") or worker.ip
            port = _port(worker, run, action.get("port"))
            _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
            writer.close()
            return True, ""
        if "exec" in probe:
            command = [str(c) for c in probe["exec"].get("command") or []]
            if not command or run.id is None or run.runtime is None:
                return False, "no command"
            argv = worker.probe_argv(run, command)
            result = await run.runtime.exec_sync(run.id, argv, timeout)
            if result.timed_out:
                return (
                    False,
                    f'command timed out: "{" ".join(command)}" timed out after {timeout:g}s',
                )
            if result.exit_code == 0:
                return True, ""
            return False, result.output.strip() or f"command exited with {result.exit_code}"
    except (httpx.HTTPError, OSError, TimeoutError, ValueError) as exc:
        where = "HTTP" if "httpGet" in probe else ("TCP" if "tcpSocket" in probe else "exec")
        return False, f"{where} probe failed: {type(exc).__name__}: {exc}".rstrip(": ")
    return True, ""  # grpc and unknown handlers: not modelled, counted as success


async def _loop(worker: PodWorker, run: ContainerRun, probe: Obj, kind: str) -> bool:
    """Run one probe until it decides: readiness never returns; startup returns True once
    it succeeds; liveness and startup return False when the container must restart."""
    period = float(probe.get("periodSeconds") or 10)
    success_needed = int(probe.get("successThreshold") or 1)
    failure_limit = int(probe.get("failureThreshold") or 3)
    await asyncio.sleep(float(probe.get("initialDelaySeconds") or 0))
    successes = failures = 0
    while True:
        started = time.monotonic()
        if run.id is None or run.runtime is None:
            return True
        if run.runtime.container_status(run.id).state is not ContainerState.RUNNING:
            return True
        ok, message = await check(worker, run, probe)
        if ok:
            successes, failures = successes + 1, 0
            if kind == "startup":
                return True
            if kind == "readiness" and successes >= success_needed and not run.ready:
                run.ready = True
                worker.wake.set()
        else:
            successes, failures = 0, failures + 1
            worker.event(
                "Warning", "Unhealthy", f"{kind.capitalize()} probe failed: {message}", run
            )
            if kind == "readiness" and run.ready:
                run.ready = False
                worker.wake.set()
            if kind != "readiness" and failures >= failure_limit:
                return False
        await asyncio.sleep(max(0.0, period - (time.monotonic() - started)))


async def run_probes(worker: PodWorker, run: ContainerRun) -> None:
    """All probes of a started container; restarts it when liveness or startup fails."""
    spec = run.spec
    with contextlib.suppress(asyncio.CancelledError):
        startup = spec.get("startupProbe")
        if startup and not await _loop(worker, run, startup, "startup"):
            await _restart(worker, run, "startup")
            return
        run.started = True
        readiness = spec.get("readinessProbe")
        if not readiness:
            run.ready = True
        worker.wake.set()
        tasks = []
        if readiness:
            tasks.append(asyncio.ensure_future(_loop(worker, run, readiness, "readiness")))
        liveness = spec.get("livenessProbe")
        if liveness:
            tasks.append(asyncio.ensure_future(_loop(worker, run, liveness, "liveness")))
        try:
            if liveness:
                if not await tasks[-1]:
                    await _restart(worker, run, "liveness")
            elif tasks:
                await tasks[0]
        finally:
            for task in tasks:
                task.cancel()


async def _restart(worker: PodWorker, run: ContainerRun, kind: str) -> None:
    run.ready = False
    message = f"Container {run.name} failed {kind} probe, will be restarted"
    await worker.kill_container(run, worker.grace(), message)
    worker.wake.set()
