"""The kind registry: every resource the simulator serves, in one table.

Read by the routes (URL -> kind), discovery (the APIResourceList documents), validation
(which name rule applies) and the controllers. Adding a kind is one line in ``KINDS``.
Custom resources are added per simulator, from its stored CRDs, by :class:`KindRegistry`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

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
    # CustomResourceDefinition kinds (served from a stored CRD, see KindRegistry): the
    # version's structural schema (openAPIV3Schema) and additionalPrinterColumns, and the
    # CRD's name. None / () / "" for built-in kinds.
    schema: Any = field(default=None, compare=False, hash=False, repr=False)
    printer_columns: tuple[Any, ...] = field(default=(), compare=False, hash=False, repr=False)
    crd: str = ""

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
    Kind("", "v1", "persistentvolumes", "PersistentVolume", namespaced=False,
         short_names=("pv",), has_status=True),
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
    Kind("apiextensions.k8s.io", "v1", "customresourcedefinitions", "CustomResourceDefinition",
         namespaced=False, short_names=("crd", "crds"), has_status=True),
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
CRDS: Kind = _BY_PATH[("apiextensions.k8s.io", "v1", "customresourcedefinitions")]


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


class KindRegistry:
    """The kinds one simulator serves: the built-in table plus the custom resources of its
    stored CustomResourceDefinitions. One per :class:`~storeplane.sim.store.cluster.Cluster`
    (several simulators may run in one process: a CRD in one is not served by another).
    The CRD controller (:mod:`storeplane.sim.controllers.crds`) and the cluster's CRD writes
    call :meth:`set_crd` / :meth:`drop_crd`; the routes, discovery and ``/openapi/v3`` read.
    ``generation`` grows on every change, so caches of what is served can tell."""

    def __init__(self) -> None:
        self._crds: dict[str, tuple[Kind, ...]] = {}  # CRD name -> its served versions
        self._by_path: dict[tuple[str, str, str], Kind] = dict(_BY_PATH)
        self._by_qualified: dict[str, Kind] = dict(_BY_QUALIFIED)
        self.generation = 0

    def set_crd(self, name: str, kinds: tuple[Kind, ...]) -> None:
        """Serve ``kinds`` (the CRD's served versions; the first is the storage version)."""
        if self._crds.get(name) == kinds and all(
            a.schema == b.schema and a.printer_columns == b.printer_columns
            for a, b in zip(self._crds[name], kinds, strict=True)
        ):
            return
        self._crds[name] = kinds
        self._rebuild()

    def drop_crd(self, name: str) -> None:
        if self._crds.pop(name, None) is not None:
            self._rebuild()

    def crd_kinds(self, name: str) -> tuple[Kind, ...]:
        return self._crds.get(name, ())

    def _rebuild(self) -> None:
        self._by_path = dict(_BY_PATH)
        self._by_qualified = dict(_BY_QUALIFIED)
        for kinds in self._crds.values():
            for k in kinds:
                self._by_path[(k.group, k.version, k.resource)] = k
            if kinds:
                self._by_qualified.setdefault(kinds[0].qualified, kinds[0])
        self.generation += 1

    def all(self) -> list[Kind]:
        return [*KINDS, *(k for kinds in self._crds.values() for k in kinds)]

    def custom(self) -> list[Kind]:
        return [k for kinds in self._crds.values() for k in kinds]

    def lookup(self, group: str, version: str, resource: str) -> Kind | None:
        return self._by_path.get((group, version, resource))

    def by_qualified(self, qualified: str) -> Kind:
        """The kind (the storage version of a custom resource) for a store key; KeyError."""
        return self._by_qualified[qualified]

    def group_versions(self) -> dict[str, list[str]]:
        result = group_versions()
        for k in self.custom():
            versions = result.setdefault(k.group, [])
            if k.version not in versions:
                versions.append(k.version)
        return result

    def kinds_in(self, group: str, version: str) -> list[Kind]:
        return [k for k in self.all() if k.group == group and k.version == version]

    def qualified_of(self, obj: dict[str, Any]) -> str:
        """``deployments.apps``-style name of an object's resource, from apiVersion and kind."""
        for k in self.all():
            if k.kind == obj.get("kind") and k.api_version == obj.get("apiVersion"):
                return k.qualified
        return str(obj.get("kind", "")).lower()
