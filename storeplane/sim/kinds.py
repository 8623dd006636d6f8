"""The kind registry: every resource the simulator serves, in one table.

Read by the routes (URL -> kind), discovery (the APIResourceList documents), validation
(which name rule applies) and the controllers. Adding a kind is one line in ``KINDS``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

# The Kubernetes release whose API (and published OpenAPI schemas) the simulator serves.
KUBERNETES_VERSION = "v1.31.0"

NameRule = Literal["label", "subdomain", "path"]

DEFAULT_VERBS: tuple[str, ...] = (
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
)


@dataclass(frozen=True)
class Kind:
    """One served resource type, e.g. ``deployments`` in ``apps/v1``."""

    group: str
    version: str
    resource: str
    kind: str
    namespaced: bool = True
    short_names: tuple[str, ...] = ()
    name_rule: NameRule = "subdomain"
    has_status: bool = False
    verbs: tuple[str, ...] = DEFAULT_VERBS
    # The autoscaling/v1 ``scale`` subresource (kubectl scale, HPAs) on spec.replicas.
    has_scale: bool = False
    # Discovery categories: ``kubectl get all`` lists the kinds in "all".
    categories: tuple[str, ...] = ()
    # False for request-only kinds (the access reviews): served at a URL, never stored.
    stored: bool = True
    # Another kind whose objects this one serves, converted (events.k8s.io/v1 Events are
    # core Events; see storeplane.sim.store.conversion). "" for a kind with its own objects.
    storage: str = ""

    @property
    def api_version(self) -> str:
        """``apps/v1`` or ``v1`` for the core group: the value of an object's apiVersion."""
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def qualified(self) -> str:
        """``deployments.apps`` or ``secrets``: how Kubernetes names a resource in messages."""
        return f"{self.resource}.{self.group}" if self.group else self.resource

    @property
    def singular(self) -> str:
        return self.kind.lower()

    @property
    def list_kind(self) -> str:
        return f"{self.kind}List"


KINDS: tuple[Kind, ...] = (
    Kind("", "v1", "namespaces", "Namespace", namespaced=False, short_names=("ns",),
         name_rule="label", has_status=True),
    Kind("", "v1", "resourcequotas", "ResourceQuota", short_names=("quota",), has_status=True),
    Kind("", "v1", "limitranges", "LimitRange", short_names=("limits",)),
    Kind("", "v1", "serviceaccounts", "ServiceAccount", short_names=("sa",)),
    Kind("", "v1", "secrets", "Secret"),
    Kind("", "v1", "configmaps", "ConfigMap", short_names=("cm",)),
    Kind("", "v1", "services", "Service", short_names=("svc",), name_rule="label",
         has_status=True, categories=("all",)),
    Kind("", "v1", "persistentvolumeclaims", "PersistentVolumeClaim", short_names=("pvc",),
         has_status=True),
    Kind("", "v1", "events", "Event", short_names=("ev",)),
    Kind("events.k8s.io", "v1", "events", "Event", short_names=("ev",), storage="events"),
    Kind("", "v1", "pods", "Pod", short_names=("po",), has_status=True, categories=("all",)),
    Kind("", "v1", "nodes", "Node", namespaced=False, short_names=("no",), has_status=True),
    Kind("", "v1", "endpoints", "Endpoints", short_names=("ep",)),
    Kind("apps", "v1", "deployments", "Deployment", short_names=("deploy",), has_status=True,
         has_scale=True, categories=("all",)),
    Kind("apps", "v1", "statefulsets", "StatefulSet", short_names=("sts",), has_status=True,
         has_scale=True, categories=("all",)),
    Kind("apps", "v1", "replicasets", "ReplicaSet", short_names=("rs",), has_status=True,
         has_scale=True, categories=("all",)),
    Kind("batch", "v1", "jobs", "Job", has_status=True, categories=("all",)),
    # Stored and validated (helm create's chart renders one when autoscaling is enabled);
    # no autoscaler acts on it.
    Kind("autoscaling", "v2", "horizontalpodautoscalers", "HorizontalPodAutoscaler",
         short_names=("hpa",), has_status=True, categories=("all",)),
    Kind("networking.k8s.io", "v1", "networkpolicies", "NetworkPolicy", short_names=("netpol",)),
    Kind("networking.k8s.io", "v1", "ingresses", "Ingress", short_names=("ing",),
         has_status=True),
    Kind("rbac.authorization.k8s.io", "v1", "roles", "Role", name_rule="path"),
    Kind("rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding", name_rule="path"),
    Kind("rbac.authorization.k8s.io", "v1", "clusterroles", "ClusterRole", namespaced=False,
         name_rule="path"),
    Kind("rbac.authorization.k8s.io", "v1", "clusterrolebindings", "ClusterRoleBinding",
         namespaced=False, name_rule="path"),
    Kind("coordination.k8s.io", "v1", "leases", "Lease"),
    Kind("discovery.k8s.io", "v1", "endpointslices", "EndpointSlice"),
    # Asked, answered, never stored (storeplane/sim/api/reviews.py answers them).
    Kind("authorization.k8s.io", "v1", "selfsubjectaccessreviews", "SelfSubjectAccessReview",
         namespaced=False, verbs=("create",), stored=False),
    Kind("authorization.k8s.io", "v1", "selfsubjectrulesreviews", "SelfSubjectRulesReview",
         namespaced=False, verbs=("create",), stored=False),
    Kind("authentication.k8s.io", "v1", "selfsubjectreviews", "SelfSubjectReview",
         namespaced=False, verbs=("create",), stored=False),
)  # fmt: skip

_BY_PATH: dict[tuple[str, str, str], Kind] = {(k.group, k.version, k.resource): k for k in KINDS}
_BY_QUALIFIED: dict[str, Kind] = {k.qualified: k for k in KINDS}

NAMESPACES: Kind = _BY_PATH[("", "v1", "namespaces")]


def lookup(group: str, version: str, resource: str) -> Kind | None:
    """The kind served at ``/api(s)/{group}/{version}/{resource}``, or None."""
    return _BY_PATH.get((group, version, resource))


def by_qualified(qualified: str) -> Kind:
    """The kind for a store key such as ``deployments.apps``; KeyError if unknown."""
    return _BY_QUALIFIED[qualified]


def group_versions() -> dict[str, list[str]]:
    """Every served group (``""`` is core) with its versions, in registry order."""
    result: dict[str, list[str]] = {}
    for k in KINDS:
        versions = result.setdefault(k.group, [])
        if k.version not in versions:
            versions.append(k.version)
    return result


def kinds_in(group: str, version: str) -> list[Kind]:
    return [k for k in KINDS if k.group == group and k.version == version]
