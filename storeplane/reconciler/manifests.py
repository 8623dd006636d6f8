"""The platform objects every store gets, built from its spec and plan (pure functions).

Namespace (with Pod Security labels), ResourceQuota and LimitRange from the plan,
deny-by-default NetworkPolicies with the three allowances (DNS, same namespace, the ingress
controller), a ServiceAccount without an automounted token, and the generated credentials
Secret. Every object carries the store's label so it can be found, pruned and proven gone.
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass
from typing import Any

from storeplane.domain.plans import get_plan
from storeplane.domain.store import Store
from storeplane.engines.maintenance import DEFAULT_IMAGE as DEFAULT_MAINTENANCE_IMAGE

STORE_ID_LABEL = "storeplane.dev/store-id"
SERVICE_ACCOUNT = "store"
GENERATED_ANNOTATION = "storeplane.dev/generated"

Manifest = dict[str, Any]


@dataclass(frozen=True, slots=True)
class PlatformConfig:
    ingress_namespace: str = "ingress-nginx"
    # The image of a suspended store's maintenance backend (storeplane.engines.maintenance).
    maintenance_image: str = DEFAULT_MAINTENANCE_IMAGE


def store_labels(store: Store) -> dict[str, str]:
    return {
        STORE_ID_LABEL: store.id,
        "app.kubernetes.io/managed-by": "storeplane",
        "app.kubernetes.io/part-of": "storeplane",
    }


def _meta(store: Store, name: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "namespace": store.namespace, "labels": store_labels(store), **extra}


def namespace(store: Store, pod_security: str) -> Manifest:
    labels = {
        **store_labels(store),
        "storeplane.dev/engine": store.spec.engine.value,
        "pod-security.kubernetes.io/enforce": pod_security,
        "pod-security.kubernetes.io/enforce-version": "latest",
        # Always warn and audit against "restricted", so a baseline store shows what it lacks.
        "pod-security.kubernetes.io/warn": "restricted",
        "pod-security.kubernetes.io/audit": "restricted",
    }
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": store.namespace, "labels": labels},
    }


def resource_quota(store: Store) -> Manifest:
    quota = get_plan(store.spec.plan).quota
    return {
        "apiVersion": "v1",
        "kind": "ResourceQuota",
        "metadata": _meta(store, "store-quota"),
        "spec": {
            "hard": {
                "requests.cpu": quota.requests_cpu,
                "requests.memory": quota.requests_memory,
                "limits.cpu": quota.limits_cpu,
                "limits.memory": quota.limits_memory,
                "pods": str(quota.pods),
                "persistentvolumeclaims": str(quota.persistentvolumeclaims),
                "requests.storage": quota.requests_storage,
            }
        },
    }


def limit_range(store: Store) -> Manifest:
    plan = get_plan(store.spec.plan)
    return {
        "apiVersion": "v1",
        "kind": "LimitRange",
        "metadata": _meta(store, "store-limits"),
        "spec": {
            "limits": [
                {
                    "type": "Container",
                    "default": {
                        "cpu": plan.default_limits.cpu,
                        "memory": plan.default_limits.memory,
                    },
                    "defaultRequest": {
                        "cpu": plan.default_requests.cpu,
                        "memory": plan.default_requests.memory,
                    },
                }
            ]
        },
    }


def _policy(store: Store, name: str, spec: dict[str, Any]) -> Manifest:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": _meta(store, name),
        "spec": spec,
    }


def network_policies(store: Store, config: PlatformConfig) -> list[Manifest]:
    all_pods: dict[str, Any] = {}
    return [
        # Deny everything in and out; the policies below are the only openings.
        _policy(
            store, "default-deny", {"podSelector": all_pods, "policyTypes": ["Ingress", "Egress"]}
        ),
        _policy(
            store,
            "allow-dns",
            {
                "podSelector": all_pods,
                "policyTypes": ["Egress"],
                "egress": [
                    {
                        "to": [
                            {
                                "namespaceSelector": {
                                    "matchLabels": {"kubernetes.io/metadata.name": "kube-system"}
                                },
                                "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
                            }
                        ],
                        "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
                    }
                ],
            },
        ),
        _policy(
            store,
            "allow-same-namespace",
            {
                "podSelector": all_pods,
                "policyTypes": ["Ingress", "Egress"],
                "ingress": [{"from": [{"podSelector": all_pods}]}],
                "egress": [{"to": [{"podSelector": all_pods}]}],
            },
        ),
        _policy(
            store,
            "allow-from-ingress-controller",
            {
                "podSelector": all_pods,
                "policyTypes": ["Ingress"],
                "ingress": [
                    {
                        "from": [
                            {
                                "namespaceSelector": {
                                    "matchLabels": {
                                        "kubernetes.io/metadata.name": config.ingress_namespace
                                    }
                                }
                            }
                        ]
                    }
                ],
            },
        ),
    ]


def service_account(store: Store) -> Manifest:
    # The store's pods need no Kubernetes API access: no token, and no role is bound to it.
    return {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": _meta(store, SERVICE_ACCOUNT),
        "automountServiceAccountToken": False,
    }


def credentials_secret(store: Store, name: str, keys: tuple[str, ...]) -> Manifest:
    """A Secret of fresh random values. Created once (never applied again): regenerating would
    lock the store out of its own database."""
    data = {key: base64.b64encode(secrets.token_urlsafe(24).encode()).decode() for key in keys}
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "Opaque",
        "metadata": _meta(store, name, annotations={GENERATED_ANNOTATION: "true"}),
        "data": data,
    }


def policies(store: Store, config: PlatformConfig) -> list[Manifest]:
    """Every platform object inside the namespace, in the order they are applied."""
    return [
        resource_quota(store),
        limit_range(store),
        *network_policies(store, config),
        service_account(store),
    ]
