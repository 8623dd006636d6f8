"""What a pod's status says about why a workload is not ready: pure functions over pods as
the API server returns them (the kubelet's and the scheduler's own words).

Used by the reconciler's observe step to name the pod, container and cause in the
``WorkloadsReady`` condition instead of only "0/1 replicas ready".
"""

from __future__ import annotations

from typing import Any

Manifest = dict[str, Any]

# Container waiting reasons that will not clear by waiting: the kubelet's words for "stuck".
STUCK_WAITING = frozenset(
    {
        "CreateContainerConfigError",
        "CreateContainerError",
        "CrashLoopBackOff",
        "ErrImagePull",
        "ImagePullBackOff",
        "InvalidImageName",
        "RunContainerError",
    }
)


def pod_problem(pod: Manifest) -> str | None:
    """What keeps a pod from running, in the kubelet's and scheduler's words, or None.

    ``pod medusa-server-x container server: CreateContainerConfigError: couldn't find key ...``;
    ``pod medusa-server-x is not scheduled: 0/1 nodes are available: 1 Insufficient memory.``
    """
    name = pod.get("metadata", {}).get("name", "?")
    status = pod.get("status", {})
    for cond in status.get("conditions", []):
        if cond.get("type") == "PodScheduled" and cond.get("status") == "False":
            return f"pod {name} is not scheduled: {cond.get('message') or cond.get('reason', '')}"
    statuses = [*status.get("initContainerStatuses", []), *status.get("containerStatuses", [])]
    for container in statuses:
        waiting = (container.get("state") or {}).get("waiting") or {}
        if waiting.get("reason") in STUCK_WAITING:
            message = waiting.get("message") or ""
            last = ((container.get("lastState") or {}).get("terminated") or {}).get("exitCode")
            exited = f" (last exit code {last})" if last is not None else ""
            return (
                f"pod {name} container {container.get('name')}: {waiting['reason']}"
                f"{': ' + message if message else ''}{exited}"
            )
    return None


def selects(workload: Manifest, pod: Manifest) -> bool:
    """Whether ``pod`` belongs to ``workload`` (its selector's matchLabels, or a Job's name)."""
    labels = pod.get("metadata", {}).get("labels") or {}
    if workload.get("kind") == "Job":
        name = workload.get("metadata", {}).get("name")
        return name is not None and name in (
            labels.get("batch.kubernetes.io/job-name"),
            labels.get("job-name"),
        )
    wanted = (workload.get("spec", {}).get("selector") or {}).get("matchLabels") or {}
    return bool(wanted) and all(labels.get(k) == v for k, v in wanted.items())
