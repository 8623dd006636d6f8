"""Server-side printing: ``meta.k8s.io/v1`` Table and PartialObjectMetadata answers.

Called by the routes in :mod:`storeplane.sim.api.app` for GETs (one object or a list).
``kubectl get`` asks with ``Accept: application/json;as=Table;v=v1;g=meta.k8s.io,...`` and
prints the columns the server chooses, so the columns here are the API server's printers
(``pkg/printers/internalversion``) for the kinds the simulator serves: pods (NAME READY STATUS
RESTARTS AGE, then IP NODE... with ``-o wide``), deployments, replicasets, statefulsets,
jobs, services, PVCs, namespaces, events, configmaps, secrets, serviceaccounts, ingresses,
rolebindings, leases... and NAME AGE for the rest. Columns with ``priority`` 1 are the
``-o wide`` ones. ``includeObject`` (``None``, ``Metadata`` - the default - or ``Object``)
says what each row carries besides its cells; kubectl reads the namespace of ``-A`` rows
from it. ``as=PartialObjectMetadata(List)`` answers only the objects' metadata.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from ..errors import ApiError, bad_request
from ..kinds import Kind

Obj = dict[str, Any]
Cell = str | int
Column = tuple[str, str, int, Callable[[Obj, float], Cell]]  # name, type, priority, cell

TABLE = "Table"
PARTIAL = "PartialObjectMetadata"
PARTIAL_LIST = "PartialObjectMetadataList"
_ANSWERABLE = ("application/json", "application/*", "*/*")


def negotiate(accept: str | None) -> str | None:
    """What to answer a GET with: ``"Table"``, ``"PartialObjectMetadata"``,
    ``"PartialObjectMetadataList"`` or None (the plain object or list as JSON). The first
    media range of the Accept header the simulator can produce wins; none at all is 406."""
    if not accept or not accept.strip():
        return None
    for media_range in accept.split(","):
        parts = [p.strip() for p in media_range.split(";")]
        media = parts[0].lower()
        params = dict(p.split("=", 1) for p in parts[1:] if "=" in p)
        if media not in _ANSWERABLE:
            continue
        as_ = params.get("as")
        if as_ is None:
            return None
        meta = params.get("g") == "meta.k8s.io" and params.get("v") in ("v1", "v1beta1")
        if meta and as_ in (TABLE, PARTIAL, PARTIAL_LIST):
            return as_
    raise ApiError(
        406,
        "NotAcceptable",
        f"only the following media types are accepted: application/json, "
        f"application/json;as=Table;v=v1;g=meta.k8s.io (asked for: {accept})",
    )


# --- formatting helpers, as kubectl's printers format -------------------------------------


def _epoch(timestamp: Any) -> float | None:
    if not isinstance(timestamp, str) or not timestamp:
        return None
    try:
        return (
            datetime.strptime(timestamp[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC).timestamp()
        )
    except ValueError:
        return None


def human_duration(seconds: float) -> str:
    """apimachinery's ``duration.HumanDuration``: ``45s``, ``3m12s``, ``2h5m``, ``3d4h``."""
    if seconds < -1:
        return "<invalid>"
    if seconds < 0:
        return "0s"
    s = int(seconds)
    if s < 120:
        return f"{s}s"
    minutes = s // 60
    if minutes < 10:
        return f"{minutes}m{s % 60}s" if s % 60 else f"{minutes}m"
    if minutes < 180:
        return f"{minutes}m"
    hours = s // 3600
    if hours < 8:
        return f"{hours}h{minutes % 60}m" if minutes % 60 else f"{hours}h"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        return f"{hours // 24}d{hours % 24}h" if hours % 24 else f"{hours // 24}d"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        days = (hours // 24) % 365
        return f"{hours // 24 // 365}y{days}d" if days else f"{hours // 24 // 365}y"
    return f"{hours // 24 // 365}y"


def _since(timestamp: Any, now: float) -> str:
    epoch = _epoch(timestamp)
    return "<unknown>" if epoch is None else human_duration(now - epoch)


def _age(obj: Obj, now: float) -> str:
    return _since(obj["metadata"].get("creationTimestamp"), now)


def _name(obj: Obj, now: float) -> str:
    return str(obj["metadata"].get("name", ""))


def _spec(obj: Obj) -> Obj:
    return obj.get("spec") or {}


def _status(obj: Obj) -> Obj:
    return obj.get("status") or {}


def _template_spec(obj: Obj) -> Obj:
    template = _spec(obj).get("template") or {}
    return template.get("spec") or {}


def _containers(obj: Obj, now: float) -> str:
    return ",".join(str(c.get("name", "")) for c in _template_spec(obj).get("containers") or [])


def _images(obj: Obj, now: float) -> str:
    return ",".join(str(c.get("image", "")) for c in _template_spec(obj).get("containers") or [])


def _selector(obj: Obj, now: float) -> str:
    return format_selector(_spec(obj).get("selector")) or "<none>"


def format_selector(selector: Any) -> str:
    """A LabelSelector as the label selector string Kubernetes prints (``app=web,tier in (a,b)``)."""
    if not isinstance(selector, dict):
        return ""
    parts = [f"{k}={v}" for k, v in sorted((selector.get("matchLabels") or {}).items())]
    for expression in selector.get("matchExpressions") or []:
        key, op = expression.get("key", ""), expression.get("operator", "")
        values = ",".join(sorted(expression.get("values") or []))
        if op == "In":
            parts.append(f"{key} in ({values})")
        elif op == "NotIn":
            parts.append(f"{key} notin ({values})")
        elif op == "Exists":
            parts.append(key)
        elif op == "DoesNotExist":
            parts.append(f"!{key}")
    return ",".join(parts)


def _none(value: Any) -> str:
    return str(value) if value not in (None, "", []) else "<none>"


# --- per-kind cells ------------------------------------------------------------------------


def _pod_ready(obj: Obj, now: float) -> str:
    statuses = _status(obj).get("containerStatuses") or []
    total = len(_spec(obj).get("containers") or [])
    return f"{sum(1 for s in statuses if s.get('ready'))}/{total}"


def _pod_status(obj: Obj, now: float) -> str:
    status = _status(obj)
    reason = str(status.get("reason") or status.get("phase") or "")
    init_statuses = status.get("initContainerStatuses") or []
    init_total = len(_spec(obj).get("initContainers") or [])
    initializing = False
    for i, s in enumerate(init_statuses):
        state = s.get("state") or {}
        terminated, waiting = state.get("terminated"), state.get("waiting")
        if terminated and terminated.get("exitCode") == 0:
            continue
        initializing = True
        if terminated:
            reason = "Init:" + (
                terminated.get("reason") or f"ExitCode:{terminated.get('exitCode')}"
            )
        elif waiting and waiting.get("reason") and waiting["reason"] != "PodInitializing":
            reason = f"Init:{waiting['reason']}"
        else:
            reason = f"Init:{i}/{init_total}"
        break
    if not initializing:
        running = False
        for s in reversed(status.get("containerStatuses") or []):
            state = s.get("state") or {}
            waiting, terminated = state.get("waiting"), state.get("terminated")
            if waiting and waiting.get("reason"):
                reason = waiting["reason"]
            elif terminated and terminated.get("reason"):
                reason = terminated["reason"]
            elif terminated:
                reason = (
                    f"Signal:{terminated['signal']}"
                    if terminated.get("signal")
                    else f"ExitCode:{terminated.get('exitCode')}"
                )
            elif s.get("ready") and state.get("running"):
                running = True
        if reason == "Completed" and running:
            ready = any(
                c.get("type") == "Ready" and c.get("status") == "True"
                for c in status.get("conditions") or []
            )
            reason = "Running" if ready else "NotReady"
    if obj["metadata"].get("deletionTimestamp"):
        reason = "Unknown" if status.get("reason") == "NodeLost" else "Terminating"
    return reason


def _pod_restarts(obj: Obj, now: float) -> str:
    statuses = _status(obj).get("containerStatuses") or []
    restarts = sum(int(s.get("restartCount") or 0) for s in statuses)
    last = max(
        (
            e
            for s in statuses
            if (e := _epoch(((s.get("lastState") or {}).get("terminated") or {}).get("finishedAt")))
        ),
        default=None,
    )
    if restarts and last is not None:
        return f"{restarts} ({human_duration(now - last)} ago)"
    return str(restarts)


def _ready_of_desired(obj: Obj, now: float) -> str:
    return f"{int(_status(obj).get('readyReplicas') or 0)}/{int(_spec(obj).get('replicas') or 0)}"


def _job_completions(obj: Obj, now: float) -> str:
    spec, succeeded = _spec(obj), int(_status(obj).get("succeeded") or 0)
    if spec.get("completions") is not None:
        return f"{succeeded}/{spec['completions']}"
    parallelism = int(spec.get("parallelism") or 0)
    return f"{succeeded}/1 of {parallelism}" if parallelism > 1 else f"{succeeded}/1"


def _job_duration(obj: Obj, now: float) -> str:
    start = _epoch(_status(obj).get("startTime"))
    if start is None:
        return ""
    end = _epoch(_status(obj).get("completionTime"))
    return human_duration((end if end is not None else now) - start)


def _has_condition(obj: Obj, type_: str) -> bool:
    return any(
        c.get("type") == type_ and c.get("status") == "True"
        for c in _status(obj).get("conditions") or []
    )


def _job_status(obj: Obj, now: float) -> str:
    for condition, word in (("Complete", "Complete"), ("Failed", "Failed")):
        if _has_condition(obj, condition):
            return word
    if obj["metadata"].get("deletionTimestamp"):
        return "Terminating"
    for condition in ("Suspended", "FailureTarget", "SuccessCriteriaMet"):
        if _has_condition(obj, condition):
            return condition
    return "Running"


def _service_external_ip(obj: Obj, now: float) -> str:
    spec = _spec(obj)
    external = list(spec.get("externalIPs") or [])
    kind = spec.get("type") or "ClusterIP"
    if kind in ("ClusterIP", "NodePort"):
        return ",".join(external) if external else "<none>"
    if kind == "ExternalName":
        return str(spec.get("externalName") or "<none>")
    ingress = (_status(obj).get("loadBalancer") or {}).get("ingress") or []
    addresses = [
        i.get("ip") or i.get("hostname") for i in ingress if i.get("ip") or i.get("hostname")
    ]
    addresses += external
    return ",".join(str(a) for a in addresses) if addresses else "<pending>"


def _service_ports(obj: Obj, now: float) -> str:
    ports = []
    for p in _spec(obj).get("ports") or []:
        protocol = p.get("protocol") or "TCP"
        node = f":{p['nodePort']}" if p.get("nodePort") else ""
        ports.append(f"{p.get('port')}{node}/{protocol}")
    return ",".join(ports) if ports else "<none>"


_ACCESS_MODES = {
    "ReadWriteOnce": "RWO", "ReadOnlyMany": "ROX", "ReadWriteMany": "RWX",
    "ReadWriteOncePod": "RWOP",
}  # fmt: skip


def _pvc_status(obj: Obj, now: float) -> str:
    if obj["metadata"].get("deletionTimestamp"):
        return "Terminating"
    return str(_status(obj).get("phase") or "Pending")


def _pvc_capacity(obj: Obj, now: float) -> str:
    if _status(obj).get("phase") != "Bound":
        return ""
    return str((_status(obj).get("capacity") or {}).get("storage", ""))


def _pvc_access_modes(obj: Obj, now: float) -> str:
    modes = _status(obj).get("accessModes") or _spec(obj).get("accessModes") or []
    return ",".join(_ACCESS_MODES.get(m, m) for m in modes)


def _event_last_seen(obj: Obj, now: float) -> str:
    series = obj.get("series") or {}
    for stamp in (
        series.get("lastObservedTime"), obj.get("lastTimestamp"), obj.get("eventTime"),
        obj.get("firstTimestamp"),
    ):  # fmt: skip
        if stamp:
            return _since(stamp, now)
    return "<unknown>"


def _event_object(obj: Obj, now: float) -> str:
    involved = obj.get("involvedObject") or {}
    return f"{str(involved.get('kind', '')).lower()}/{involved.get('name', '')}"


def _event_source(obj: Obj, now: float) -> str:
    source = obj.get("source") or {}
    component = source.get("component") or obj.get("reportingComponent") or ""
    host = source.get("host") or ""
    return f"{component}, {host}" if host else str(component)


def _ingress_hosts(obj: Obj, now: float) -> str:
    hosts = [r.get("host") for r in _spec(obj).get("rules") or [] if r.get("host")]
    if not hosts:
        return "*"
    shown = ",".join(hosts[:4])
    return shown + (f" + {len(hosts) - 4} more..." if len(hosts) > 4 else "")


def _ingress_address(obj: Obj, now: float) -> str:
    ingress = (_status(obj).get("loadBalancer") or {}).get("ingress") or []
    return ",".join(str(i.get("ip") or i.get("hostname")) for i in ingress)


def _ingress_ports(obj: Obj, now: float) -> str:
    return "80, 443" if _spec(obj).get("tls") else "80"


def _subjects(kind: str) -> Callable[[Obj, float], Cell]:
    def cell(obj: Obj, now: float) -> str:
        names = []
        for subject in obj.get("subjects") or []:
            if subject.get("kind") != kind:
                continue
            name = subject.get("name", "")
            names.append(
                f"{subject.get('namespace', '')}/{name}" if kind == "ServiceAccount" else name
            )
        return ", ".join(names)

    return cell


def _quota(which: str) -> Callable[[Obj, float], Cell]:
    def cell(obj: Obj, now: float) -> str:
        hard, used = _spec(obj).get("hard") or {}, _status(obj).get("used") or {}
        names = sorted(
            n
            for n in hard
            if (n.startswith("limits.") if which == "limits" else not n.startswith("limits."))
        )
        return ", ".join(f"{n}: {used.get(n, '0')}/{hard[n]}" for n in names)

    return cell


def _hpa_targets(obj: Obj, now: float) -> str:
    """kubectl's TARGETS: ``cpu: 40%/80%``, ``<unknown>`` where no autoscaler measured."""
    current = _status(obj).get("currentMetrics") or []
    shown = []
    for i, metric in enumerate(_spec(obj).get("metrics") or []):
        type_ = metric.get("type", "")
        source = metric.get({"Resource": "resource", "ContainerResource": "containerResource",
                             "Pods": "pods", "Object": "object", "External": "external"}.get(type_, ""),
                            {}) or {}  # fmt: skip
        target = source.get("target") or {}
        now_value = ((current[i] if i < len(current) else {}).get(
            {"Resource": "resource", "ContainerResource": "containerResource"}.get(type_, "_"), {}
        ) or {}).get("current") or {}  # fmt: skip
        if target.get("averageUtilization") is not None:
            seen = now_value.get("averageUtilization")
            value = f"{seen}%" if seen is not None else "<unknown>"
            shown.append(f"{source.get('name', type_)}: {value}/{target['averageUtilization']}%")
        else:
            wanted = target.get("averageValue") or target.get("value") or ""
            seen = now_value.get("averageValue") or now_value.get("value") or "<unknown>"
            shown.append(
                f"{source.get('name', (source.get('metric') or {}).get('name', type_))}: {seen}/{wanted}"
            )
    if not shown:
        return "<none>"
    return ", ".join(shown[:2]) + (f" + {len(shown) - 2} more..." if len(shown) > 2 else "")


def _node_status(obj: Obj, now: float) -> str:
    ready = next(
        (c for c in _status(obj).get("conditions") or [] if c.get("type") == "Ready"), None
    )
    status = "Unknown"
    if ready is not None:
        status = "Ready" if ready.get("status") == "True" else "NotReady"
    if _spec(obj).get("unschedulable"):
        status += ",SchedulingDisabled"
    return status


def _node_roles(obj: Obj, now: float) -> str:
    labels = obj["metadata"].get("labels") or {}
    roles = sorted(
        k.removeprefix("node-role.kubernetes.io/") or ""
        for k in labels
        if k.startswith("node-role.kubernetes.io/")
    )
    if labels.get("kubernetes.io/role"):
        roles.append(labels["kubernetes.io/role"])
    return ",".join(r for r in roles if r) or "<none>"


def _endpoints(obj: Obj, now: float) -> str:
    shown = []
    for subset in obj.get("subsets") or []:
        ports = [p.get("port") for p in subset.get("ports") or []] or [None]
        for address in subset.get("addresses") or []:
            for port in ports:
                shown.append(f"{address.get('ip')}:{port}" if port else str(address.get("ip")))
    if not shown:
        return "<none>"
    return ",".join(shown[:3]) + (f" + {len(shown) - 3} more..." if len(shown) > 3 else "")


def _slice_ports(obj: Obj, now: float) -> str:
    ports = [str(p.get("port")) for p in obj.get("ports") or [] if p.get("port") is not None]
    return ",".join(ports) if ports else "<unset>"


def _slice_endpoints(obj: Obj, now: float) -> str:
    addresses = [a for e in obj.get("endpoints") or [] for a in e.get("addresses") or []]
    if not addresses:
        return "<unset>"
    return ",".join(addresses[:3]) + (
        f" + {len(addresses) - 3} more..." if len(addresses) > 3 else ""
    )


def _created_at(obj: Obj, now: float) -> str:
    return str(obj["metadata"].get("creationTimestamp", ""))


NAME: Column = ("Name", "string", 0, _name)
AGE: Column = ("Age", "string", 0, _age)
WORKLOAD_WIDE: list[Column] = [
    ("Containers", "string", 1, _containers),
    ("Images", "string", 1, _images),
    ("Selector", "string", 1, _selector),
]

COLUMNS: dict[str, list[Column]] = {
    "Pod": [
        NAME,
        ("Ready", "string", 0, _pod_ready),
        ("Status", "string", 0, _pod_status),
        ("Restarts", "string", 0, _pod_restarts),
        AGE,
        ("IP", "string", 1, lambda o, n: _none(_status(o).get("podIP"))),
        ("Node", "string", 1, lambda o, n: _none(_spec(o).get("nodeName"))),
        ("Nominated Node", "string", 1, lambda o, n: _none(_status(o).get("nominatedNodeName"))),
        (
            "Readiness Gates",
            "string",
            1,
            lambda o, n: _none(
                ",".join(str(g.get("conditionType")) for g in _spec(o).get("readinessGates") or [])
            ),
        ),
    ],
    "Deployment": [
        NAME,
        ("Ready", "string", 0, _ready_of_desired),
        ("Up-to-date", "integer", 0, lambda o, n: int(_status(o).get("updatedReplicas") or 0)),
        ("Available", "integer", 0, lambda o, n: int(_status(o).get("availableReplicas") or 0)),
        AGE,
        *WORKLOAD_WIDE,
    ],
    "ReplicaSet": [
        NAME,
        ("Desired", "integer", 0, lambda o, n: int(_spec(o).get("replicas") or 0)),
        ("Current", "integer", 0, lambda o, n: int(_status(o).get("replicas") or 0)),
        ("Ready", "integer", 0, lambda o, n: int(_status(o).get("readyReplicas") or 0)),
        AGE,
        *WORKLOAD_WIDE,
    ],
    "StatefulSet": [
        NAME,
        ("Ready", "string", 0, _ready_of_desired),
        AGE,
        *WORKLOAD_WIDE[:2],
    ],
    "Job": [
        NAME,
        ("Status", "string", 0, _job_status),
        ("Completions", "string", 0, _job_completions),
        ("Duration", "string", 0, _job_duration),
        AGE,
        *WORKLOAD_WIDE,
    ],
    "Service": [
        NAME,
        ("Type", "string", 0, lambda o, n: str(_spec(o).get("type") or "ClusterIP")),
        ("Cluster-IP", "string", 0, lambda o, n: _none(_spec(o).get("clusterIP"))),
        ("External-IP", "string", 0, _service_external_ip),
        ("Port(s)", "string", 0, _service_ports),
        AGE,
        (
            "Selector",
            "string",
            1,
            lambda o, n: (
                ",".join(f"{k}={v}" for k, v in sorted((_spec(o).get("selector") or {}).items()))
                or "<none>"
            ),
        ),
    ],
    "PersistentVolumeClaim": [
        NAME,
        ("Status", "string", 0, _pvc_status),
        ("Volume", "string", 0, lambda o, n: str(_spec(o).get("volumeName") or "")),
        ("Capacity", "string", 0, _pvc_capacity),
        ("Access Modes", "string", 0, _pvc_access_modes),
        ("StorageClass", "string", 0, lambda o, n: str(_spec(o).get("storageClassName") or "")),
        (
            "VolumeAttributesClass",
            "string",
            0,
            lambda o, n: str(_spec(o).get("volumeAttributesClassName") or "<unset>"),
        ),
        AGE,
        ("VolumeMode", "string", 1, lambda o, n: str(_spec(o).get("volumeMode") or "Filesystem")),
    ],
    "Namespace": [
        NAME,
        ("Status", "string", 0, lambda o, n: str(_status(o).get("phase") or "")),
        AGE,
    ],
    "Event": [
        ("Last Seen", "string", 0, _event_last_seen),
        ("Type", "string", 0, lambda o, n: str(o.get("type") or "")),
        ("Reason", "string", 0, lambda o, n: str(o.get("reason") or "")),
        ("Object", "string", 0, _event_object),
        (
            "Subobject",
            "string",
            1,
            lambda o, n: str((o.get("involvedObject") or {}).get("fieldPath") or ""),
        ),
        ("Source", "string", 1, _event_source),
        ("Message", "string", 0, lambda o, n: str(o.get("message") or "").strip()),
        ("First Seen", "string", 1, lambda o, n: _since(o.get("firstTimestamp"), n)),
        ("Count", "string", 1, lambda o, n: str(o.get("count") or "")),
        ("Name", "string", 1, _name),
    ],
    "ConfigMap": [
        NAME,
        (
            "Data",
            "integer",
            0,
            lambda o, n: len(o.get("data") or {}) + len(o.get("binaryData") or {}),
        ),
        AGE,
    ],
    "Secret": [
        NAME,
        ("Type", "string", 0, lambda o, n: str(o.get("type") or "")),
        ("Data", "integer", 0, lambda o, n: len(o.get("data") or {})),
        AGE,
    ],
    "ServiceAccount": [
        NAME,
        ("Secrets", "integer", 0, lambda o, n: len(o.get("secrets") or [])),
        AGE,
    ],
    "Ingress": [
        NAME,
        ("Class", "string", 0, lambda o, n: str(_spec(o).get("ingressClassName") or "<none>")),
        ("Hosts", "string", 0, _ingress_hosts),
        ("Address", "string", 0, _ingress_address),
        ("Ports", "string", 0, _ingress_ports),
        AGE,
    ],
    "NetworkPolicy": [
        NAME,
        (
            "Pod-Selector",
            "string",
            0,
            lambda o, n: format_selector(_spec(o).get("podSelector")) or "<none>",
        ),
        AGE,
    ],
    "ResourceQuota": [
        NAME,
        AGE,
        ("Request", "string", 0, _quota("requests")),
        ("Limit", "string", 0, _quota("limits")),
    ],
    "RoleBinding": [
        NAME,
        (
            "Role",
            "string",
            0,
            lambda o, n: "{kind}/{name}".format(
                **{"kind": "", "name": "", **(o.get("roleRef") or {})}
            ),
        ),
        AGE,
        ("Users", "string", 1, _subjects("User")),
        ("Groups", "string", 1, _subjects("Group")),
        ("ServiceAccounts", "string", 1, _subjects("ServiceAccount")),
    ],
    "Lease": [
        NAME,
        ("Holder", "string", 0, lambda o, n: str(_spec(o).get("holderIdentity") or "")),
        AGE,
    ],
    "HorizontalPodAutoscaler": [
        NAME,
        (
            "Reference",
            "string",
            0,
            lambda o, n: "{kind}/{name}".format(
                **{"kind": "", "name": "", **(_spec(o).get("scaleTargetRef") or {})}
            ),
        ),
        ("Targets", "string", 0, _hpa_targets),
        ("MinPods", "string", 0, lambda o, n: str(_spec(o).get("minReplicas", "<unset>"))),
        ("MaxPods", "integer", 0, lambda o, n: int(_spec(o).get("maxReplicas") or 0)),
        ("Replicas", "integer", 0, lambda o, n: int(_status(o).get("currentReplicas") or 0)),
        AGE,
    ],
    "Node": [
        NAME,
        ("Status", "string", 0, _node_status),
        ("Roles", "string", 0, _node_roles),
        AGE,
        (
            "Version",
            "string",
            0,
            lambda o, n: str((_status(o).get("nodeInfo") or {}).get("kubeletVersion") or ""),
        ),
        (
            "Internal-IP",
            "string",
            1,
            lambda o, n: next(
                (
                    str(a.get("address"))
                    for a in _status(o).get("addresses") or []
                    if a.get("type") == "InternalIP"
                ),
                "<none>",
            ),
        ),
    ],
    "Endpoints": [NAME, ("Endpoints", "string", 0, _endpoints), AGE],
    "EndpointSlice": [
        NAME,
        ("AddressType", "string", 0, lambda o, n: str(o.get("addressType") or "")),
        ("Ports", "string", 0, _slice_ports),
        ("Endpoints", "string", 0, _slice_endpoints),
        AGE,
    ],
    "Scale": [
        NAME,
        ("Desired", "integer", 0, lambda o, n: int(_spec(o).get("replicas") or 0)),
        ("Available", "integer", 0, lambda o, n: int(_status(o).get("replicas") or 0)),
    ],
    "Role": [NAME, ("Created At", "date", 0, _created_at)],
    "LimitRange": [NAME, ("Created At", "date", 0, _created_at)],
}
# events.k8s.io/v1 Events print the same columns from their own field names.
EVENTS_V1: list[Column] = [
    (
        "Last Seen",
        "string",
        0,
        lambda o, n: _since(
            (o.get("series") or {}).get("lastObservedTime")
            or o.get("deprecatedLastTimestamp")
            or o.get("eventTime")
            or o.get("deprecatedFirstTimestamp"),
            n,
        ),
    ),
    ("Type", "string", 0, lambda o, n: str(o.get("type") or "")),
    ("Reason", "string", 0, lambda o, n: str(o.get("reason") or "")),
    ("Object", "string", 0, lambda o, n: _event_object({"involvedObject": o.get("regarding")}, n)),
    ("Message", "string", 0, lambda o, n: str(o.get("note") or "").strip()),
]
COLUMNS["ClusterRoleBinding"] = COLUMNS["RoleBinding"]
COLUMNS["ClusterRole"] = COLUMNS["Role"]
COLUMNS["CustomResourceDefinition"] = COLUMNS["Role"]  # NAME CREATED AT
DEFAULT: list[Column] = [NAME, AGE]


def json_path(obj: Any, path: str) -> Any:
    """The first value a CRD printer column's JSONPath (``.spec.engine``, ``.items[0]``,
    ``.status.conditions[?(@.type=="Ready")].status``) finds in ``obj``; None if none."""
    steps = re.findall(r"\.([A-Za-z0-9_-]+)|\[(\d+)\]|\[\?\(@\.([A-Za-z0-9_.-]+)==[\"']([^\"']*)[\"']\)\]",
                       path.strip().strip("{}"))  # fmt: skip
    current = obj
    for key, index, filter_key, filter_value in steps:
        if key:
            current = current.get(key) if isinstance(current, dict) else None
        elif index:
            i = int(index)
            current = current[i] if isinstance(current, list) and i < len(current) else None
        else:
            items = current if isinstance(current, list) else []
            current = next(
                (i for i in items if isinstance(i, dict) and i.get(filter_key) == filter_value),
                None,
            )
        if current is None:
            return None
    return current


def _custom_cell(type_: str, path: str) -> Callable[[Obj, float], Cell]:
    def cell(obj: Obj, now: float) -> Cell:
        value = json_path(obj, path)
        if value is None:
            return None  # type: ignore[return-value]  # printed as <none>, as on a cluster
        if type_ == "date":
            return _since(value, now)
        if type_ == "string":
            return value if isinstance(value, str) else json.dumps(value)
        return value  # type: ignore[no-any-return]

    return cell


def custom_columns(kind: Kind) -> list[Column]:
    """A custom resource's columns: Name, then its CRD's additionalPrinterColumns (a date
    column prints as an age, as the apiextensions-apiserver answers it); Name and Age when
    the CRD declares none."""
    if not kind.printer_columns:
        return DEFAULT
    columns: list[Column] = [NAME]
    for column in kind.printer_columns:
        type_ = str(column.get("type") or "string")
        columns.append(
            (str(column.get("name")), type_, int(column.get("priority") or 0),
             _custom_cell(type_, str(column.get("jsonPath") or "")))
        )  # fmt: skip
    return columns


def _definition(column: Column) -> Obj:
    name, type_, priority, _ = column
    definition: Obj = {
        "name": name,
        "type": type_,
        "format": "",
        "description": "",
        "priority": priority,
    }
    if name == "Name":
        definition["format"] = "name"
        definition["description"] = "Name must be unique within a namespace."
    elif name == "Age":
        definition["description"] = "CreationTimestamp is the time the object was created."
    elif type_ == "date":
        definition["format"] = "date-time"
    return definition


def partial(obj: Obj) -> Obj:
    return {"kind": PARTIAL, "apiVersion": "meta.k8s.io/v1", "metadata": obj.get("metadata") or {}}


def render(
    kind: Kind, data: Obj, as_: str, include_object: str | None, now: float | None = None
) -> Obj:
    """The answer to a GET asked for ``as_`` (see :func:`negotiate`): ``data`` is one object
    or an ``XList`` from the cluster; it is only read."""
    include = include_object or "Metadata"
    if include not in ("None", "Metadata", "Object"):
        raise bad_request(
            f'includeObject: Unsupported value: "{include}": supported values: "Metadata", '
            '"None", "Object"'
        )
    is_list = "items" in data and data.get("kind", "").endswith("List")
    items: list[Obj] = data["items"] if is_list else [data]
    if as_ == PARTIAL:
        if is_list:
            raise ApiError(
                406,
                "NotAcceptable",
                "a list can be answered as PartialObjectMetadataList, not PartialObjectMetadata",
            )
        return partial(data)
    if as_ == PARTIAL_LIST:
        return {
            "kind": PARTIAL_LIST,
            "apiVersion": "meta.k8s.io/v1",
            "metadata": data.get("metadata", {}) if is_list else {},
            "items": [partial(o) for o in items],
        }
    now = time.time() if now is None else now
    if kind.crd:
        columns = custom_columns(kind)
    elif kind.group == "events.k8s.io" and kind.kind == "Event":
        columns = EVENTS_V1
    else:
        columns = COLUMNS.get(kind.kind, DEFAULT)
    rows = []
    for obj in items:
        row: Obj = {"cells": [cell(obj, now) for _, _, _, cell in columns]}
        if include == "Metadata":
            row["object"] = partial(obj)
        elif include == "Object":
            row["object"] = obj
        rows.append(row)
    metadata = (
        data.get("metadata", {})
        if is_list
        else {"resourceVersion": (data.get("metadata") or {}).get("resourceVersion", "")}
    )
    return {
        "kind": TABLE,
        "apiVersion": "meta.k8s.io/v1",
        "metadata": metadata,
        "columnDefinitions": [_definition(c) for c in columns],
        "rows": rows,
    }


def watch_transform(kind: Kind, as_: str, include_object: str | None) -> Callable[[bytes], bytes]:
    """For a watch asked for as a Table (``kubectl get -w``): each ADDED/MODIFIED/DELETED
    event's object becomes a one-row Table (a PartialObjectMetadata for metadata watches);
    BOOKMARK and ERROR events pass unchanged."""
    render(kind, {"metadata": {}}, TABLE if as_ == TABLE else PARTIAL, include_object)  # checks

    def transform(line: bytes) -> bytes:
        event = json.loads(line)
        if event.get("type") not in ("ADDED", "MODIFIED", "DELETED"):
            return line
        obj = event["object"]
        event["object"] = partial(obj) if as_ != TABLE else render(kind, obj, TABLE, include_object)
        return json.dumps(event, separators=(",", ":")).encode() + b"\n"

    return transform
