"""The admission chain: small plugins behind one interface, run as the API server runs them.

Called by :class:`storeplane.sim.store.cluster.Cluster` on every client create, update and
delete (and on the built-in controllers' creates, so a Deployment's pods are admitted like
anyone's). As in ``k8s.io/apiserver/pkg/admission``, a request passes two phases:

1. **mutating** (:meth:`Chain.admit`): plugins that may change the object (LimitRanger fills
   container resources, ServiceAccount names ``default``), before the object is validated;
2. **validating** (:meth:`Chain.validate`): plugins that may only refuse (ServiceAccount
   existence, PodSecurity, ResourceQuota), after schema and field validation and before the
   object is stored.

Each plugin says which operations it handles (``operations``) and whether a request is its
business (``handles``); a plugin with both ``admit`` and ``validate`` takes part in both
phases. Refusals are :class:`~storeplane.sim.errors.ApiError` with the API server's status
and message; warnings for the client's ``Warning`` header go into ``Attributes.warnings``.
The default plugins and their order are in :mod:`storeplane.sim.admission.plugins`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

from ..kinds import Kind

Obj = dict[str, Any]
Operation = Literal["CREATE", "UPDATE", "DELETE"]
# (qualified resource, namespace) -> the stored objects, read only.
Lister = Callable[[str, str], list[Obj]]
# (qualified resource, namespace, name) -> the stored object or None, read only.
Getter = Callable[[str, str, str], "Obj | None"]


@dataclass
class Attributes:
    """One request as admission sees it (``admission.Attributes``). ``obj`` is the object
    being written (mutators change it in place; None on DELETE), ``old`` the stored one
    (None on CREATE); ``name`` is what refusals show (the ``generateName`` prefix while
    the server has not picked the name yet)."""

    kind: Kind
    operation: Operation
    namespace: str
    name: str
    obj: Obj | None
    old: Obj | None
    subresource: str
    lookup: Getter
    objects: Lister
    warnings: list[str] = field(default_factory=list)


class Plugin(Protocol):
    name: str
    operations: frozenset[Operation]

    def handles(self, attrs: Attributes) -> bool: ...


@runtime_checkable
class Mutator(Protocol):
    name: str
    operations: frozenset[Operation]

    def handles(self, attrs: Attributes) -> bool: ...

    def admit(self, attrs: Attributes) -> None:
        """Change ``attrs.obj`` or refuse (raise an ApiError)."""
        ...


@runtime_checkable
class Validator(Protocol):
    name: str
    operations: frozenset[Operation]

    def handles(self, attrs: Attributes) -> bool: ...

    def validate(self, attrs: Attributes) -> None:
        """Refuse (raise an ApiError) or add warnings; never change the object."""
        ...


class Chain:
    """Plugins in order; mutators run before validators, each in the chain's order."""

    def __init__(self, plugins: Sequence[Plugin]) -> None:
        self.plugins = list(plugins)
        self.mutators = [p for p in plugins if isinstance(p, Mutator)]
        self.validators = [p for p in plugins if isinstance(p, Validator)]

    def admit(self, attrs: Attributes) -> None:
        for plugin in self.mutators:
            if attrs.operation in plugin.operations and plugin.handles(attrs):
                plugin.admit(attrs)

    def validate(self, attrs: Attributes) -> None:
        for plugin in self.validators:
            if attrs.operation in plugin.operations and plugin.handles(attrs):
                plugin.validate(attrs)
