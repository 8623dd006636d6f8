"""``KubernetesCluster``: the ClusterPort over lightkube's async client.

Objects cross this boundary as plain dicts. Writes use server-side apply with the field manager
``storeplane`` (forced: storeplane is the owner of what it applies, and a hand edit of an owned
field is drift to undo). Reads of a store's objects go by the ``storeplane.dev/store-id`` label.
"""

from __future__ import annotations

import asyncio
import base64
import json
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx2
from lightkube import ApiError, AsyncClient, KubeConfig
from lightkube.types import PatchType

from storeplane.cluster.errors import AlreadyExists, NotFound, map_api_errors
from storeplane.cluster.kinds import CLUSTER_KINDS, NAMESPACE, OWNED_KINDS, Kind, kind_of
from storeplane.cluster.readiness import not_ready_reason
from storeplane.domain.errors import InvalidTransitionError, PodNotFoundError, RetryableError
from storeplane.domain.ports import (
    FIELD_MANAGER,
    LiveObject,
    Manifest,
    NamespacePhase,
    NamespaceStatus,
    NodeProcess,
    NodeResidue,
    ObjectRef,
    PodSummary,
    ServiceAnswer,
)

NODE_RESIDUE_PATH = "/sim/v1/node/residue"
STORE_ID_LABEL = "storeplane.dev/store-id"


def _status_message(text: str) -> str:
    """The ``message`` of a Kubernetes Status body, or empty."""
    try:
        body = json.loads(text)
    except ValueError:
        return ""
    return str(body.get("message") or "") if isinstance(body, dict) else ""


def raise_for_status(response: httpx2.Response) -> None:
    """Raise for an HTTP error answer as lightkube does: its ``ApiError`` when the body is a
    Kubernetes Status (JSON), else httpx's own error."""
    if response.status_code < 400:
        return
    if response.headers.get("Content-Type") == "application/json":
        raise ApiError(request=response.request, response=response)
    response.raise_for_status()


def _to_dict(obj: Any) -> Manifest:
    data = obj.to_dict() if hasattr(obj, "to_dict") else dict(obj)
    return dict(data)


def _missing_namespace(exc: NotFound) -> RetryableError:
    """A write answered 404: its namespace is gone (deleted by hand, or still being made).
    Retryable: the next pass observes the namespace and recreates it before writing again."""
    return RetryableError(
        f"{exc}; the namespace must exist first, the next pass recreates it",
        reason="NamespaceNotFound",
    )


def connect(kubeconfig: Path | None = None, *, timeout: float = 15.0) -> KubernetesCluster:
    """A cluster from ``kubeconfig``, else ``KUBECONFIG``/``~/.kube/config``, else in-cluster."""
    config = KubeConfig.from_file(kubeconfig) if kubeconfig else KubeConfig.from_env()
    return KubernetesCluster(AsyncClient(config, timeout=httpx2.Timeout(timeout)))


def live_object(item: Manifest) -> LiveObject:
    """An owned object with its readiness judged by the per-kind rules."""
    reason = not_ready_reason(item)
    return LiveObject(ObjectRef.of(item), item, reason is None, reason or "")


def namespace_status_of(ns: Manifest) -> NamespaceStatus:
    """Active or Terminating (with what the server says is still blocking it)."""
    status = ns.get("status", {})
    if ns.get("metadata", {}).get("deletionTimestamp") or status.get("phase") == "Terminating":
        messages = [
            c.get("message", "")
            for c in status.get("conditions", [])
            if c.get("status") == "True" and c.get("message")
        ]
        return NamespaceStatus(NamespacePhase.TERMINATING, "; ".join(messages), ns)
    return NamespaceStatus(NamespacePhase.ACTIVE, manifest=ns)


