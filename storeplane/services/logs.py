"""A store's container output for its owner: ``GET /api/v1/stores/{id}/logs``.

Called by the API router. The pods and their logs come from the cluster through the
:class:`storeplane.domain.ports.PodLogsPort` that ``runtime.py`` hands to the app (the API
never imports the cluster adapter). Who may see the store may read its logs; anyone else gets
"not found". A missing or unknown pod or container is answered with the names that exist.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from storeplane.domain.errors import ChoiceRequiredError, FeatureUnavailableError, PodNotFoundError
from storeplane.domain.ports import PodLogsPort, PodSummary, StoreRepository
from storeplane.domain.users import User
from storeplane.services.stores import get_store


@dataclass(frozen=True, slots=True)
class StoreLog:
    store_id: str
    pod: str
    container: str
    tail: int | None
    text: str


def _listing(pods: list[PodSummary]) -> str:
    if not pods:
        return "the store has no pods (yet, or any more)"
    shown = "; ".join(f"{p.name} ({p.phase}: {', '.join(p.all_containers)})" for p in pods)
    return f"the store's pods are: {shown}"


async def store_log(
    repo: StoreRepository,
    logs: PodLogsPort | None,
    store_id: str,
    user: User,
    *,
    pod: str | None,
    container: str | None,
    tail: int | None,
) -> StoreLog:
    """The output of one container of one of the store's pods.

    Raises StoreNotFoundError (not the caller's store), ChoiceRequiredError (no ``pod``, or no
    ``container`` for a pod with several; 400), PodNotFoundError (unknown pod or container;
    404), FeatureUnavailableError (no cluster to read from; 503)."""
    store = await asyncio.to_thread(get_store, repo, store_id, user)
    if logs is None:
        raise FeatureUnavailableError(
            "this server has no cluster connection to read logs from (start it with "
            "storeplane serve or storeplane dev)"
        )
    pods = await logs.pods(store.namespace)
    if not pod:
        raise ChoiceRequiredError(
            f"say which pod (the pod parameter; storeplane stores logs --pod NAME): "
            f"{_listing(pods)}",
            field="pod",
        )
    found = next((p for p in pods if p.name == pod), None)
    if found is None:
        raise PodNotFoundError(f"store {store.id} has no pod {pod!r}; {_listing(pods)}")
    names = found.all_containers
    if not container:
        if len(found.containers) != 1:
            raise ChoiceRequiredError(
                f"pod {pod} has several containers; say which (the container parameter; "
                f"storeplane stores logs --container NAME): {', '.join(names)}",
                field="container",
            )
        container = found.containers[0]
    elif container not in names:
        raise PodNotFoundError(
            f"pod {pod} has no container {container!r}; its containers are: {', '.join(names)}"
        )
    text = await logs.pod_log(store.namespace, pod, container, tail=tail)
    return StoreLog(store_id=store.id, pod=pod, container=container, tail=tail, text=text)
