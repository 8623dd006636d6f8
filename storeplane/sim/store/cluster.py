"""Object semantics: what the API server does to an object on each verb.

:class:`Cluster` is called by the routes in :mod:`storeplane.sim.api.app` and by the built-in
controllers. It owns the :class:`~storeplane.sim.store.objects.ObjectStore` and is the only writer
to it. It fills in server-set metadata (uid, resourceVersion, generation,
creationTimestamp, managedFields), applies a few server-side defaults, validates, enforces
optimistic concurrency and namespace lifecycle, and tells subscribers about every change
(``ADDED``/``MODIFIED``/``DELETED``: the hook a watch endpoint can hang on later).

Everything here is synchronous and runs on the server's event loop, so each call is atomic.
"""

from __future__ import annotations

import base64
import contextlib
import logging
import secrets
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any, Literal

from ..admission.chain import Attributes, Operation
from ..admission.immutable import carry_allocated, update_errors
from ..admission.plugins import default_chain
from ..admission.validation import FieldValidation, validate
from ..errors import (
    ApiError,
    already_exists,
    apply_conflict,
    bad_request,
    conflict,
    invalid,
    not_found,
)
from ..kinds import CRDS, KINDS, NAMESPACES, Kind, KindRegistry, by_qualified
from . import apply as ssa
from . import conversion, customresources, paging, strategic
from .job_defaults import default_job
from .objects import ObjectKey, ObjectStore, json_copy
from .selectors import fields_match, labels_match, parse_field_selector, parse_label_selector

logger = logging.getLogger(__name__)

Obj = dict[str, Any]
# Stored resource -> the kinds that serve its objects converted (events -> events.k8s.io).
VIEWS: dict[str, list[Kind]] = {}
for _kind in KINDS:
    if _kind.storage:
        VIEWS.setdefault(_kind.storage, []).append(_kind)
EventType = Literal["ADDED", "MODIFIED", "DELETED"]
Listener = Callable[[EventType, Kind, Obj], None]
ChangeListener = Callable[[EventType, Kind, Obj, "Obj | None"], None]
PatchType = Literal["apply", "merge", "strategic", "json"]
Propagation = Literal["Background", "Foreground", "Orphan"]
PROPAGATIONS = ("Background", "Foreground", "Orphan")
FOREGROUND_FINALIZER = "foregroundDeletion"
GC_MANAGER = "generic-garbage-collector"
NS_MANAGER = "namespace-controller"
NODE_NAME = "storeplane-sim-node"

NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"
BUILTIN_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")
_GENERATE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
_SERVER_METADATA = ("uid", "creationTimestamp", "deletionTimestamp", "generation")


