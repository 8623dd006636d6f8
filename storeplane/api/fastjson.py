"""Store bodies as JSON bytes, made once per unchanged store: the API's read path.

Called by ``routes/stores.py`` for ``GET /stores/{id}`` and ``GET /stores``. A route that
returns a Pydantic model pays three times per store: ``from_domain`` builds the model, FastAPI
dumps it and validates the dump against ``response_model`` again, then serialises it. These
routes return the bytes instead (FastAPI passes a ``Response`` through untouched; the
``response_model`` still documents the shape), and the bytes are those of
``StorePublic.from_domain(store).model_dump_json()`` — the one definition of the shape, so a
field added there appears here too.

The repository hands out the *same* frozen ``Store`` object for a row that did not change
(:mod:`storeplane.db.rowcache`), so the bytes are cached by that object's identity: a
changed store is a new object and a miss. The entry keeps its ``Store`` alive, so an id is
never reused while its entry exists.
"""

from __future__ import annotations

from collections import OrderedDict
from threading import Lock
from typing import Any

from fastapi import Response

from storeplane.api.schemas import StorePublic, StoresPublic
from storeplane.domain.ports import StorePage
from storeplane.domain.store import Store

_MAX_ENTRIES = 20_000
_entries: OrderedDict[int, tuple[Store, bytes]] = OrderedDict()
_MAX_PAGES = 256
_pages: OrderedDict[int, tuple[StorePage, bytes]] = OrderedDict()
_lock = Lock()


def store_json(store: Store) -> bytes:
    """``StorePublic.from_domain(store)`` as JSON bytes."""
    key = id(store)
    with _lock:
        entry = _entries.get(key)
        if entry is not None and entry[0] is store:
            _entries.move_to_end(key)
            return entry[1]
    body = StorePublic.from_domain(store).model_dump_json().encode()
    with _lock:
        _entries[key] = (store, body)
        while len(_entries) > _MAX_ENTRIES:
            _entries.popitem(last=False)
    return body


def store_response(store: Store, status_code: int = 200, **headers: str) -> Response:
    return Response(
        store_json(store), status_code=status_code, media_type="application/json", headers=headers
    )


def page_response(page: StorePage) -> Response:
    """:func:`stores_response` of a page, its whole body made once per page object: the
    repository's read caches hand out the *same* ``StorePage`` while nothing changed, so a
    dashboard polling a page costs one dictionary lookup here (identity, as for a store)."""
    key = id(page)
    with _lock:
        entry = _pages.get(key)
        if entry is not None and entry[0] is page:
            _pages.move_to_end(key)
            return Response(entry[1], media_type="application/json")
    body = _stores_body(page.items, count=page.count, next_cursor=page.next_cursor)
    with _lock:
        _pages[key] = (page, body)
        while len(_pages) > _MAX_PAGES:
            _pages.popitem(last=False)
    return Response(body, media_type="application/json")


def stores_response(items: list[Store], **fields: Any) -> Response:
    """A ``StoresPublic`` body: ``items`` from the cache, the other fields as the model
    serialises them (``items`` is its first field, so the empty list is the first ``[]``)."""
    return Response(_stores_body(items, **fields), media_type="application/json")


def _stores_body(items: list[Store], **fields: Any) -> bytes:
    shell = StoresPublic(items=[], **fields).model_dump_json().encode()
    head, marker, tail = shell.partition(b'"items":[]')
    if not marker:  # pragma: no cover - the model's shape changed; stay correct, if slower
        return (
            StoresPublic(items=[StorePublic.from_domain(s) for s in items], **fields)
            .model_dump_json()
            .encode()
        )
    return b"".join((head, b'"items":[', b",".join(store_json(s) for s in items), b"]", tail))
