"""The default RBAC objects a cluster starts with (the API server's bootstrap policy), in part.

Created by :func:`ensure_bootstrap_policy` when the simulator starts with ``rbac`` (called from
the app's lifespan), each only if missing, so an edited default stays edited:

- ``cluster-admin`` (everything), bound to the group ``system:masters``;
- ``system:discovery`` (``/api``, ``/apis``, ``/openapi``, ``/version``, ``/healthz``...) and
  ``system:basic-user`` (the self access and rules reviews, SelfSubjectReview), bound to
  ``system:authenticated``;
- ``system:public-info-viewer`` (``/healthz``, ``/livez``, ``/readyz``, ``/version``), bound to
  ``system:authenticated`` and ``system:unauthenticated``.

Not made: the aggregated ``admin``/``edit``/``view`` roles and the controllers' ``system:*``
roles (the simulator's controllers are not API clients).
"""

from __future__ import annotations

from typing import Any

from ..kinds import lookup
from ..store.cluster import Cluster

Obj = dict[str, Any]

_DISCOVERY_URLS = ["/api", "/api/*", "/apis", "/apis/*", "/healthz", "/livez", "/openapi",
                   "/openapi/*", "/readyz", "/version", "/version/"]  # fmt: skip
_PUBLIC_URLS = ["/healthz", "/livez", "/readyz", "/version", "/version/"]

CLUSTER_ROLES: dict[str, list[Obj]] = {
    "cluster-admin": [
        {"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]},
        {"nonResourceURLs": ["*"], "verbs": ["*"]},
    ],
    "system:discovery": [{"nonResourceURLs": _DISCOVERY_URLS, "verbs": ["get"]}],
    "system:public-info-viewer": [{"nonResourceURLs": _PUBLIC_URLS, "verbs": ["get"]}],
    "system:basic-user": [
        {
            "apiGroups": ["authorization.k8s.io"],
            "resources": ["selfsubjectaccessreviews", "selfsubjectrulesreviews"],
            "verbs": ["create"],
        },
        {
            "apiGroups": ["authentication.k8s.io"],
            "resources": ["selfsubjectreviews"],
            "verbs": ["create"],
        },
    ],
}

# binding name -> (cluster role, groups bound)
CLUSTER_ROLE_BINDINGS: dict[str, tuple[str, list[str]]] = {
    "cluster-admin": ("cluster-admin", ["system:masters"]),
    "system:discovery": ("system:discovery", ["system:authenticated"]),
    "system:basic-user": ("system:basic-user", ["system:authenticated"]),
    "system:public-info-viewer": (
        "system:public-info-viewer",
        ["system:authenticated", "system:unauthenticated"],
    ),
}

_METADATA: Obj = {
    "labels": {"kubernetes.io/bootstrapping": "rbac-defaults"},
    "annotations": {"rbac.authorization.kubernetes.io/autoupdate": "true"},
}


def ensure_bootstrap_policy(cluster: Cluster) -> None:
    """Create the default ClusterRoles and ClusterRoleBindings that are missing."""
    roles = lookup("rbac.authorization.k8s.io", "v1", "clusterroles")
    bindings = lookup("rbac.authorization.k8s.io", "v1", "clusterrolebindings")
    assert roles is not None and bindings is not None
    for name, rules in CLUSTER_ROLES.items():
        if not cluster.store.exists(cluster.key(roles, None, name)):
            body: Obj = {"metadata": {"name": name, **_METADATA}, "rules": rules}
            cluster.create(roles, None, body, "storeplane-sim")
    for name, (role, groups) in CLUSTER_ROLE_BINDINGS.items():
        if not cluster.store.exists(cluster.key(bindings, None, name)):
            body = {
                "metadata": {"name": name, **_METADATA},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                            "name": role},
                "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group",
                              "name": group} for group in groups],
            }  # fmt: skip
            cluster.create(bindings, None, body, "storeplane-sim")
