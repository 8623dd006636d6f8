"""ServiceAccount admission: a pod runs as a ServiceAccount that exists.

Mutating: a pod that names none gets ``default`` (``spec.serviceAccountName``). Validating:
a pod naming a ServiceAccount that does not exist in its namespace is refused, as
``plugin/pkg/admission/serviceaccount`` refuses it::

    pods "web" is forbidden: error looking up service account shop/builder:
    serviceaccount "builder" not found

The ``default`` ServiceAccount is made by the ServiceAccount controller
(:mod:`storeplane.sim.controllers.serviceaccounts`) moments after a namespace is created. The
real plugin retries a missing ``default`` for about a second, waiting for that controller;
the simulator admits such a pod at once (the controller creates ``default`` within the same
round), so a pod created right after its namespace is not refused. Not modelled: the
projected token volume (``kube-api-access-*``) the real plugin mounts, and
``imagePullSecrets`` copied from the ServiceAccount.
"""

from __future__ import annotations

from typing import Any

from ..errors import ApiError
from .chain import Attributes, Operation

DEFAULT = "default"


def _spec(attrs: Attributes) -> dict[str, Any]:
    assert attrs.obj is not None
    spec = attrs.obj.setdefault("spec", {})
    return spec if isinstance(spec, dict) else {}


class ServiceAccount:
    name = "ServiceAccount"
    operations: frozenset[Operation] = frozenset({"CREATE"})

    def handles(self, attrs: Attributes) -> bool:
        return attrs.kind.kind == "Pod" and not attrs.subresource and bool(attrs.namespace)

    def admit(self, attrs: Attributes) -> None:
        spec = _spec(attrs)
        if not spec.get("serviceAccountName"):
            spec["serviceAccountName"] = spec.get("serviceAccount") or DEFAULT

    def validate(self, attrs: Attributes) -> None:
        account = str(_spec(attrs).get("serviceAccountName") or DEFAULT)
        if attrs.lookup("serviceaccounts", attrs.namespace, account) is not None:
            return
        if account == DEFAULT:
            return  # the controller is about to create it (see the module docstring)
        raise ApiError(
            403,
            "Forbidden",
            f'pods "{attrs.name}" is forbidden: error looking up service account '
            f'{attrs.namespace}/{account}: serviceaccount "{account}" not found',
            {"name": attrs.name, "kind": "pods"},
        )
