"""Where an engine version upgrade's migration Job stands, read from the live Job and its pods.

Pure: :mod:`storeplane.reconciler.observe` lists the objects and (I/O) adds the failed
container's last log lines; :func:`storeplane.domain.state.determine_state` decides from the
result. An upgrade runs the new version's migration Job first; server and worker are only
rolled out once it succeeded, so a failed migration leaves the store serving the old version.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from storeplane.domain.pods import selects
from storeplane.domain.ports import Manifest


class MigrationState(Enum):
    ABSENT = "Absent"  # the new version's Job is not applied yet
    RUNNING = "Running"
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"


@dataclass(frozen=True, slots=True)
class MigrationStatus:
    """The migration Job of the version a store upgrades to. ``cause`` (FAILED only) is the
    Job's and its last pod's own words: condition reason, container, exit code, log tail."""

    job: str
    state: MigrationState
    cause: str = ""
    # The failed container, so the caller can fetch its last log lines.
    pod: str | None = None
    container: str | None = None


def _condition(job: Manifest, type_: str) -> dict[str, str] | None:
    for cond in (job.get("status") or {}).get("conditions") or []:
        if cond.get("type") == type_ and cond.get("status") == "True":
            return dict(cond)
    return None


def _failed_container(pod: Manifest) -> tuple[str, str] | None:
    """(container, "container X exited with code N (Reason): message") of a pod's first
    container that ended in failure, init containers first."""
    status = pod.get("status") or {}
    for container in [
        *(status.get("initContainerStatuses") or []),
        *(status.get("containerStatuses") or []),
    ]:
        for state in (container.get("state") or {}, container.get("lastState") or {}):
            ended = state.get("terminated") or {}
            code = ended.get("exitCode")
            if code not in (None, 0):
                words = f"container {container.get('name')} exited with code {code}"
                if ended.get("reason"):
                    words += f" ({ended['reason']})"
                if ended.get("message"):
                    words += f": {str(ended['message']).strip()[:200]}"
                return str(container.get("name")), words
    return None


def migration_status(job_name: str, job: Manifest | None, pods: list[Manifest]) -> MigrationStatus:
    """Where the migration Job ``job_name`` stands (``job``: the live object, None if absent;
    ``pods``: the store's pods, the Job's own are picked out)."""
    if job is None:
        return MigrationStatus(job_name, MigrationState.ABSENT)
    if _condition(job, "Complete") is not None:
        return MigrationStatus(job_name, MigrationState.SUCCEEDED)
    failed = _condition(job, "Failed")
    if failed is None:
        return MigrationStatus(job_name, MigrationState.RUNNING)
    cause = f"Job {job_name} failed: {failed.get('reason') or 'Failed'}"
    if failed.get("message"):
        cause += f" ({failed['message']})"
    own = [p for p in pods if selects(job, p)]
    own.sort(key=lambda p: (p.get("metadata") or {}).get("creationTimestamp") or "")
    for pod in reversed(own):
        found = _failed_container(pod)
        if found is not None:
            name = (pod.get("metadata") or {}).get("name", "?")
            return MigrationStatus(
                job_name,
                MigrationState.FAILED,
                f"{cause}; pod {name} {found[1]}",
                pod=name,
                container=found[0],
            )
    return MigrationStatus(job_name, MigrationState.FAILED, cause)