def rfc3339(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def spec_part(obj: Obj) -> Obj:
    """What a generation is about: ``spec``, or for kinds without one, all content."""
    if "spec" in obj:
        return {"spec": obj["spec"]}
    return {k: v for k, v in obj.items() if k not in ("apiVersion", "kind", "metadata", "status")}


def _same_content(a: Obj, b: Obj) -> bool:
    """Equal but for resourceVersion and managedFields times (a no-op write), without copies."""
    if {k: v for k, v in a.items() if k != "metadata"} != {
        k: v for k, v in b.items() if k != "metadata"
    }:
        return False
    ma, mb = a.get("metadata") or {}, b.get("metadata") or {}
    skip = ("resourceVersion", "managedFields")
    if {k: v for k, v in ma.items() if k not in skip} != {
        k: v for k, v in mb.items() if k not in skip
    }:
        return False
    fa, fb = ma.get("managedFields") or [], mb.get("managedFields") or []
    return len(fa) == len(fb) and all(
        {k: v for k, v in x.items() if k != "time"} == {k: v for k, v in y.items() if k != "time"}
        for x, y in zip(fa, fb, strict=True)
    )


class Cluster:
    """The simulated API server's object semantics over an :class:`ObjectStore`."""

    def __init__(self, store: ObjectStore, clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.clock = clock
        self._listeners: list[Listener] = []
        self._change_listeners: list[ChangeListener] = []
        self._warnings: list[str] = []
        self._cluster_ips: set[str] | None = None
        self._next_ip = 0
        self._dry_run = False
        self._pages = paging.Snapshots()  # lists whose later pages may be asked for
        self.admission = default_chain()
        # What this cluster serves: the built-in kinds and its stored CRDs' custom resources.
        self.kinds = KindRegistry()
        for crd in store.list_objects(CRDS.qualified, copies=False):
            self._serve_crd(crd)
        # False when a scheduler binds pods (local runtimes on); else every pod lands on
        # the one pretend node at creation.
        self.bind_pods_on_create = True

    def take_warnings(self) -> list[str]:
        """Warnings for the client from the last call (unknown fields dropped); clears them.
        Calls are synchronous, so the caller reads its own call's warnings."""
        warnings, self._warnings = self._warnings, []
        return warnings

    def subscribe(self, listener: Listener) -> None:
        """Call ``listener(event, kind, obj)`` after every change (obj is a copy)."""
        self._listeners.append(listener)

    def subscribe_changes(self, listener: ChangeListener) -> None:
        """Call ``listener(event, kind, obj, old)`` after every change, without copies:
        ``obj`` is the stored object after the change and ``old`` the one before (None on
        ADDED). The listener must not mutate either (the watch hub keeps them)."""
        self._change_listeners.append(listener)

    @contextlib.contextmanager
    def dry_run(self) -> Iterator[None]:
        """``dryRun=All``: the verbs called inside run in full (defaults, admission,
        validation, garbage collection) and return what they would have stored, but
        nothing is stored, no watcher or controller hears of it and no cluster IP is used
        up (see :meth:`ObjectStore.undone`)."""
        ips = set(self._cluster_ips) if self._cluster_ips is not None else None
        next_ip = self._next_ip
        self._dry_run = True
        try:
            with self.store.undone():
                yield
        finally:
            self._dry_run = False
            self._cluster_ips, self._next_ip = ips, next_ip

    def _serve_crd(self, crd: Obj | None, name: str = "") -> None:
        """Serve (or stop serving) the custom resources of a stored CRD: from the moment it
        is stored, as long as its names do not clash with another kind's."""
        if crd is None:
            self.kinds.drop_crd(name)
            return
        name = crd["metadata"]["name"]
        kinds = customresources.served_kinds(crd)
        if not kinds or customresources.name_conflict(crd, self.kinds) is not None:
            self.kinds.drop_crd(name)
        else:
            self.kinds.set_crd(name, kinds)

    def _emit(self, event: EventType, kind: Kind, obj: Obj, old: Obj | None = None) -> None:
        if self._dry_run:
            return
        if kind is CRDS:
            self._serve_crd(obj if event != "DELETED" else None, obj["metadata"]["name"])
        for change_listener in self._change_listeners:
            change_listener(event, kind, obj, old)
        for view in VIEWS.get(kind.qualified, ()):  # watches of the converted version
            view_obj = conversion.to_view(view.api_version, obj)
            view_old = conversion.to_view(view.api_version, old) if old is not None else None
            for change_listener in self._change_listeners:
                change_listener(event, view, view_obj, view_old)
        for listener in self._listeners:
            try:
                listener(event, kind, json_copy(obj))
            except Exception:  # a broken subscriber must not fail the request
                logger.exception("listener failed on %s %s", event, kind.qualified)

    def now(self) -> str:
        return rfc3339(self.clock())

    @staticmethod
    def key(kind: Kind, namespace: str | None, name: str) -> ObjectKey:
        return ObjectKey(kind.qualified, namespace if kind.namespaced and namespace else "", name)

    # --- reads ---

    def get(self, kind: Kind, namespace: str | None, name: str, copies: bool = True) -> Obj:
        """The object (a copy unless ``copies`` is False: then read it only); 404 if absent."""
        if kind.storage:
            stored = self.get(by_qualified(kind.storage), namespace, name, copies)
            return conversion.to_view(kind.api_version, stored)
        key = self.key(kind, namespace, name)
        obj = self.store.get(key) if copies else self.store.peek(key)
        if obj is None:
            raise not_found(kind, name)
        return obj

    def list_objects(
        self,
        kind: Kind,
        namespace: str | None,
        label_selector: str | None = None,
        field_selector: str | None = None,
        limit: int | None = None,
        continue_token: str | None = None,
        copies: bool = True,
    ) -> Obj:
        """An ``XList``; ``namespace`` None means all namespaces. ``limit``/``continue``
        page through a snapshot ordered by (namespace, name). ``copies`` False: the items
        are the stored objects, to be serialised and not changed."""
        if kind.storage:
            listed = self.list_objects(by_qualified(kind.storage), namespace, label_selector,
                                       field_selector, limit, continue_token, copies)  # fmt: skip
            listed["items"] = [conversion.to_view(kind.api_version, o) for o in listed["items"]]
            listed["kind"], listed["apiVersion"] = kind.list_kind, kind.api_version
            return listed
        labels = parse_label_selector(label_selector)
        fields = parse_field_selector(field_selector, kind.kind)
        scope = namespace if kind.namespaced else ""
        name = None
        for field in fields:
            if not field.negate and field.field == "metadata.name":
                name = field.value
            elif not field.negate and field.field == "metadata.namespace" and kind.namespaced:
                # One namespace in the URL and another in the selector selects nothing.
                clash = scope is not None and scope != field.value
                scope = "\x00none" if clash else field.value
        rv = self.store.resource_version
        across = kind.namespaced and scope is None
        query = (kind.qualified, scope, label_selector or "", field_selector or "")
        token = paging.decode(continue_token, across, scope or "") if continue_token else None
        if token is not None:
            resumed = self._pages.resume(query, token, limit)
            if resumed is not None:
                page, last, remaining = resumed
                page = [json_copy(o) for o in page] if copies else page
                return self._list_answer(kind, token.rv, page, last, remaining, across, query)
            if token.rv not in (rv, paging.INCONSISTENT):
                raise paging.expired(token.after, across)
            # Its snapshot is no longer kept, but nothing was written since (or the client
            # asks to go on regardless): the objects as they are are that snapshot.
        items = self.store.list_objects(
            kind.qualified,
            scope,
            labels_equal=[
                (r.key, next(iter(r.values))) for r in labels if r.op == "in" and len(r.values) == 1
            ],
            name=name,
            where=lambda obj: (
                labels_match(labels, obj["metadata"].get("labels")) and fields_match(fields, obj)
            ),
            copies=False,
        )
        if token is None and (not limit or len(items) <= limit):
            page, last, remaining = items, None, 0
        else:
            after = token.after if token is not None else None
            page, last, remaining = self._pages.page(query, rv, limit, items, after)
        page = [json_copy(o) for o in page] if copies else page
        return self._list_answer(kind, rv, page, last, remaining, across, query)

    def _list_answer(
        self,
        kind: Kind,
        rv: int,
        items: list[Obj],
        last: tuple[str, str] | None,
        remaining: int,
        across: bool,
        query: tuple[str, str | None, str, str],
    ) -> Obj:
        """An ``XList`` page: the list's resourceVersion, and while more remain a continue
        token; ``remainingItemCount`` only for a list without selectors, as the API server
        (with selectors it cannot know the count without filtering the rest)."""
        metadata: Obj = {"resourceVersion": str(rv)}
        if last is not None:
            metadata["continue"] = paging.encode(rv, last, across)
            if not query[2] and not query[3]:
                metadata["remainingItemCount"] = remaining
        return {
            "kind": kind.list_kind,
            "apiVersion": kind.api_version,
            "metadata": metadata,
            "items": items,
        }

    # --- checks ---

    def _check_body(
        self, kind: Kind, namespace: str | None, body: Any, url_name: str | None = None
    ) -> Obj:
        if not isinstance(body, dict):
            raise bad_request("the body of the request must be a JSON or YAML object")
        api_version = body.get("apiVersion")
        if api_version and api_version != kind.api_version:
            raise bad_request(
                f"the API version in the data ({api_version}) does not match the expected "
                f"API version ({kind.api_version})"
            )
        body_kind = body.get("kind")
        if body_kind and body_kind != kind.kind:
            raise bad_request(
                f"the kind in the data ({body_kind}) does not match the expected kind ({kind.kind})"
            )
        metadata = body.get("metadata")
        if metadata is None:
            metadata = body["metadata"] = {}
        if not isinstance(metadata, dict):
            raise bad_request("metadata must be an object")
        body_ns = metadata.get("namespace")
        if kind.namespaced and body_ns and namespace and body_ns != namespace:
            raise bad_request(
                "the namespace of the provided object does not match the namespace sent on "
                "the request"
            )
        body_name = metadata.get("name")
        if url_name is not None and body_name and body_name != url_name:
            raise bad_request(
                f"the name of the object ({body_name}) does not match the name on the URL "
                f"({url_name})"
            )
        return body

    # --- defaults ---

    def _default(self, kind: Kind, obj: Obj, creating: bool) -> None:
        if kind.crd:
            return  # a custom resource's defaults are its schema's (admission.structural)
        metadata = obj["metadata"]
        if kind is NAMESPACES:
            metadata.setdefault("labels", {})[NAMESPACE_NAME_LABEL] = metadata["name"]
            if creating:
                obj.setdefault("spec", {}).setdefault("finalizers", ["kubernetes"])
                obj["status"] = {"phase": "Active"}
        elif kind.kind in ("Deployment", "StatefulSet", "ReplicaSet"):
            spec = obj.setdefault("spec", {})
            if spec.get("replicas") is None:
                spec["replicas"] = 1
        elif kind.kind == "Service":
            spec = obj.setdefault("spec", {})
            spec.setdefault("type", "ClusterIP")
            if creating and spec["type"] != "ExternalName" and not spec.get("clusterIP"):
                spec["clusterIP"] = self._allocate_cluster_ip()
            if creating and spec.get("clusterIP") and "clusterIPs" not in spec:
                spec["clusterIPs"] = [spec["clusterIP"]]
        elif kind.kind == "Job" and kind.group == "batch" and creating:
            default_job(kind, obj, str(metadata["uid"]))
        elif kind.kind == "Pod" and creating:
            spec = obj.setdefault("spec", {})
            spec.setdefault("restartPolicy", "Always")
            if self.bind_pods_on_create:
                spec.setdefault("nodeName", NODE_NAME)
            obj["status"] = {"phase": "Pending", "qosClass": _qos_class(spec)}
        elif kind is CRDS:
            spec = obj.setdefault("spec", {})
            if isinstance(spec, dict):
                names = spec.get("names")
                if isinstance(names, dict) and isinstance(names.get("kind"), str):
                    names.setdefault("singular", names["kind"].lower())
                    names.setdefault("listKind", f"{names['kind']}List")
                spec.setdefault("conversion", {"strategy": "None"})
        elif kind.kind == "Secret":
            obj.setdefault("type", "Opaque")
            string_data = obj.pop("stringData", None)
            if isinstance(string_data, dict):
                data = obj.setdefault("data", {})
                for key, value in string_data.items():
                    data[key] = base64.b64encode(str(value).encode()).decode()

    def _allocate_cluster_ip(self) -> str:
        """The next free address in 10.96.0.0/12 (the default service CIDR)."""
        if self._cluster_ips is None:
            self._cluster_ips = {
                str((o.get("spec") or {}).get("clusterIP"))
                for o in self.store.list_objects("services")
            }
        while True:
            self._next_ip += 1
            n = self._next_ip
            ip = f"10.{96 + (n >> 16) % 16}.{(n >> 8) & 255}.{n & 255}"
            if ip not in self._cluster_ips and n & 255 not in (0, 255):
                self._cluster_ips.add(ip)
                return ip

    def _attributes(
        self,
        kind: Kind,
        operation: Operation,
        namespace: str | None,
        name: str,
        obj: Obj | None,
        old: Obj | None,
        subresource: str = "",
    ) -> Attributes:
        """What the admission chain sees of a request (reads go to the store directly)."""
        return Attributes(
            kind, operation, namespace or "", name, obj, old, subresource,
            lookup=lambda resource, ns, n: self.store.peek(ObjectKey(resource, ns, n)),
            objects=self.store.values,
        )  # fmt: skip

    # --- writes ---

    def create(
        self,
        kind: Kind,
        namespace: str | None,
        body: Any,
        manager: str,
        managed_fields: list[Obj] | None = None,
        field_validation: FieldValidation = "Ignore",
        *,
        from_checked_parts: bool = False,
    ) -> Obj:
        """Store a new object (POST, or an apply that creates); returns what was stored.
        ``from_checked_parts``: a built-in controller made ``body`` from parts that passed the
        schema check already (a Pod from a checked template); admission and every other
        validation rule still apply, the schema check is skipped."""
        if kind.storage:
            self._check_body(kind, namespace, body)
            created = self.create(by_qualified(kind.storage), namespace,
                                  conversion.to_storage(body), manager, None, field_validation)  # fmt: skip
            return conversion.to_view(kind.api_version, created)
        obj = json_copy(self._check_body(kind, namespace, body))
        metadata = obj["metadata"]
        if kind.crd:
            self._check_crd_live(kind)
        # Admission sees the object before its name is generated (its refusals name the
        # generateName prefix, e.g. pods "web-7c9f-" is forbidden).
        shown_name = str(metadata.get("name") or metadata.get("generateName") or "")
        if not metadata.get("name") and metadata.get("generateName"):
            metadata["name"] = self._generate_name(kind, namespace, str(metadata["generateName"]))
        name = str(metadata.get("name") or "")
        if kind.namespaced:
            metadata["namespace"] = namespace
        else:
            metadata.pop("namespace", None)
        obj["apiVersion"], obj["kind"] = kind.api_version, kind.kind
        if kind.has_status:
            obj.pop("status", None)  # status is written through /status, never on create
        for field in (*_SERVER_METADATA, "resourceVersion", "managedFields"):
            metadata.pop(field, None)
        # The uid comes first, as in the API server: a Job's generated selector is made of it.
        metadata["uid"] = str(uuid.uuid4())
        self._default(kind, obj, creating=True)
        # The API server's order: mutating admission, validation, validating admission,
        # then storage (which is where AlreadyExists is found).
        attrs = self._attributes(kind, "CREATE", namespace, shown_name, obj, None)
        self.admission.admit(attrs)
        self._warnings += validate(kind, obj, field_validation, check_schema=not from_checked_parts)
        self.admission.validate(attrs)
        self._warnings += attrs.warnings
        key = self.key(kind, namespace, name)
        if self.store.exists(key):
            raise already_exists(kind, name)
        now = self.clock()
        metadata["creationTimestamp"] = rfc3339(now)
        metadata["generation"] = 1
        metadata["managedFields"] = (
            managed_fields
            if managed_fields is not None
            else ssa.record_update(None, obj, manager, kind.api_version, rfc3339(now))
        )
        if self._dry_run:
            metadata.pop("resourceVersion", None)  # never stored: the API server answers none
        else:
            metadata["resourceVersion"] = self.store.next_resource_version()
        self.store.put(key, obj)
        self._emit("ADDED", kind, obj)
        return obj

    def _check_crd_live(self, kind: Kind) -> None:
        """No new custom resources while their CRD is being deleted (405, as served)."""
        crd = self.store.peek(self.key(CRDS, None, kind.crd))
        if crd is None or crd["metadata"].get("deletionTimestamp"):
            raise ApiError(
                405, "MethodNotAllowed",
                "create not allowed while custom resource definition is terminating",
            )  # fmt: skip

    def _generate_name(self, kind: Kind, namespace: str | None, prefix: str) -> str:
        for _ in range(20):
            name = prefix + "".join(secrets.choice(_GENERATE_ALPHABET) for _ in range(5))
            if not self.store.exists(self.key(kind, namespace, name)):
                return name
        raise ApiError(
            409,
            "AlreadyExists",
            f'{kind.qualified} "{prefix}" already exists, the server was not able to generate '
            "a unique name for the object",
        )

    def replace(
        self,
        kind: Kind,
        namespace: str | None,
        name: str,
        body: Any,
        manager: str,
        subresource: str = "",
        field_validation: FieldValidation = "Ignore",
    ) -> Obj:
        """PUT: replace the object (or only its status). A non-empty
        ``metadata.resourceVersion`` that is not the current one is a 409 Conflict."""
        body = self._check_body(kind, namespace, body, url_name=name)
        if kind.storage:
            replaced = self.replace(by_qualified(kind.storage), namespace, name,
                                    conversion.to_storage(body), manager, subresource,
                                    field_validation)  # fmt: skip
            return conversion.to_view(kind.api_version, replaced)
        old = self.get(kind, namespace, name)
        return self._update(
            kind, old, body, manager, subresource, field_validation=field_validation
        )

    def patch(
        self,
        kind: Kind,
        namespace: str | None,
        name: str,
        body: Any,
        patch_type: PatchType,
        manager: str | None,
        force: bool = False,
        subresource: str = "",
        field_validation: FieldValidation = "Ignore",
    ) -> tuple[Obj, bool]:
        """PATCH (apply, merge or strategic merge); returns (object, created)."""
        if patch_type == "apply":
            if not manager:
                raise bad_request(
                    "PATCH with apply requires a fieldManager: add ?fieldManager=<name>"
                )
            if kind.storage:
                raise bad_request(
                    f"server-side apply of {kind.api_version} {kind.kind} objects is not "
                    f"supported by the simulator; apply them as {kind.storage} (v1)"
                )
            return self._apply(
                kind, namespace, name, body, manager, force, subresource, field_validation
            )
        if patch_type == "strategic" and kind.crd:
            # Custom resources have no Go types to carry merge keys: the API server refuses.
            raise ApiError(
                415, "UnsupportedMediaType",
                "the body of the request was in an unknown format - accepted media types "
                "include: application/json-patch+json, application/merge-patch+json, "
                "application/apply-patch+yaml",
            )  # fmt: skip
        old = self.get(kind, namespace, name)
        if patch_type == "json":
            try:
                patched = ssa.json_patch(old, body)
            except ssa.JsonPatchError as exc:
                raise ApiError(
                    422,
                    "Invalid",
                    f"the server rejected our request due to an error in our request: {exc}",
                ) from exc
        elif not isinstance(body, dict):
            raise bad_request("a merge patch must be a JSON object")
        elif patch_type == "strategic":
            try:
                patched = strategic.apply(old, body, strategic.schema_for(kind))
            except strategic.StrategicPatchError as exc:
                raise bad_request(f"the strategic merge patch cannot be applied: {exc}") from exc
        else:
            patched = ssa.merge_patch(old, body)
        patched = self._check_body(kind, namespace, patched, url_name=name)
        if kind.storage:
            return self.replace(kind, namespace, name, patched, manager or "unknown",
                                subresource, field_validation), False  # fmt: skip
        updated = self._update(
            kind, old, patched, manager or "unknown", subresource,
            field_validation=field_validation,
        )  # fmt: skip
        return updated, False

    def _apply(
        self,
        kind: Kind,
        namespace: str | None,
        name: str,
        body: Any,
        manager: str,
        force: bool,
        subresource: str,
        field_validation: FieldValidation,
    ) -> tuple[Obj, bool]:
        body = self._check_body(kind, namespace, body, url_name=name)
        if not body.get("apiVersion") or not body.get("kind"):
            raise bad_request("apiVersion and kind must be set in an applied configuration")
        body["metadata"]["name"] = name
        live = self.store.get(self.key(kind, namespace, name))
        now = self.now()
        try:
            result = ssa.apply_patch(live, body, manager, force, kind.api_version, now, subresource)
        except ssa.ApplyConflict as exc:
            raise apply_conflict(kind, name, exc.conflicts) from exc
        if live is None:
            if subresource:
                raise not_found(kind, name)
            managed = result["metadata"].pop("managedFields")
            created = self.create(
                kind, namespace, result, manager, managed, field_validation=field_validation
            )
            return created, True
        managed = result["metadata"].pop("managedFields")
        result["metadata"]["resourceVersion"] = live["metadata"]["resourceVersion"]
        updated = self._update(kind, live, result, manager, subresource, managed, field_validation)
        return updated, False

    def _update(
        self,
        kind: Kind,
        old: Obj,
        body: Obj,
        manager: str,
        subresource: str,
        managed_fields: list[Obj] | None = None,
        field_validation: FieldValidation = "Ignore",
        trusted: bool = False,
    ) -> Obj:
        """Store ``body`` as the new version of ``old`` (which is only read). ``trusted``
        writes (the built-in controllers' status, the garbage collector's reference edits)
        skip the schema check: they are built by this program, not sent by a client."""
        old_meta = old["metadata"]
        rv = (body.get("metadata") or {}).get("resourceVersion")
        if rv and rv != old_meta["resourceVersion"]:
            raise conflict(kind, old_meta["name"])
        if subresource == "status":
            new = json_copy(old)
            if "status" in body:
                new["status"] = json_copy(body["status"])
            else:
                new.pop("status", None)
        else:
            new = json_copy(body)
            if kind.has_status:
                if "status" in old:
                    new["status"] = json_copy(old["status"])
                else:
                    new.pop("status", None)
        new["apiVersion"], new["kind"] = kind.api_version, kind.kind
        metadata = new.setdefault("metadata", {})
        for field in ("name", "namespace", *_SERVER_METADATA):
            if field in old_meta:
                metadata[field] = old_meta[field]
            else:
                metadata.pop(field, None)
        if spec_part(new) != spec_part(old):
            metadata["generation"] = int(old_meta.get("generation", 0)) + 1
        if not subresource:
            carry_allocated(kind, new, old)
        self._default(kind, new, creating=False)
        if not trusted:
            attrs = self._attributes(
                kind, "UPDATE", metadata.get("namespace"), metadata["name"], new, old, subresource
            )
            self.admission.admit(attrs)
            self._warnings += validate(kind, new, field_validation)
            if not subresource:
                errors = update_errors(kind, new, old)
                if errors:
                    raise invalid(kind, metadata["name"], errors)
            self.admission.validate(attrs)
            self._warnings += attrs.warnings
        metadata["managedFields"] = (
            managed_fields
            if managed_fields is not None
            else ssa.record_update(old, new, manager, kind.api_version, self.now(), subresource)
        )
        if _same_content(new, old):
            return old  # a no-op write does not change the resourceVersion
        # A dry run answers with the version the object has: nothing was written.
        metadata["resourceVersion"] = (
            old_meta["resourceVersion"] if self._dry_run else self.store.next_resource_version()
        )
        key = self.key(kind, metadata.get("namespace"), metadata["name"])
        finalized = metadata.get("deletionTimestamp") and not metadata.get("finalizers")
        if finalized and kind is not NAMESPACES:
            self._remove(kind, key, new, old)
            return new
        self.store.put(key, new)
        self._emit("MODIFIED", kind, new, old)
        return new

    def delete(
        self,
        kind: Kind,
        namespace: str | None,
        name: str,
        propagation: Propagation | None = None,
        preconditions: Obj | None = None,
    ) -> Obj:
        """DELETE: returns the object when it lingers (namespace terminating, finalizers
        pending, foreground deletion waiting for dependents) or a success ``Status`` when
        it is gone. ``propagation`` (default Background; Orphan for Jobs, as the batch API
        has it) decides what happens to the objects it owns (see :meth:`_collect`)."""
        if kind.storage:
            result = self.delete(by_qualified(kind.storage), namespace, name, propagation,
                                 preconditions)  # fmt: skip
            if result.get("kind") == "Status":
                result["details"]["group"] = kind.group
                return result
            return conversion.to_view(kind.api_version, result)
        obj = self.get(kind, namespace, name)
        self.admission.admit(self._attributes(kind, "DELETE", namespace, name, None, obj))
        key = self.key(kind, namespace, name)
        metadata = obj["metadata"]
        uid = metadata.get("uid")
        wanted_uid = (preconditions or {}).get("uid")
        wanted_rv = (preconditions or {}).get("resourceVersion")
        if (wanted_uid and wanted_uid != uid) or (
            wanted_rv and wanted_rv != metadata.get("resourceVersion")
        ):
            raise conflict(kind, name)
        if propagation is None:
            propagation = "Orphan" if kind.kind == "Job" else "Background"
        if propagation not in PROPAGATIONS:
            raise bad_request(
                f'Unsupported value: "{propagation}": supported values: "Background", '
                '"Foreground", "Orphan"'
            )
        dependents = self.store.dependents(uid) if uid else []
        if propagation == "Orphan":
            for dependent in dependents:
                self._drop_owner_reference(dependent, str(uid))
            dependents = []
        foreground = propagation == "Foreground" and bool(dependents)
        if kind is CRDS and not metadata.get("deletionTimestamp"):
            # The API server marks a deleted CRD with this finalizer: the CRD controller
            # deletes its custom resources, then removes it.
            finalizers = metadata.setdefault("finalizers", [])
            if customresources.CLEANUP_FINALIZER not in finalizers:
                finalizers.append(customresources.CLEANUP_FINALIZER)
        if kind is NAMESPACES or metadata.get("finalizers") or foreground:
            if metadata.get("deletionTimestamp"):
                return obj
            old = json_copy(obj)
            metadata["deletionTimestamp"] = self.now()
            metadata["deletionGracePeriodSeconds"] = 0
            if foreground:
                metadata.setdefault("finalizers", []).append(FOREGROUND_FINALIZER)
            if kind is NAMESPACES:
                obj["status"] = {"phase": "Terminating"}
                logger.info("namespace %s is terminating", name)
            metadata["resourceVersion"] = self.store.next_resource_version()
            self.store.put(key, obj)
            self._emit("MODIFIED", kind, obj, old)
            if foreground:
                for dependent in dependents:
                    self._delete_key(dependent, "Foreground")
                self._release_foreground(key)
            return self.store.get(key) or obj
        self._remove(kind, key, obj)
        details: Obj = {"name": name, "kind": kind.resource, "uid": uid}
        if kind.group:
            details["group"] = kind.group
        return {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Success",
            "details": details,
        }

    def _delete_key(self, key: ObjectKey, propagation: Propagation) -> None:
        obj = self.store.peek(key)
        if obj is None or obj["metadata"].get("deletionTimestamp"):
            return
        try:
            kind = self.kinds.by_qualified(key.resource)
        except KeyError:  # a custom resource whose CRD is gone: nothing serves it any more
            self.store.delete(key)
            return
        self.delete(kind, key.namespace or None, key.name, propagation)

    def delete_collection(
        self,
        kind: Kind,
        namespace: str | None,
        label_selector: str | None,
        field_selector: str | None,
        propagation: Propagation | None = None,
    ) -> Obj:
        listed = self.list_objects(kind, namespace, label_selector, field_selector)
        for obj in listed["items"]:
            meta = obj["metadata"]
            stored_as = by_qualified(kind.storage) if kind.storage else kind
            if self.store.exists(self.key(stored_as, meta.get("namespace"), meta["name"])):
                self.delete(kind, meta.get("namespace"), meta["name"], propagation)
        return listed

    def _remove(self, kind: Kind, key: ObjectKey, obj: Obj, old: Obj | None = None) -> None:
        obj["metadata"]["resourceVersion"] = self.store.next_resource_version()
        self.store.delete(key)
        self._emit("DELETED", kind, obj, old if old is not None else obj)
        self._collect(obj)

    # --- garbage collection ---

    def _collect(self, gone: Obj) -> None:
        """What the garbage collector does once ``gone`` is removed: dependents whose every
        owner is now gone are deleted (background), references to it from dependents that
        keep another owner are dropped; an owner waiting in foreground deletion for it is
        released when it was the last dependent. Synchronous: a real cluster does the same
        moments later."""
        metadata = gone["metadata"]
        uid = metadata.get("uid")
        if uid:
            for dependent_key in self.store.dependents(str(uid)):
                dependent = self.store.peek(dependent_key)
                if dependent is None:
                    continue
                refs = dependent["metadata"].get("ownerReferences") or []
                if any(
                    r.get("uid") != uid and self.store.key_of_uid(str(r.get("uid"))) for r in refs
                ):
                    self._drop_owner_reference(dependent_key, str(uid))
                else:
                    self._delete_key(dependent_key, "Background")
        for ref in metadata.get("ownerReferences") or []:
            owner_key = self.store.key_of_uid(str(ref.get("uid")))
            if owner_key is not None:
                self._release_foreground(owner_key)

    def _drop_owner_reference(self, key: ObjectKey, owner_uid: str) -> None:
        obj = self.store.peek(key)
        if obj is None:
            return
        refs = obj["metadata"].get("ownerReferences") or []
        kept = [r for r in refs if r.get("uid") != owner_uid]
        new = json_copy(obj)
        if kept:
            new["metadata"]["ownerReferences"] = kept
        else:
            new["metadata"].pop("ownerReferences", None)
        self._update(self.kinds.by_qualified(key.resource), obj, new, GC_MANAGER, "", trusted=True)

    def _release_foreground(self, key: ObjectKey) -> None:
        """Remove the foregroundDeletion finalizer once no dependents are left."""
        obj = self.store.peek(key)
        if obj is None:
            return
        metadata = obj["metadata"]
        finalizers = metadata.get("finalizers") or []
        if FOREGROUND_FINALIZER not in finalizers or self.store.dependents(metadata["uid"]):
            return
        new = json_copy(obj)
        new["metadata"]["finalizers"] = [f for f in finalizers if f != FOREGROUND_FINALIZER]
        self._update(self.kinds.by_qualified(key.resource), obj, new, GC_MANAGER, "", trusted=True)

    def ensure_namespaces(self, names: tuple[str, ...] = BUILTIN_NAMESPACES) -> None:
        """Create the namespaces every cluster has, when missing (start-up)."""
        for name in names:
            if not self.store.exists(self.key(NAMESPACES, None, name)):
                self.create(NAMESPACES, None, {"metadata": {"name": name}}, "storeplane-sim")

    # --- for controllers ---

    def write_status(self, kind: Kind, key: ObjectKey, status: Obj, manager: str) -> Obj | None:
        """Replace an object's status as controller ``manager``; None if it is gone."""
        old = self.store.peek(key)
        if old is None:
            return None
        return self._update(kind, old, {"status": status}, manager, "status", trusted=True)

    def finalize_namespace(self, name: str) -> bool:
        """The namespace controller's pass over a terminating namespace: delete everything
        in it (objects with finalizers are only marked), record what remains in the
        namespace's conditions, and once it is empty drop the ``kubernetes`` finalizer and
        remove the namespace (unless other ``spec.finalizers`` remain: those are removed
        through the ``/finalize`` subresource). Returns True when the namespace is gone."""
        for key in list(self.store.keys_in_namespace(name)):
            self._delete_key(key, "Background")
        ns_key = self.key(NAMESPACES, None, name)
        ns = self.store.get(ns_key)
        if ns is None:
            return True
        remaining = [o for k in self.store.keys_in_namespace(name) if (o := self.store.peek(k))]
        if remaining:
            status = _terminating_status(remaining, self.kinds)
            self.write_status(NAMESPACES, ns_key, status, NS_MANAGER)
            return False
        finalizers = (ns.get("spec") or {}).get("finalizers") or []
        if "kubernetes" in finalizers:
            self.finalize(
                name, {"spec": {"finalizers": [f for f in finalizers if f != "kubernetes"]}}
            )
        return self.store.get(ns_key) is None

    def finalize(self, name: str, body: Any) -> Obj:
        """PUT ``/api/v1/namespaces/{name}/finalize``: set ``spec.finalizers``. A terminating
        namespace with no finalizers left and nothing in it is removed."""
        if not isinstance(body, dict):
            raise bad_request("the body of the request must be a JSON or YAML object")
        ns_key = self.key(NAMESPACES, None, name)
        old = self.get(NAMESPACES, None, name)
        finalizers = (body.get("spec") or {}).get("finalizers") or []
        if not isinstance(finalizers, list) or not all(isinstance(f, str) for f in finalizers):
            raise invalid(
                NAMESPACES, name, [("spec.finalizers", "Invalid value: must be a list of strings")]
            )
        new = json_copy(old)
        new.setdefault("spec", {})["finalizers"] = finalizers
        if not finalizers:
            new["spec"].pop("finalizers")
        done = (
            old["metadata"].get("deletionTimestamp")
            and not finalizers
            and not old["metadata"].get("finalizers")
            and next(iter(self.store.keys_in_namespace(name)), None) is None
        )
        if done:
            self._remove(NAMESPACES, ns_key, new, old)
            logger.info("namespace %s finalized and removed", name)
            return new
        return self._update(NAMESPACES, old, new, NS_MANAGER, "")


def _qos_class(spec: Obj) -> str:
    containers = [c for c in spec.get("containers") or [] if isinstance(c, dict)]
    resources = [c.get("resources") or {} for c in containers]
    if not any(r.get("limits") or r.get("requests") for r in resources):
        return "BestEffort"
    guaranteed = all(
        (r.get("limits") or {}).get(n) is not None
        and (r.get("requests") or {}).get(n, (r.get("limits") or {}).get(n))
        == (r.get("limits") or {}).get(n)
        for r in resources
        for n in ("cpu", "memory")
    )
    return "Guaranteed" if guaranteed else "Burstable"


def _terminating_status(remaining: list[Obj], kinds: KindRegistry) -> Obj:
    """Namespace status while content remains, with the conditions a real cluster sets."""
    counts: dict[str, int] = {}
    finalizers: dict[str, int] = {}
    for obj in remaining:
        kind = kinds.qualified_of(obj)
        counts[kind] = counts.get(kind, 0) + 1
        for f in obj["metadata"].get("finalizers") or []:
            finalizers[f] = finalizers.get(f, 0) + 1
    conditions = [
        {
            "type": "NamespaceContentRemaining",
            "status": "True",
            "reason": "SomeResourcesRemain",
            "message": "Some resources are remaining: "
            + ", ".join(f"{k} has {n} resource instances" for k, n in sorted(counts.items())),
        }
    ]
    if finalizers:
        conditions.append(
            {
                "type": "NamespaceFinalizersRemaining",
                "status": "True",
                "reason": "SomeFinalizersRemain",
                "message": "Some content in the namespace has finalizers remaining: "
                + ", ".join(
                    f"{f} in {n} resource instances" for f, n in sorted(finalizers.items())
                ),
            }
        )
    return {"phase": "Terminating", "conditions": conditions}
