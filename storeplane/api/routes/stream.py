"""``/api/v1/stream``: server-sent events of store changes, for the console's open pages.

Thin: the process's :class:`storeplane.services.stream.ChangeFeed` polls the database once for
every open stream; this route turns what it hands over into ``text/event-stream``. The token is
checked when the stream opens (``ApiRoute``) and again at every heartbeat, so a revoked token's
stream ends within one heartbeat.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Header, Request, Response
from fastapi.responses import StreamingResponse

from storeplane.api.deps import ChangeFeedDep, CurrentUserDep, SettingsDep, UsersDep
from storeplane.api.routing import ApiRoute
from storeplane.domain.errors import AuthenticationError
from storeplane.domain.fleet import FleetEvent
from storeplane.services import auth
from storeplane.services.stream import StreamEnded

router = APIRouter(prefix="/api/v1", tags=["stream"], route_class=ApiRoute)
RETRY_MS = 3000


def _message(item: FleetEvent) -> str:
    e = item.event
    data = {
        "id": e.id,
        "store_id": e.store_id,
        "store_name": item.store_name,
        "time": e.time.isoformat(),
        "type": e.type.value,
        "reason": e.reason,
        "message": e.message,
        "actor": e.actor,
        "generation": e.generation,
    }
    return f"id: {e.id}\nevent: store-event\ndata: {json.dumps(data)}\n\n"


@router.get(
    "/stream",
    summary="Live changes (server-sent events)",
    description=(
        "A `text/event-stream` that stays open: one `store-event` message (its `id:` is the "
        "event's id, its `data:` the event as JSON with `store_id` and `store_name`) for each "
        "new event of a store you may see, a first `hello` message carrying the newest event "
        "id, and a comment line every 15 s (`stream_heartbeat_seconds`) while nothing happens. Send `Last-Event-ID` when "
        "reconnecting to get what you missed first. Each server process reads new events from "
        "the database once a second for all its streams, so changes made through any replica "
        "arrive. The stream ends when the token is revoked (checked at each heartbeat) or when "
        "a reader falls far behind; reconnect then."
    ),
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "The stream."}},
)
async def stream(
    request: Request,
    user: CurrentUserDep,
    feed: ChangeFeedDep,
    users: UsersDep,
    settings: SettingsDep,
    last_event_id: Annotated[
        str | None,
        Header(
            alias="Last-Event-ID",
            max_length=20,
            description="The last `id:` received, when reconnecting.",
        ),
    ] = None,
) -> Response:
    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    if request.method == "HEAD":  # the headers a GET would get, without opening a stream
        return Response(media_type="text/event-stream", headers=headers)
    after = int(last_event_id) if last_event_id and last_event_id.isdigit() else None
    authorization = request.headers.get("authorization")
    heartbeat = settings.stream_heartbeat_seconds

    async def body() -> AsyncIterator[str]:
        async with feed.subscription(user, after) as subscription:
            latest = await feed.latest_id()
            hello = {"last_event_id": latest, "heartbeat_seconds": heartbeat}
            yield f"retry: {RETRY_MS}\nevent: hello\ndata: {json.dumps(hello)}\n\n"
            while True:
                try:
                    batch = await subscription.next(heartbeat)
                except StreamEnded:
                    return
                if batch:
                    yield "".join(_message(item) for item in batch)
                    continue
                try:
                    await asyncio.to_thread(auth.authenticate, users, authorization)
                except AuthenticationError:
                    yield 'event: bye\ndata: {"reason": "the API token was revoked"}\n\n'
                    return
                yield ": keep-alive\n\n"

    return StreamingResponse(
        body(),
        media_type="text/event-stream",
        headers=headers,
    )
