"""What the API server fills in on a new Job (``pkg/apis/batch/v1/defaults.go`` and the Job
registry's ``PrepareForCreate``), called by :meth:`Cluster._default` before admission.

The part clients depend on is the generated selector: ``kubectl logs job/NAME``,
``kubectl describe job`` and ``kubectl get pods -l`` find a Job's pods through
``spec.selector``, which the server makes from the Job's uid and also puts on the pod
template's labels (so the pods the Job controller creates carry it). Without it the selector
is empty, which matches every pod of the namespace. A selector given by the client is kept
only with ``manualSelector: true``, as on a cluster; otherwise the create is refused.
"""

from __future__ import annotations

from typing import Any

from ..errors import invalid
from ..kinds import Kind

Obj = dict[str, Any]

UID_LABEL = "batch.kubernetes.io/controller-uid"
NAME_LABEL = "batch.kubernetes.io/job-name"
# The labels without a prefix are still set by the API server, for older clients.
LEGACY_UID_LABEL = "controller-uid"
LEGACY_NAME_LABEL = "job-name"


def default_job(kind: Kind, obj: Obj, uid: str) -> None:
    """Fill a new Job's defaults in place; an ``invalid`` ApiError (422) for a selector given
    without ``manualSelector: true``."""
    metadata, spec = obj["metadata"], obj.setdefault("spec", {})
    if spec.get("completions") is None and spec.get("parallelism") is None:
        spec["completions"] = 1
    spec.setdefault("parallelism", 1)
    spec.setdefault("backoffLimit", 6)
    spec.setdefault("completionMode", "NonIndexed")
    spec.setdefault("suspend", False)
    if spec.get("podFailurePolicy") is None:
        spec.setdefault("podReplacementPolicy", "TerminatingOrFailed")
    if spec.get("manualSelector") is True:
        return
    if spec.get("selector"):
        message = (
            "Invalid value: the selector given: `selector` will be auto-generated (remove "
            "it, or set spec.manualSelector: true to choose the selector yourself)"
        )
        raise invalid(kind, str(metadata.get("name", "")), [("spec.selector", message)])
    name = str(metadata.get("name", ""))
    spec["selector"] = {"matchLabels": {UID_LABEL: uid}}
    template = spec.setdefault("template", {})
    labels = template.setdefault("metadata", {}).setdefault("labels", {})
    labels.update(
        {UID_LABEL: uid, NAME_LABEL: name, LEGACY_UID_LABEL: uid, LEGACY_NAME_LABEL: name}
    )
