"""Workload controllers: Deployment -> ReplicaSet -> Pods, StatefulSets, a stand-in kubelet,
PVC binding, load-balancer addresses and ResourceQuota status.

Run by :class:`storeplane.sim.controllers.manager.ControllerManager`. Two shapes:

- *sync controllers* (:class:`DeploymentSync`, :class:`ReplicaSetSync`,
  :class:`StatefulSetSync`, :class:`QuotaStatus`) are level-triggered: an event on a watched
  kind maps to the keys to sync (a Pod event wakes its owning ReplicaSet, whose event wakes
  its Deployment), and ``sync`` makes the cluster match the object, writing status only
  when it changes (condition times are kept while a condition holds, so a sync that finds
  nothing to do writes nothing);
- *timer controllers* (:class:`PodLifecycle`, :class:`PvcBinder`, :class:`LoadBalancer`)
  act a configurable delay after an object needs them, like the existing Job and namespace
  controllers.

What they do, as a real cluster does it:

- Deployment: one ReplicaSet per pod template (``<name>-<pod-template-hash>``, owned by the
  Deployment, labels and selector plus ``pod-template-hash``), scaled to ``spec.replicas``;
  older ReplicaSets are scaled to 0 at once (no surge/unavailable arithmetic). Status sums
  the ReplicaSets; conditions Available, Progressing and, when the ReplicaSet cannot create
  pods, ``ReplicaFailure`` (reason ``FailedCreate`` with the API server's message, e.g. the
  quota refusal).
- ReplicaSet: pods ``<rs>-<random>`` from the template (labels and annotations copied,
  ``ownerReferences`` to the ReplicaSet), created or deleted to match ``spec.replicas``;
  pod creation goes through admission (LimitRange defaults, quota).
- StatefulSet: pods ``<name>-<ordinal>`` created in parallel (``podManagementPolicy`` is
  not honoured), a PVC ``<claim>-<name>-<ordinal>`` per ``volumeClaimTemplates`` entry
  (kept when the StatefulSet goes, as the default retention policy does); a template
  change replaces every pod at once.
- Kubelet stand-in (:class:`PodLifecycle`): the ``Pod`` ready delay after creation a pod
  is Running and Ready; a container whose image has the failing tag (fault injection)
  stays Waiting in ``ErrImagePull`` and the pod never becomes Ready. No containers run.
- PVC: Bound after its delay, with ``status.capacity`` = the request (no PersistentVolume
  objects are created); a claim that names a PersistentVolume (``spec.volumeName``) stays
  Pending until that volume exists, as the binder leaves it.
- Ingress and ``type: LoadBalancer`` Services: ``status.loadBalancer.ingress`` =
  ``127.0.0.1`` after their delay.
- ResourceQuota: ``status.hard`` = ``spec.hard`` and ``status.used`` recomputed whenever a
  Pod, PVC or counted object in the namespace changes.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Callable
from typing import Any

from ..admission.quota import render_usage, usage
from ..errors import ApiError
from ..faults import FaultInjector
from ..kinds import KINDS, NAMESPACES, Kind, lookup
from ..store.cluster import Cluster, Obj
from ..store.objects import ObjectKey
from .events import record

TEMPLATE_HASH = "pod-template-hash"
REVISION_HASH = "controller-revision-hash"
LOAD_BALANCER_IP = "127.0.0.1"

DelayFor = Callable[[str], float]


def _kind(group: str, resource: str) -> Kind:
    found = lookup(group, "v1", resource)
    assert found is not None
    return found


PODS = _kind("", "pods")
REPLICASETS = _kind("apps", "replicasets")
DEPLOYMENTS = _kind("apps", "deployments")
STATEFULSETS = _kind("apps", "statefulsets")
PVCS = _kind("", "persistentvolumeclaims")
QUOTAS = _kind("", "resourcequotas")


def template_hash(template: Any) -> str:
    """A short stable hash of a pod template (the ``pod-template-hash`` label value)."""
    digest = hashlib.sha256(json.dumps(template, sort_keys=True).encode()).hexdigest()
    alphabet = "bcdfghjklmnpqrstvwxz2456789"
    number = int(digest[:16], 16)
    return "".join(alphabet[(number >> (5 * i)) % len(alphabet)] for i in range(10))


def owner_reference(owner: Obj) -> Obj:
    return {
        "apiVersion": owner["apiVersion"],
        "kind": owner["kind"],
        "name": owner["metadata"]["name"],
        "uid": owner["metadata"]["uid"],
        "controller": True,
        "blockOwnerDeletion": True,
    }


def controller_of(obj: Obj) -> Obj | None:
    for ref in obj["metadata"].get("ownerReferences") or []:
        if ref.get("controller"):
            return dict(ref)
    return None


def _terminating(cluster: Cluster, namespace: str) -> bool:
    ns = cluster.store.peek(cluster.key(NAMESPACES, None, namespace))
    return ns is None or bool(ns["metadata"].get("deletionTimestamp"))


def _owned(cluster: Cluster, owner: Obj, resource: str) -> list[Obj]:
    """Live (not being deleted) objects of ``resource`` controlled by ``owner``."""
    result = []
    for key in cluster.store.dependents(owner["metadata"]["uid"]):
        if key.resource != resource:
            continue
        obj = cluster.store.peek(key)
        if obj is not None and not obj["metadata"].get("deletionTimestamp"):
            ref = controller_of(obj)
            if ref is not None and ref.get("uid") == owner["metadata"]["uid"]:
                result.append(obj)
    return result


def pod_ready(pod: Obj) -> bool:
    conditions = (pod.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def _keep_times(new: list[Obj], old: list[Obj] | None) -> list[Obj]:
    """Conditions with the previous times wherever type, status, reason and message hold."""
    before = {c.get("type"): c for c in old or []}
    result = []
    for condition in new:
        prior = before.get(condition["type"])
        same = prior is not None and all(
            prior.get(k) == condition.get(k) for k in ("status", "reason", "message")
        )
        if same and prior is not None:
            condition = {**condition, **{k: prior[k] for k in ("lastUpdateTime",
                         "lastTransitionTime") if k in prior}}  # fmt: skip
        elif prior is not None and prior.get("status") == condition.get("status"):
            condition = {**condition, "lastTransitionTime": prior.get("lastTransitionTime")}
        result.append(condition)
    return result


def _condition(ctype: str, status: str, reason: str, message: str, now: str) -> Obj:
    return {"type": ctype, "status": status, "lastUpdateTime": now, "lastTransitionTime": now,
            "reason": reason, "message": message}  # fmt: skip


def _write_status(cluster: Cluster, kind: Kind, obj: Obj, status: Obj, manager: str) -> None:
    # Zero counts are left out, as the API server's encoder does (replicas is required).
    status = {k: v for k, v in status.items() if k == "replicas" or v not in (0, None, [])}
    if status != obj.get("status"):
        cluster.write_status(kind, cluster.key(kind, obj["metadata"].get("namespace"),
                             obj["metadata"]["name"]), status, manager)  # fmt: skip


# --- sync controllers --------------------------------------------------------------------


class DeploymentSync:
    name = "deployment"
    resources = ("deployments.apps", "replicasets.apps")
    manager = "deployment-controller"

    def keys_for(self, cluster: Cluster, kind: Kind, obj: Obj) -> list[ObjectKey]:
        meta = obj["metadata"]
        if kind is DEPLOYMENTS:
            return [cluster.key(kind, meta.get("namespace"), meta["name"])]
        ref = controller_of(obj)
        if ref is None or ref.get("kind") != "Deployment":
            return []
        return [cluster.key(DEPLOYMENTS, meta.get("namespace"), str(ref["name"]))]

    def sync(self, cluster: Cluster, key: ObjectKey) -> float | None:
        deployment = cluster.store.peek(key)
        if deployment is None or deployment["metadata"].get("deletionTimestamp"):
            return None
        if _terminating(cluster, key.namespace):
            return None
        spec = deployment.get("spec") or {}
        replicas = int(spec.get("replicas", 1))
        template = copy.deepcopy(spec.get("template") or {})
        pod_hash = template_hash(template)
        rs_name = f"{key.name}-{pod_hash}"
        owned = _owned(cluster, deployment, REPLICASETS.qualified)
        current = next((rs for rs in owned if rs["metadata"]["name"] == rs_name), None)
        if current is None:
            template.setdefault("metadata", {}).setdefault("labels", {})[TEMPLATE_HASH] = pod_hash
            selector = copy.deepcopy(spec.get("selector") or {})
            selector.setdefault("matchLabels", {})[TEMPLATE_HASH] = pod_hash
            body = {
                "metadata": {
                    "name": rs_name,
                    "labels": dict(template["metadata"]["labels"]),
                    "annotations": {"deployment.kubernetes.io/revision": str(len(owned) + 1)},
                    "ownerReferences": [owner_reference(deployment)],
                },
                "spec": {"replicas": replicas, "selector": selector, "template": template},
            }
            try:
                current = cluster.create(
                    REPLICASETS, key.namespace, body, self.manager, from_checked_parts=True
                )
            except ApiError as exc:
                record(cluster, deployment, "Warning", "ReplicaSetCreateError",
                       f'Failed to create new replica set "{rs_name}": {exc.message}',
                       self.manager)  # fmt: skip
                return 1.0
            if replicas > 0:
                record(cluster, deployment, "Normal", "ScalingReplicaSet",
                       f"Scaled up replica set {rs_name} from 0 to {replicas}",
                       self.manager)  # fmt: skip
        elif int(current["spec"].get("replicas", 1)) != replicas:
            current = self._scale(cluster, deployment, current, replicas)
        for old in owned:
            if old["metadata"]["name"] != rs_name and int(old["spec"].get("replicas", 1)) != 0:
                self._scale(cluster, deployment, old, 0)
        self._status(cluster, deployment, current, owned, replicas)
        return None

    def _scale(self, cluster: Cluster, deployment: Obj, rs: Obj, replicas: int) -> Obj:
        new = copy.deepcopy(rs)
        before = int(new["spec"].get("replicas", 1))
        new["spec"]["replicas"] = replicas
        scaled = cluster.replace(
            REPLICASETS, rs["metadata"]["namespace"], rs["metadata"]["name"], new, self.manager
        )
        direction = "up" if replicas > before else "down"
        record(cluster, deployment, "Normal", "ScalingReplicaSet",
               f"Scaled {direction} replica set {rs['metadata']['name']} to {replicas} from "
               f"{before}", self.manager)  # fmt: skip
        return scaled

    def _status(
        self, cluster: Cluster, deployment: Obj, current: Obj, owned: list[Obj], replicas: int
    ) -> None:
        every = {rs["metadata"]["name"]: rs for rs in owned}
        every[current["metadata"]["name"]] = current
        statuses = [rs.get("status") or {} for rs in every.values()]
        total = sum(int(s.get("replicas", 0)) for s in statuses)
        ready = sum(int(s.get("readyReplicas", 0)) for s in statuses)
        available = sum(int(s.get("availableReplicas", 0)) for s in statuses)
        current_status = current.get("status") or {}
        updated = int(current_status.get("replicas", 0))
        new_available = int(current_status.get("availableReplicas", 0))
        now = cluster.now()
        rs_name = current["metadata"]["name"]
        conditions = [
            _condition("Available", "True", "MinimumReplicasAvailable",
                       "Deployment has minimum availability.", now)
            if available >= replicas
            else _condition("Available", "False", "MinimumReplicasUnavailable",
                            "Deployment does not have minimum availability.", now),
            _condition("Progressing", "True", "NewReplicaSetAvailable",
                       f'ReplicaSet "{rs_name}" has successfully progressed.', now)
            if new_available >= replicas and updated == replicas and total == replicas
            else _condition("Progressing", "True", "ReplicaSetUpdated",
                            f'ReplicaSet "{rs_name}" is progressing.', now),
        ]  # fmt: skip
        failure = next(
            (
                c
                for c in current_status.get("conditions") or []
                if c.get("type") == "ReplicaFailure"
            ),
            None,
        )
        if failure is not None:
            conditions.append(
                _condition(
                    "ReplicaFailure",
                    "True",
                    str(failure.get("reason")),
                    str(failure.get("message")),
                    now,
                )
            )
        old_status = deployment.get("status") or {}
        status = {
            "observedGeneration": int(deployment["metadata"].get("generation", 1)),
            "replicas": total,
            "updatedReplicas": updated,
            "readyReplicas": ready,
            "availableReplicas": available,
            "unavailableReplicas": max(0, replicas - available),
            "conditions": _keep_times(conditions, old_status.get("conditions")),
        }
        _write_status(cluster, DEPLOYMENTS, deployment, status, self.manager)


class _PodOwnerSync:
    """What ReplicaSets and StatefulSets share: wake on their pods and on quota changes."""

    name = ""
    kind: Kind = REPLICASETS
    manager = ""
    resources: tuple[str, ...] = ()

    def __init__(self, faults: FaultInjector) -> None:
        self.faults = faults

    def keys_for(self, cluster: Cluster, kind: Kind, obj: Obj) -> list[ObjectKey]:
        meta = obj["metadata"]
        namespace = meta.get("namespace", "")
        if kind is self.kind:
            return [cluster.key(kind, namespace, meta["name"])]
        if kind is QUOTAS:  # a raised quota may let a stuck workload create its pods
            return [
                cluster.key(self.kind, namespace, o["metadata"]["name"])
                for o in cluster.store.values(self.kind.qualified, namespace)
            ]
        ref = controller_of(obj)
        if ref is None or ref.get("kind") != self.kind.kind:
            return []
        return [cluster.key(self.kind, namespace, str(ref["name"]))]

    def _create_pod(
        self, cluster: Cluster, owner: Obj, body: Obj, failures: list[ApiError]
    ) -> Obj | None:
        try:
            return cluster.create(
                PODS, owner["metadata"]["namespace"], body, self.manager, from_checked_parts=True
            )
        except ApiError as exc:
            failures.append(exc)
            return None

    @staticmethod
    def _pod_body(owner: Obj, name: str | None, extra_labels: dict[str, str]) -> Obj:
        template = copy.deepcopy((owner.get("spec") or {}).get("template") or {})
        meta = template.get("metadata") or {}
        metadata: Obj = {
            "labels": {**(meta.get("labels") or {}), **extra_labels},
            "ownerReferences": [owner_reference(owner)],
        }
        if meta.get("annotations"):
            metadata["annotations"] = meta["annotations"]
        if name is None:
            metadata["generateName"] = owner["metadata"]["name"] + "-"
        else:
            metadata["name"] = name
        return {"metadata": metadata, "spec": template.get("spec") or {}}

    def _failure_condition(self, failures: list[ApiError], old: Obj, now: str) -> list[Obj]:
        if not failures:
            return []
        condition = {"type": "ReplicaFailure", "status": "True", "reason": "FailedCreate",
                     "message": failures[0].message, "lastTransitionTime": now}  # fmt: skip
        prior = [c for c in old.get("conditions") or [] if c.get("type") == "ReplicaFailure"]
        if prior and prior[0].get("message") == condition["message"]:
            condition["lastTransitionTime"] = prior[0].get("lastTransitionTime", now)
        return [condition]


class ReplicaSetSync(_PodOwnerSync):
    name = "replicaset"
    kind = REPLICASETS
    manager = "replicaset-controller"
    resources = ("replicasets.apps", "pods", "resourcequotas")

    def sync(self, cluster: Cluster, key: ObjectKey) -> float | None:
        rs = cluster.store.peek(key)
        if rs is None or rs["metadata"].get("deletionTimestamp"):
            return None
        if _terminating(cluster, key.namespace):
            return None
        replicas = int((rs.get("spec") or {}).get("replicas", 1))
        pods = sorted(
            _owned(cluster, rs, PODS.qualified), key=lambda p: p["metadata"]["creationTimestamp"]
        )
        failures: list[ApiError] = []
        while len(pods) < replicas:
            pod = self._create_pod(cluster, rs, self._pod_body(rs, None, {}), failures)
            if pod is None:
                record(cluster, rs, "Warning", "FailedCreate",
                       f"Error creating: {failures[-1].message}", self.manager)  # fmt: skip
                break
            record(cluster, rs, "Normal", "SuccessfulCreate",
                   f"Created pod: {pod['metadata']['name']}", self.manager)  # fmt: skip
            pods.append(pod)
        for extra in sorted(pods, key=pod_ready)[: max(0, len(pods) - replicas)]:
            cluster.delete(PODS, key.namespace, extra["metadata"]["name"])
            record(cluster, rs, "Normal", "SuccessfulDelete",
                   f"Deleted pod: {extra['metadata']['name']}", self.manager)  # fmt: skip
            pods.remove(extra)
        ready = sum(1 for p in pods if pod_ready(p))
        old_status = rs.get("status") or {}
        status = {
            "replicas": len(pods),
            "fullyLabeledReplicas": len(pods),
            "readyReplicas": ready,
            "availableReplicas": ready,
            "observedGeneration": int(rs["metadata"].get("generation", 1)),
            "conditions": self._failure_condition(failures, old_status, cluster.now()),
        }
        _write_status(cluster, REPLICASETS, rs, status, self.manager)
        return 2.0 if failures else None


class StatefulSetSync(_PodOwnerSync):
    name = "statefulset"
    kind = STATEFULSETS
    manager = "statefulset-controller"
    resources = ("statefulsets.apps", "pods", "resourcequotas")

    def sync(self, cluster: Cluster, key: ObjectKey) -> float | None:
        sts = cluster.store.peek(key)
        if sts is None or sts["metadata"].get("deletionTimestamp"):
            return None
        if _terminating(cluster, key.namespace):
            return None
        spec = sts.get("spec") or {}
        replicas = int(spec.get("replicas", 1))
        revision = f"{key.name}-{template_hash(spec.get('template'))}"
        pods = {p["metadata"]["name"]: p for p in _owned(cluster, sts, PODS.qualified)}
        failures: list[ApiError] = []
        for name, pod in list(pods.items()):
            ordinal = name.rsplit("-", 1)[-1]
            labels = pod["metadata"].get("labels") or {}
            if (
                not ordinal.isdigit()
                or int(ordinal) >= replicas
                or labels.get(REVISION_HASH) != revision
            ):
                cluster.delete(PODS, key.namespace, name)
                self._pod_event(cluster, sts, "delete", name)
                del pods[name]
        for ordinal in range(replicas):
            name = f"{key.name}-{ordinal}"
            if name in pods:
                continue
            if not self._claims(cluster, sts, ordinal, failures):
                break
            body = self._pod_body(
                sts,
                name,
                {REVISION_HASH: revision, "apps.kubernetes.io/pod-index": str(ordinal),
                 "statefulset.kubernetes.io/pod-name": name},
            )  # fmt: skip
            self._mount_claims(sts, body, ordinal)
            created = self._create_pod(cluster, sts, body, failures)
            if created is None:
                self._pod_event(cluster, sts, "create", name, failures[-1])
                break
            self._pod_event(cluster, sts, "create", name)
            pods[name] = created
        ready = sum(1 for p in pods.values() if pod_ready(p))
        old_status = sts.get("status") or {}
        status = {
            "observedGeneration": int(sts["metadata"].get("generation", 1)),
            "replicas": len(pods),
            "readyReplicas": ready,
            "availableReplicas": ready,
            "currentReplicas": len(pods),
            "updatedReplicas": len(pods),
            "currentRevision": revision,
            "updateRevision": revision,
            "collisionCount": 0,
            "conditions": self._failure_condition(failures, old_status, cluster.now()),
        }
        _write_status(cluster, STATEFULSETS, sts, status, self.manager)
        return 2.0 if failures else None

    def _pod_event(
        self, cluster: Cluster, sts: Obj, verb: str, pod: str, error: ApiError | None = None
    ) -> None:
        """What the StatefulSet controller's pod control records (recordPodEvent)."""
        sts_name = sts["metadata"]["name"]
        if error is None:
            record(cluster, sts, "Normal", f"Successful{verb.title()}",
                   f"{verb} Pod {pod} in StatefulSet {sts_name} successful",
                   self.manager)  # fmt: skip
        else:
            record(cluster, sts, "Warning", f"Failed{verb.title()}",
                   f"{verb} Pod {pod} in StatefulSet {sts_name} failed error: {error.message}",
                   self.manager)  # fmt: skip

    def _claims(self, cluster: Cluster, sts: Obj, ordinal: int, failures: list[ApiError]) -> bool:
        """Create the pod's PVCs from volumeClaimTemplates when missing."""
        name = sts["metadata"]["name"]
        namespace = sts["metadata"]["namespace"]
        selector = ((sts.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
        for template in (sts.get("spec") or {}).get("volumeClaimTemplates") or []:
            claim = f"{template['metadata']['name']}-{name}-{ordinal}"
            if cluster.store.exists(cluster.key(PVCS, namespace, claim)):
                continue
            meta = template.get("metadata") or {}
            body = {
                "metadata": {"name": claim, "labels": {**(meta.get("labels") or {}), **selector}},
                "spec": copy.deepcopy(template.get("spec") or {}),
            }
            pod = f"{name}-{ordinal}"
            try:
                cluster.create(PVCS, namespace, body, self.manager)
            except ApiError as exc:
                failures.append(exc)
                record(cluster, sts, "Warning", "FailedCreate",
                       f"create Claim {claim} for Pod {pod} in StatefulSet {name} failed error: "
                       f"{exc.message}", self.manager)  # fmt: skip
                return False
            record(cluster, sts, "Normal", "SuccessfulCreate",
                   f"create Claim {claim} Pod {pod} in StatefulSet {name} success",
                   self.manager)  # fmt: skip
        return True

    @staticmethod
    def _mount_claims(sts: Obj, body: Obj, ordinal: int) -> None:
        name = sts["metadata"]["name"]
        volumes = body["spec"].setdefault("volumes", [])
        present = {v.get("name") for v in volumes}
        for template in (sts.get("spec") or {}).get("volumeClaimTemplates") or []:
            claim_name = template["metadata"]["name"]
            if claim_name not in present:
                volumes.append({"name": claim_name, "persistentVolumeClaim": {
                    "claimName": f"{claim_name}-{name}-{ordinal}"}})  # fmt: skip


class QuotaStatus:
    name = "resourcequota"
    manager = "resourcequota-controller"
    resources = ("resourcequotas", "pods", "persistentvolumeclaims", "services", "secrets",
                 "configmaps")  # fmt: skip

    def keys_for(self, cluster: Cluster, kind: Kind, obj: Obj) -> list[ObjectKey]:
        namespace = obj["metadata"].get("namespace", "")
        if kind is QUOTAS:
            return [cluster.key(QUOTAS, namespace, obj["metadata"]["name"])]
        return [
            cluster.key(QUOTAS, namespace, q["metadata"]["name"])
            for q in cluster.store.values(QUOTAS.qualified, namespace)
        ]

    def sync(self, cluster: Cluster, key: ObjectKey) -> float | None:
        quota = cluster.store.peek(key)
        if quota is None or quota["metadata"].get("deletionTimestamp"):
            return None
        hard = (quota.get("spec") or {}).get("hard") or {}
        used = usage(hard, key.namespace, list(KINDS), cluster.store.values)
        status = {"hard": dict(hard), "used": render_usage(hard, used)}
        if status != quota.get("status"):
            cluster.write_status(QUOTAS, key, status, self.manager)
        return None


# --- timer controllers -------------------------------------------------------------------


class PvcBinder:
    name = "pvc-binder"
    resources = ("persistentvolumeclaims",)
    manager = "persistentvolume-binder"

    def __init__(self, delay_for: DelayFor) -> None:
        self._delay_for = delay_for

    def delay(self) -> float:
        return self._delay_for("PersistentVolumeClaim")

    def needs_work(self, obj: Obj) -> bool:
        return (obj.get("status") or {}).get("phase") != "Bound"

    def reconcile(self, cluster: Cluster, kind: Kind, key: ObjectKey, obj: Obj) -> float | None:
        spec = obj.get("spec") or {}
        volume = str(spec.get("volumeName") or "")
        if volume and cluster.store.peek(ObjectKey("persistentvolumes", "", volume)) is None:
            if (obj.get("status") or {}).get("phase") != "Pending":
                cluster.write_status(kind, key, {"phase": "Pending"}, self.manager)
            return max(self.delay(), 0.5)  # look again: the volume may be created later
        status: Obj = {"phase": "Bound", "accessModes": spec.get("accessModes") or []}
        storage = ((spec.get("resources") or {}).get("requests") or {}).get("storage")
        if storage is not None:
            status["capacity"] = {"storage": storage}
        cluster.write_status(kind, key, status, self.manager)
        return None


class LoadBalancer:
    """Addresses for Ingresses and LoadBalancer Services, as a load-balancer controller."""

    name = "load-balancer"
    resources = ("ingresses.networking.k8s.io", "services")
    manager = "storeplane-sim-load-balancer"

    def __init__(self, delay_for: DelayFor) -> None:
        self._delay_for = delay_for

    def delay(self) -> float:
        return self._delay_for("Ingress")

    def needs_work(self, obj: Obj) -> bool:
        if obj.get("kind") == "Service" and (obj.get("spec") or {}).get("type") != "LoadBalancer":
            return False
        return not ((obj.get("status") or {}).get("loadBalancer") or {}).get("ingress")

    def reconcile(self, cluster: Cluster, kind: Kind, key: ObjectKey, obj: Obj) -> float | None:
        status = dict(obj.get("status") or {})
        status["loadBalancer"] = {"ingress": [{"ip": LOAD_BALANCER_IP}]}
        cluster.write_status(kind, key, status, self.manager)
        return None