class KubernetesCluster:
    """Implements :class:`storeplane.domain.ports.ClusterPort`; close it with :meth:`close`."""

    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    async def close(self) -> None:
        await self._client.close()

    @property
    def client(self) -> AsyncClient:
        """The lightkube client, for the watcher (same connection settings)."""
        return self._client

    async def namespace_status(self, name: str) -> NamespaceStatus:
        try:
            with map_api_errors(f"read namespace {name}"):
                ns = _to_dict(await self._client.get(NAMESPACE.resource, name))
        except NotFound:
            return NamespaceStatus(NamespacePhase.ABSENT)
        ns.setdefault("apiVersion", "v1")
        ns.setdefault("kind", "Namespace")
        return namespace_status_of(ns)

    async def get(self, ref: ObjectRef) -> Manifest | None:
        """The object as the API server has it, or None."""
        kind = kind_of(ref.api_version, ref.kind)
        try:
            with map_api_errors(f"read {ref}"):
                obj = _to_dict(
                    await self._client.get(
                        kind.resource,
                        ref.name,
                        namespace=ref.namespace if kind.namespaced else None,
                    )
                )
        except NotFound:
            return None
        obj.setdefault("apiVersion", kind.api_version)
        obj.setdefault("kind", kind.kind)
        return obj

    async def apply(self, manifest: Manifest) -> Manifest:
        """Server-side apply; returns the object as the server answered it (its JSON as sent:
        the same shape the watch puts into the object cache). lightkube builds and sends the
        request, as its ``patch`` would; the answer is not decoded into its typed model and
        back to a dict (a fifth of an apply's CPU here, twenty applies per store)."""
        ref = ObjectRef.of(manifest)
        kind = kind_of(ref.api_version, ref.kind)
        generic = self._client._client
        request = generic.prepare_request(
            "patch",
            res=kind.resource,
            obj=manifest,
            name=ref.name,
            namespace=ref.namespace if kind.namespaced else None,
            headers={"Content-Type": PatchType.APPLY.value},
            params={"force": "true", "fieldManager": FIELD_MANAGER},
        )
        try:
            with map_api_errors(f"apply {ref}"):
                response = await generic._client.send(generic.build_adapter_request(request))
                raise_for_status(response)
        except NotFound as exc:
            raise _missing_namespace(exc) from exc
        result: Manifest = response.json()
        result.setdefault("apiVersion", kind.api_version)
        result.setdefault("kind", kind.kind)
        return result

    async def create(self, manifest: Manifest) -> Manifest | None:
        """Create the object; returns it as stored, or None if it already existed (never
        replaced: that is the point for generated secrets)."""
        ref = ObjectRef.of(manifest)
        kind = kind_of(ref.api_version, ref.kind)
        obj = kind.resource.from_dict(manifest)
        try:
            with map_api_errors(f"create {ref}"):
                created = await self._client.create(obj, field_manager=FIELD_MANAGER)
        except AlreadyExists:
            return None  # made earlier (perhaps by a pass that crashed after the write): fine
        except NotFound as exc:
            raise _missing_namespace(exc) from exc
        result = _to_dict(created)
        result.setdefault("apiVersion", kind.api_version)
        result.setdefault("kind", kind.kind)
        return result

    async def create_if_absent(self, manifest: Manifest) -> bool:
        # One request: try to create, and take "already exists" as the answer.
        return await self.create(manifest) is not None

    async def _list(self, kind: Kind, store_id: str, namespace: str) -> list[Manifest]:
        with map_api_errors(f"list {kind.kind} in {namespace}"):
            return [
                _to_dict(obj)
                async for obj in self._client.list(
                    kind.resource, namespace=namespace, labels={STORE_ID_LABEL: store_id}
                )
            ]

    async def list_labelled(
        self, api_version: str, kind: str, namespace: str, labels: dict[str, str]
    ) -> list[Manifest]:
        """Objects of one kind in ``namespace`` carrying ``labels`` (backup Jobs, their pods)."""
        known = kind_of(api_version, kind)
        with map_api_errors(f"list {kind} in {namespace}"):
            found = [
                _to_dict(obj)
                async for obj in self._client.list(
                    known.resource, namespace=namespace, labels=dict(labels)
                )
            ]
        for item in found:
            item.setdefault("apiVersion", known.api_version)
            item.setdefault("kind", known.kind)
        return found

    async def list_owned(self, store_id: str, namespace: str) -> list[LiveObject]:
        lists = await asyncio.gather(*(self._list(k, store_id, namespace) for k in OWNED_KINDS))
        live: list[LiveObject] = []
        for kind, items in zip(OWNED_KINDS, lists, strict=True):
            for item in items:
                item.setdefault("apiVersion", kind.api_version)
                item.setdefault("kind", kind.kind)
                live.append(live_object(item))
        return live

    async def delete(self, ref: ObjectRef) -> None:
        kind = kind_of(ref.api_version, ref.kind)
        try:
            with map_api_errors(f"delete {ref}"):
                await self._client.delete(
                    kind.resource, ref.name, namespace=ref.namespace if kind.namespaced else None
                )
        except NotFound:
            return

    async def find_residue(self, store_id: str) -> list[ObjectRef]:
        selector: dict[str, Any] = {STORE_ID_LABEL: store_id}

        async def scan(kind: Kind) -> list[ObjectRef]:
            with map_api_errors(f"list {kind.kind} in all namespaces"):
                found = [
                    _to_dict(obj)
                    async for obj in self._client.list(
                        kind.resource, namespace="*" if kind.namespaced else None, labels=selector
                    )
                ]
            return [
                ObjectRef(
                    kind.api_version,
                    kind.kind,
                    o["metadata"]["name"],
                    o["metadata"].get("namespace"),
                )
                for o in found
            ]

        results = await asyncio.gather(*(scan(k) for k in (*OWNED_KINDS, *CLUSTER_KINDS)))
        return [ref for refs in results for ref in refs]

    async def node_residue(self, namespace: str) -> NodeResidue | None:
        # storeplane's simulator only (CONTRACTS D); any other API server answers 404.
        http: httpx2.AsyncClient = self._client._client._client
        with map_api_errors(f"ask the node what is left of namespace {namespace}"):
            response = await http.get(NODE_RESIDUE_PATH, params={"namespace": namespace})
        if response.status_code in (403, 404):
            # 404: not storeplane's simulator. 403: an API server (or the simulator with RBAC)
            # that does not let this identity ask; either way nothing can be said.
            return None
        if response.status_code >= 400:
            raise RetryableError(
                f"ask the node what is left of namespace {namespace}: HTTP "
                f"{response.status_code} {_status_message(response.text) or response.text[:200]}",
                reason="ClusterError",
            )
        body = response.json()
        return NodeResidue(
            processes=tuple(
                NodeProcess(str(p.get("pod")), str(p.get("container")), int(p.get("pid", 0)))
                for p in body.get("processes") or []
            ),
            folders=tuple(str(f) for f in body.get("folders") or []),
        )

    async def record_event(self, namespace: str, type_: str, reason: str, message: str) -> None:
        now = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
        event = {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"name": f"{namespace}.{uuid.uuid4().hex[:16]}", "namespace": namespace},
            "involvedObject": {"apiVersion": "v1", "kind": "Namespace", "name": namespace},
            "type": type_,
            "reason": reason,
            "message": message[:1024],
            "source": {"component": FIELD_MANAGER},
            "reportingComponent": FIELD_MANAGER,
            "firstTimestamp": now,
            "lastTimestamp": now,
            "count": 1,
        }
        kind = kind_of("v1", "Event")
        with map_api_errors(f"post event {reason} in {namespace}"):
            await self._client.create(kind.resource.from_dict(event), field_manager=FIELD_MANAGER)

    async def read_secret(self, namespace: str, name: str) -> dict[str, str] | None:
        secret = await self.get(ObjectRef("v1", "Secret", name, namespace))
        if secret is None:
            return None
        values = {k: base64.b64decode(v).decode() for k, v in (secret.get("data") or {}).items()}
        values.update(secret.get("stringData") or {})
        return values

    async def pods(self, namespace: str) -> list[PodSummary]:
        kind = kind_of("v1", "Pod")
        with map_api_errors(f"list pods in {namespace}"):
            items = [
                _to_dict(obj) async for obj in self._client.list(kind.resource, namespace=namespace)
            ]
        summaries = []
        for pod in items:
            spec = pod.get("spec") or {}
            summaries.append(
                PodSummary(
                    name=str(pod["metadata"]["name"]),
                    phase=str((pod.get("status") or {}).get("phase") or "Unknown"),
                    containers=tuple(str(c["name"]) for c in spec.get("containers") or []),
                    init_containers=tuple(str(c["name"]) for c in spec.get("initContainers") or []),
                )
            )
        return sorted(summaries, key=lambda p: p.name)

    async def pod_log(self, namespace: str, pod: str, container: str, *, tail: int | None) -> str:
        # The log subresource answers text, not an object: read it through lightkube's
        # configured HTTP client (base URL, auth, TLS), as the service proxy is.
        http: httpx2.AsyncClient = self._client._client._client
        params: dict[str, str] = {"container": container}
        if tail is not None:
            params["tailLines"] = str(tail)
        where = f"container {container} of pod {namespace}/{pod}"
        with map_api_errors(f"read the log of {where}"):
            response = await http.get(
                f"/api/v1/namespaces/{namespace}/pods/{pod}/log", params=params
            )
        if response.status_code < 400:
            return response.text
        said = _status_message(response.text) or response.text[:200]
        if response.status_code == 404:
            raise PodNotFoundError(f"the cluster has no {where}: {said}")
        if response.status_code == 400:  # e.g. "waiting to start: CreateContainerConfigError"
            raise InvalidTransitionError(f"no output from {where} yet: {said}")
        raise RetryableError(
            f"read the log of {where}: {said} (HTTP {response.status_code})", reason="ClusterError"
        )

    async def service_get(
        self, namespace: str, service: str, port: int, path: str
    ) -> ServiceAnswer:
        # lightkube has no typed call for the services/proxy subresource; its configured HTTP
        # client (base URL, auth, TLS) is reused so the request goes through the API server.
        http: httpx2.AsyncClient = self._client._client._client
        url = f"/api/v1/namespaces/{namespace}/services/{service}:{port}/proxy/{path.lstrip('/')}"
        with map_api_errors(f"health check {service}:{port}{path} in {namespace}"):
            response = await http.get(url)
        # Headers become plain values here: nothing above the adapter sees httpx's types.
        return ServiceAnswer.from_headers(
            response.status_code, response.text, dict(response.headers.items())
        )
