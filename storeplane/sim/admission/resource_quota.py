"""ResourceQuota admission: a create that would take the namespace over a quota's
``spec.hard`` is refused with the API server's 403 (validating, last in the chain).

The accounting is :mod:`storeplane.sim.admission.quota` (pods' compute resources, PVC
storage, ``count/<resource>`` and the classic object counts); its ``status.used`` is
written by the quota controller in :mod:`storeplane.sim.controllers.workloads`.
"""

from __future__ import annotations

from ..kinds import KINDS
from .chain import Attributes, Operation
from .quota import check_quota


class ResourceQuota:
    name = "ResourceQuota"
    operations: frozenset[Operation] = frozenset({"CREATE"})

    def handles(self, attrs: Attributes) -> bool:
        return attrs.kind.namespaced and bool(attrs.namespace) and not attrs.subresource

    def validate(self, attrs: Attributes) -> None:
        assert attrs.obj is not None
        quotas = attrs.objects("resourcequotas", attrs.namespace)
        if quotas:
            check_quota(attrs.kind, attrs.obj, quotas, list(KINDS), attrs.objects, attrs.name)
