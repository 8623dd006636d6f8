"""The Job controller of a simulator with local runtimes: Jobs run pods to completion.

Replaces :class:`storeplane.sim.controllers.manager.JobComplete` (a Job completes after a
delay, no pods) when local runtimes are on. Level-triggered on Jobs and their pods, as
``pkg/controller/job`` is:

- one pod at a time per missing completion (``parallelism`` honoured, ``completions``
  default 1), named ``<job>-<random>``, labelled ``batch.kubernetes.io/job-name``,
  ``job-name``, ``batch.kubernetes.io/controller-uid``, ``controller-uid``, owned by the Job;
- a failed pod counts towards ``backoffLimit`` (default 6); the next pod is created after the
  controller's back-off (10 s doubling, at most 6 min); more failures than ``backoffLimit``
  fail the Job (``Failed``, reason ``BackoffLimitExceeded``); ``activeDeadlineSeconds``
  fails it with ``DeadlineExceeded`` and deletes its running pods;
- ``succeeded`` pods reaching ``completions`` complete it (``Complete``, ``completionTime``).

Where the pods run is the scheduler's business: a pod whose images have a local runtime runs
for real; a simulated one completes after the ``Job`` delay.
"""

from __future__ import annotations

import calendar
import copy
import time
from typing import Any

from ..errors import ApiError
from ..kinds import Kind, by_qualified
from ..store.cluster import Cluster
from ..store.objects import ObjectKey
from . import events

Obj = dict[str, Any]
JOBS = by_qualified("jobs.batch")
PODS = by_qualified("pods")
MANAGER = "job-controller"
BACKOFF = 10.0
BACKOFF_MAX = 360.0


