"""LimitRanger admission: container ``default``/``defaultRequest`` from the namespace's
LimitRanges filled into pods that do not set them (mutating, pods on create).

The arithmetic is :func:`storeplane.sim.admission.quota.apply_limit_ranges`. Not modelled:
the validating half (``min``, ``max``, ``maxLimitRequestRatio``) and Pod/PVC-type limits.
"""

from __future__ import annotations

from .chain import Attributes, Operation
from .quota import apply_limit_ranges


class LimitRanger:
    name = "LimitRanger"
    operations: frozenset[Operation] = frozenset({"CREATE"})

    def handles(self, attrs: Attributes) -> bool:
        return attrs.kind.kind == "Pod" and not attrs.subresource

    def admit(self, attrs: Attributes) -> None:
        assert attrs.obj is not None
        limit_ranges = attrs.objects("limitranges", attrs.namespace)
        if limit_ranges:
            apply_limit_ranges(attrs.obj, limit_ranges)
