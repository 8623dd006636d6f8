"""``StoreObjects``: the StoreObjectPort over lightkube (the Store custom resources).

Used by the store-object watcher (:mod:`storeplane.services.store_objects`) that
:mod:`storeplane.runtime` starts, and by ``storeplane dev`` to install the Store CRD into
its simulator (:func:`install_crd`). Objects cross as :class:`StoreKubeObject` values; status
goes through the status subresource (a JSON merge patch: custom resources take no
strategic merge patch); finalizer edits carry the object's resourceVersion, so a write
based on an old read is a 409 and the next watch event brings the object to act on again.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

import yaml
from lightkube import ApiError, AsyncClient
from lightkube.generic_resource import create_namespaced_resource
from lightkube.resources.apiextensions_v1 import CustomResourceDefinition
from lightkube.types import PatchType

from storeplane.domain.store_objects import CRD_NAME, FINALIZER, GROUP, KIND, PLURAL, VERSION
from storeplane.domain.store_objects import StoreKubeObject as StoreObjectValue

log = logging.getLogger(__name__)
FIELD_MANAGER = "storeplane"
StoreResource: Any = create_namespaced_resource(GROUP, VERSION, KIND, PLURAL)


def _value(obj: Any) -> StoreObjectValue:
    data = obj.to_dict() if hasattr(obj, "to_dict") else dict(obj)
    return StoreObjectValue.from_manifest(data)


class StoreObjects:
    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    async def installed(self) -> bool:
        try:
            await self._client.get(CustomResourceDefinition, CRD_NAME)
        except ApiError as exc:
            if exc.status.code in (403, 404):
                return False
            raise
        return True

    async def list_objects(self) -> tuple[list[StoreObjectValue], str]:
        listing = self._client.list(StoreResource, namespace="*")
        items = [_value(obj) async for obj in listing]
        return items, str(listing.resourceVersion)

    async def watch(self, resource_version: str) -> AsyncIterator[tuple[str, StoreObjectValue]]:
        async for event, obj in self._client.watch(
            StoreResource, namespace="*", resource_version=resource_version, server_timeout=300
        ):
            yield event, _value(obj)

    async def write_status(
        self, obj: StoreObjectValue, status: Mapping[str, Any]
    ) -> StoreObjectValue:
        # The whole status replaces the old one (null first clears fields no longer set).
        cleared = {key: None for key in obj.status if key not in status}
        written = await self._client.patch(
            StoreResource.Status,
            obj.name,
            {"status": {**cleared, **status}},
            namespace=obj.namespace,
            patch_type=PatchType.MERGE,
            field_manager=FIELD_MANAGER,
        )
        return _value(written)

    async def set_finalizer(self, obj: StoreObjectValue, present: bool) -> StoreObjectValue | None:
        for _ in range(3):
            finalizers = [f for f in obj.finalizers if f != FINALIZER]
            if present:
                finalizers.append(FINALIZER)
            patch = {
                "metadata": {"finalizers": finalizers, "resourceVersion": obj.resource_version}
            }
            try:
                patched = await self._client.patch(
                    StoreResource, obj.name, patch, namespace=obj.namespace,
                    patch_type=PatchType.MERGE, field_manager=FIELD_MANAGER,
                )  # fmt: skip
                return _value(patched)
            except ApiError as exc:
                if exc.status.code == 404:
                    return None  # gone: its finalizers were the last thing holding it
                if exc.status.code != 409:
                    raise
            # Changed since it was read: read it again and decide on the fresh version.
            try:
                fresh = await self._client.get(StoreResource, obj.name, namespace=obj.namespace)
            except ApiError as exc:
                if exc.status.code == 404:
                    return None
                raise
            obj = _value(fresh)
            if obj.uid == "" or (FINALIZER in obj.finalizers) == present:
                return obj
        return obj


async def install_crd(client: AsyncClient, path: Path) -> None:
    """Apply the Store CRD (``storeplane dev`` does, into its simulator)."""
    manifest = yaml.safe_load(path.read_text())
    crd: Any = CustomResourceDefinition.from_dict(manifest)
    await client.apply(crd, field_manager=FIELD_MANAGER, force=True)