def _epoch(stamp: str | None) -> float:
    if not stamp:
        return time.time()
    return float(calendar.timegm(time.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ")))


def _condition(ctype: str, reason: str, message: str, now: str) -> Obj:
    return {
        "type": ctype,
        "status": "True",
        "reason": reason,
        "message": message,
        "lastProbeTime": now,
        "lastTransitionTime": now,
    }


class JobController:
    name = "job"
    resources = ("jobs.batch", "pods")

    def keys_for(self, cluster: Cluster, kind: Kind, obj: Obj) -> list[ObjectKey]:
        meta = obj["metadata"]
        if kind is JOBS:
            return [cluster.key(JOBS, meta.get("namespace"), meta["name"])]
        for ref in meta.get("ownerReferences") or []:
            if ref.get("kind") == "Job" and ref.get("controller"):
                return [cluster.key(JOBS, meta.get("namespace"), str(ref["name"]))]
        return []

    @staticmethod
    def _finished(job: Obj) -> bool:
        return any(
            c.get("type") in ("Complete", "Failed") and c.get("status") == "True"
            for c in (job.get("status") or {}).get("conditions") or []
        )

    def sync(self, cluster: Cluster, key: ObjectKey) -> float | None:
        job = cluster.store.peek(key)
        if job is None or job["metadata"].get("deletionTimestamp") or self._finished(job):
            return None
        ns = cluster.store.peek(cluster.key(by_qualified("namespaces"), None, key.namespace))
        if ns is None or ns["metadata"].get("deletionTimestamp"):
            return None
        spec = job.get("spec") or {}
        if spec.get("suspend"):
            return None
        uid = job["metadata"]["uid"]
        pods = [
            p
            for p in cluster.store.values("pods", key.namespace)
            if any(r.get("uid") == uid for r in p["metadata"].get("ownerReferences") or [])
        ]
        phase = [(p.get("status") or {}).get("phase") for p in pods]
        succeeded = phase.count("Succeeded")
        failed = phase.count("Failed")
        active = [p for p, ph in zip(pods, phase, strict=True) if ph not in ("Succeeded", "Failed")]
        ready = sum(
            1
            for p in active
            if any(
                c.get("type") == "Ready" and c.get("status") == "True"
                for c in (p.get("status") or {}).get("conditions") or []
            )
        )
        completions = int(spec.get("completions") or 1)
        parallelism = int(spec["parallelism"]) if spec.get("parallelism") is not None else 1
        backoff_limit = int(spec["backoffLimit"]) if spec.get("backoffLimit") is not None else 6
        old = job.get("status") or {}
        now = cluster.now()
        start = old.get("startTime") or now
        status: Obj = {
            "startTime": start,
            "active": len(active),
            "ready": ready,
            "succeeded": succeeded,
            "failed": failed,
            "conditions": list(old.get("conditions") or []),
        }
        again: float | None = None
        deadline = spec.get("activeDeadlineSeconds")
        if succeeded >= completions:
            status["completionTime"] = now
            status["conditions"].append(
                {
                    "type": "Complete",
                    "status": "True",
                    "lastProbeTime": now,
                    "lastTransitionTime": now,
                }
            )
            for pod in active:
                cluster.delete(PODS, key.namespace, pod["metadata"]["name"])
            status["active"] = 0
        elif failed > backoff_limit:
            self._fail(
                cluster,
                job,
                status,
                active,
                "BackoffLimitExceeded",
                "Job has reached the specified backoff limit",
                now,
            )
        elif deadline is not None and time.time() - _epoch(start) >= int(deadline):
            self._fail(
                cluster,
                job,
                status,
                active,
                "DeadlineExceeded",
                "Job was active longer than specified deadline",
                now,
            )
        else:
            wanted = min(parallelism, completions - succeeded) - len(active)
            if wanted > 0:
                delay = 0.0 if not failed else min(BACKOFF_MAX, BACKOFF * 2 ** (failed - 1))
                last_failure = max(
                    (
                        _epoch(self._finished_at(p))
                        for p in pods
                        if (p.get("status") or {}).get("phase") == "Failed"
                    ),
                    default=0.0,
                )
                wait = last_failure + delay - time.time()
                if wait > 0:
                    again = wait
                else:
                    for _ in range(wanted):
                        created = self._create_pod(cluster, job)
                        if created is None:
                            again = 2.0
                            break
                        status["active"] += 1
            if deadline is not None:
                left = _epoch(start) + int(deadline) - time.time()
                again = min(again, left) if again is not None else left
        if status != old:
            cluster.write_status(JOBS, key, status, MANAGER)
        return max(again, 0.1) if again is not None else None

    @staticmethod
    def _finished_at(pod: Obj) -> str | None:
        for c in (pod.get("status") or {}).get("containerStatuses") or []:
            finished = ((c.get("state") or {}).get("terminated") or {}).get("finishedAt")
            if finished:
                return str(finished)
        return None

    def _fail(
        self,
        cluster: Cluster,
        job: Obj,
        status: Obj,
        active: list[Obj],
        reason: str,
        message: str,
        now: str,
    ) -> None:
        for pod in active:
            cluster.delete(PODS, job["metadata"]["namespace"], pod["metadata"]["name"])
        status["active"] = 0
        status["conditions"].append(_condition("Failed", reason, message, now))
        events.record(cluster, job, "Warning", reason, message, MANAGER)

    def _create_pod(self, cluster: Cluster, job: Obj) -> Obj | None:
        meta = job["metadata"]
        template = copy.deepcopy((job.get("spec") or {}).get("template") or {})
        labels = dict((template.get("metadata") or {}).get("labels") or {})
        labels.update(
            {
                "batch.kubernetes.io/controller-uid": meta["uid"],
                "batch.kubernetes.io/job-name": meta["name"],
                "controller-uid": meta["uid"],
                "job-name": meta["name"],
            }
        )
        pod_meta: Obj = {
            "generateName": f"{meta['name']}-",
            "labels": labels,
            "ownerReferences": [
                {
                    "apiVersion": "batch/v1",
                    "kind": "Job",
                    "name": meta["name"],
                    "uid": meta["uid"],
                    "controller": True,
                    "blockOwnerDeletion": True,
                }
            ],
        }
        annotations = (template.get("metadata") or {}).get("annotations")
        if annotations:
            pod_meta["annotations"] = annotations
        try:
            pod = cluster.create(
                PODS,
                meta["namespace"],
                {"metadata": pod_meta, "spec": template.get("spec") or {}},
                MANAGER,
                from_checked_parts=True,  # the Job's template passed the schema check
            )
        except ApiError as exc:
            events.record(
                cluster, job, "Warning", "FailedCreate", f"Error creating: {exc.message}", MANAGER
            )
            return None
        events.record(
            cluster,
            job,
            "Normal",
            "SuccessfulCreate",
            f"Created pod: {pod['metadata']['name']}",
            MANAGER,
        )
        return pod
