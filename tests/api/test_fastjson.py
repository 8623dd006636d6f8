"""The read path's bytes (storeplane/api/fastjson.py) are the schemas' own JSON, and a page's
cached body belongs to that page object only."""

from __future__ import annotations

from dataclasses import replace

from storeplane.api.fastjson import page_response, store_response
from storeplane.api.schemas import StorePublic, StoresPublic
from storeplane.domain.ports import StorePage
from tests.db.helpers import make_store


def _model_bytes(page: StorePage) -> bytes:
    return (
        StoresPublic(
            items=[StorePublic.from_domain(s) for s in page.items],
            count=page.count,
            next_cursor=page.next_cursor,
        )
        .model_dump_json()
        .encode()
    )


def test_a_page_body_is_the_models_bytes_and_is_made_once_per_page_object() -> None:
    stores = [make_store(f"shop-{n}") for n in range(3)]
    page = StorePage(items=stores, count=7, next_cursor="abc")
    first = page_response(page).body
    assert first == _model_bytes(page)
    assert page_response(page).body is first  # the same page object: the cached bytes

    other = StorePage(items=stores[:2], count=7, next_cursor=None)  # equal stores, new page
    assert page_response(other).body == _model_bytes(other) != first


def test_a_store_body_is_the_models_bytes_and_a_changed_store_gets_its_own() -> None:
    store = make_store("one-shop")
    assert store_response(store).body == StorePublic.from_domain(store).model_dump_json().encode()
    changed = replace(store, url="http://changed.localtest.me")
    assert b"changed.localtest.me" in bytes(store_response(changed).body)
