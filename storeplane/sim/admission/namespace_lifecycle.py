"""NamespaceLifecycle admission: no content in a namespace that is missing or terminating,
and the namespaces every cluster needs cannot be deleted.

A mutating-phase plugin, as ``plugin/pkg/admission/namespace/lifecycle`` is, so a create in a
missing namespace is a 404 before the object is validated. Messages:
``namespaces "shop" not found``; ``unable to create new content in namespace shop because it
is being terminated`` (403); ``namespaces "default" is forbidden: this namespace may not be
deleted`` (403).
"""

from __future__ import annotations

from ..errors import ApiError, namespace_terminating, not_found
from ..kinds import NAMESPACES
from .chain import Attributes, Operation

IMMORTAL = ("default", "kube-system", "kube-public")


class NamespaceLifecycle:
    name = "NamespaceLifecycle"
    operations: frozenset[Operation] = frozenset({"CREATE", "DELETE"})

    def handles(self, attrs: Attributes) -> bool:
        if attrs.operation == "DELETE":
            return attrs.kind is NAMESPACES
        return attrs.kind.namespaced and bool(attrs.namespace)

    def admit(self, attrs: Attributes) -> None:
        if attrs.operation == "DELETE":
            if attrs.name in IMMORTAL:
                raise ApiError(
                    403,
                    "Forbidden",
                    f'namespaces "{attrs.name}" is forbidden: this namespace may not be deleted',
                    {"name": attrs.name, "kind": "namespaces"},
                )
            return
        namespace = attrs.lookup(NAMESPACES.qualified, "", attrs.namespace)
        if namespace is None:
            raise not_found(NAMESPACES, attrs.namespace)
        if namespace["metadata"].get("deletionTimestamp"):
            raise namespace_terminating(attrs.kind, attrs.name, attrs.namespace)
