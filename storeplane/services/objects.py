"""A store's resource tree and one object's YAML: ``GET /api/v1/stores/{id}/objects[...]``.

Called by the API router. Who may see the store may see its objects; anyone else gets "not
found". The objects come from the store inventory through the port ``runtime.py`` hands the
app (:class:`storeplane.domain.ports.StoreObjectsPort`); where the reconciler corrected drift
of an object (its ``DriftCorrected`` events name the objects it restored), the newest such
event is attached to it. Secret values never leave here (:func:`domain.objects.redacted`).
"""

from __future__ import annotations

import asyncio
from dataclasses import replace

import yaml

from storeplane.domain.errors import FeatureUnavailableError, ObjectNotFoundError
from storeplane.domain.objects import StoreObject, redacted
from storeplane.domain.ports import StoreObjectsPort, StoreRepository
from storeplane.domain.users import User
from storeplane.services.stores import get_store

DRIFT_REASON = "DriftCorrected"


async def store_objects(
    repo: StoreRepository, inventory: StoreObjectsPort | None, store_id: str, user: User
) -> list[StoreObject]:
    """The namespace and every object, with drift corrections attached. Raises
    StoreNotFoundError (not the caller's), FeatureUnavailableError (no cluster; 503)."""
    store = await asyncio.to_thread(get_store, repo, store_id, user)
    if inventory is None:
        raise FeatureUnavailableError(
            "this server has no cluster connection to read the store's objects from (start "
            "it with storeplane serve or storeplane dev)"
        )
    objects, events = await asyncio.gather(
        inventory.objects(store), asyncio.to_thread(repo.events, store.id)
    )
    drifts = [e for e in events if e.reason == DRIFT_REASON]
    out = []
    for obj in objects:
        # "restored Deployment server, NetworkPolicy default-deny"; the namespace's own event
        # names it as "namespace <name>".
        needle = f"{obj.kind} {obj.name}" if obj.kind != "Namespace" else f"{obj.name}"
        last = next((e for e in reversed(drifts) if _names(e.message, needle)), None)
        if last is not None:
            obj = replace(obj, drift_corrected_at=last.time, drift_message=last.message)
        out.append(obj)
    return out


def _names(message: str, needle: str) -> bool:
    at = message.find(needle)
    while at >= 0:
        end = at + len(needle)
        if end == len(message) or message[end] in ", ;)":
            return True
        at = message.find(needle, end)
    return False


async def object_yaml(
    repo: StoreRepository,
    inventory: StoreObjectsPort | None,
    store_id: str,
    user: User,
    kind: str,
    name: str,
) -> tuple[StoreObject, str]:
    """One live object of the store as YAML (Secret values hidden). Raises ObjectNotFoundError
    naming the store's objects of that kind when it has no such object."""
    objects = await store_objects(repo, inventory, store_id, user)
    found = next((o for o in objects if o.kind == kind and o.name == name), None)
    if found is None or found.manifest is None:
        same = sorted(o.name for o in objects if o.kind == kind and o.manifest is not None)
        listing = ", ".join(same) if same else "none"
        raise ObjectNotFoundError(
            f"store {store_id} has no live {kind} {name!r}; its {kind} objects: {listing}"
        )
    text = yaml.safe_dump(redacted(found.manifest), sort_keys=False, default_flow_style=False)
    return found, text
