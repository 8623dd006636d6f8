"""Store objects: stores declared as Kubernetes custom resources (``kind: Store``).

The second front door (the REST API is the first): a ``storeplane.dev/v1alpha1`` Store
object in any namespace describes one store; storeplane's watcher
(:mod:`storeplane.services.store_objects`) creates the store, turns spec changes into the
same changes a PATCH makes, deletes it when the object is deleted and writes its status
back. Pure: what an object asks for, and what its status says about a store. The CRD
itself is ``charts/platform/crds/stores.storeplane.dev.yaml``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from storeplane.domain.conditions import ConditionStatus
from storeplane.domain.domains import DomainState
from storeplane.domain.errors import InvalidRequestError
from storeplane.domain.plans import PlanName
from storeplane.domain.store import Engine, Phase, Store, StoreSpec

GROUP = "storeplane.dev"
VERSION = "v1alpha1"
KIND = "Store"
PLURAL = "stores"
CRD_NAME = f"{PLURAL}.{GROUP}"
# Held by every Store object storeplane acts on: removed only once the store's teardown
# was verified (TeardownVerified), so `kubectl delete store x` returns when nothing is left.
FINALIZER = "storeplane.dev/teardown"
ACTOR_MAX = 255  # the events' actor column


@dataclass(frozen=True, slots=True)
class StoreKubeObject:
    """What the watcher read of one Store object."""

    namespace: str
    name: str
    uid: str
    generation: int
    resource_version: str
    spec: Mapping[str, Any]
    status: Mapping[str, Any]
    finalizers: tuple[str, ...]
    deleting: bool
    field_manager: str | None = None

    @property
    def ref(self) -> str:
        """How a store names its owner: ``Store default/my-shop`` (``Store.managed_by``)."""
        return f"{KIND} {self.namespace}/{self.name}"

    @property
    def actor(self) -> str:
        """Who acted, for events: the object, and the field manager that last wrote its spec."""
        text = self.ref if not self.field_manager else f"{self.ref} ({self.field_manager})"
        return text[:ACTOR_MAX]

    @classmethod
    def from_manifest(cls, obj: Mapping[str, Any]) -> StoreKubeObject:
        meta = obj.get("metadata") or {}
        return cls(
            namespace=str(meta.get("namespace") or ""),
            name=str(meta.get("name") or ""),
            uid=str(meta.get("uid") or ""),
            generation=int(meta.get("generation") or 0),
            resource_version=str(meta.get("resourceVersion") or ""),
            spec=dict(obj.get("spec") or {}),
            status=dict(obj.get("status") or {}),
            finalizers=tuple(meta.get("finalizers") or ()),
            deleting=bool(meta.get("deletionTimestamp")),
            field_manager=spec_manager(meta.get("managedFields") or []),
        )


def spec_manager(managed_fields: list[Any]) -> str | None:
    """The field manager whose write of ``spec`` is the latest (kubectl, kustomize-controller,
    argocd-controller...), or None when the object does not say."""
    latest: tuple[str, str] | None = None
    for entry in managed_fields:
        if not isinstance(entry, dict) or entry.get("subresource"):
            continue
        fields = entry.get("fieldsV1") or {}
        if "f:spec" not in fields or not entry.get("manager"):
            continue
        stamp = str(entry.get("time") or "")
        if latest is None or stamp >= latest[0]:
            latest = (stamp, str(entry["manager"]))
    return latest[1] if latest else None


def spec_of(obj: StoreKubeObject) -> StoreSpec:
    """The StoreSpec the object asks for; InvalidRequestError (the API's words) if none.
    The CRD's schema already refused most bad specs; this is the rest (and the check a
    cluster without the schema would have missed)."""
    spec = obj.spec
    name = spec.get("name") or obj.name
    try:
        engine = Engine(str(spec.get("engine")))
    except ValueError:
        supported = ", ".join(e.value for e in Engine)
        raise InvalidRequestError(
            f"engine must be one of {supported} (got {spec.get('engine')!r})", field="engine"
        ) from None
    try:
        plan = PlanName(str(spec.get("plan") or PlanName.SMALL.value))
    except ValueError:
        supported = ", ".join(p.value for p in PlanName)
        raise InvalidRequestError(
            f"plan must be one of {supported} (got {spec.get('plan')!r})", field="plan"
        ) from None
    labels = spec.get("labels") or {}
    if not isinstance(labels, Mapping):
        raise InvalidRequestError("labels must be a map of strings", field="labels")
    domains = spec.get("domains") or []
    if not isinstance(domains, list):
        raise InvalidRequestError("domains must be a list of host names", field="domains")
    return StoreSpec(
        name=str(name),
        engine=engine,
        plan=plan,
        labels={str(k): str(v) for k, v in labels.items()},
        engine_version=str(spec.get("engineVersion") or ""),
        # As written: the store service validates them (domains.validate_domains) when it
        # applies them, as for a PATCH.
        domains=tuple(domains),
    )


def object_status(
    store: Store | None, obj: StoreKubeObject, *, refusal: str | None = None
) -> dict[str, Any]:
    """The status the object should show: the store's phase, conditions, url, id and
    custom domains (each with its Pending/Active status), the generation acted on; or, when its spec was refused, phase ``Failed`` and the API's
    message under ``message`` and the ``Accepted`` condition."""
    if store is None:
        return {
            "phase": Phase.FAILED.value,
            "observedGeneration": obj.generation,
            "message": refusal or "",
            "conditions": [
                {"type": "Accepted", "status": ConditionStatus.FALSE.value,
                 "reason": "SpecRefused", "message": refusal or ""}
            ],
        }  # fmt: skip
    conditions = [
        {
            "type": c.type.value,
            "status": c.status.value,
            "reason": c.reason,
            "message": c.message,
            "lastTransitionTime": c.last_transition_time.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "observedGeneration": c.observed_generation,
        }
        for c in store.conditions
    ]
    status: dict[str, Any] = {
        "phase": store.phase.value,
        "storeId": store.id,
        "observedGeneration": obj.generation,
        "conditions": conditions,
    }
    if store.url:
        status["url"] = store.url
    if store.running_engine_version:
        status["engineVersion"] = store.running_engine_version
    if store.spec.domains:
        status["domains"] = domain_statuses(store)
    if refusal:
        status["message"] = refusal
    return status


def domain_statuses(store: Store) -> list[dict[str, str]]:
    """Each custom domain of the store with what the reconciler last saw of it (Pending
    until it has looked), as ``GET /stores/{id}`` shows them."""
    seen = {d.name: d for d in store.domain_status}
    return [
        seen[name].to_json()
        if name in seen
        else {"name": name, "status": DomainState.PENDING.value,
              "message": "not on the store's Ingress yet: the reconciler adds it"}
        for name in store.spec.domains
    ]  # fmt: skip


def teardown_verified(store: Store) -> bool:
    """True once the store is Deleted: its teardown was verified (``deleted_at`` is set only
    then, with the TeardownVerified event), so nothing of it is left."""
    return store.phase == Phase.DELETED and store.deleted_at is not None
