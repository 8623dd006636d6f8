"""``StoreRowReader``: read ``stores`` rows raw and map each distinct row to a ``Store`` once.

Used by :class:`storeplane.db.repository.SqlStoreRepository` on the API's read path (``get``
and ``list_page``). Converting a row costs far more than reading it: six datetime columns
parsed, the conditions' JSON decoded, and a frozen ``Store`` with its ``StoreSpec`` and six
``Condition`` values built (about 30 µs per store, most of a 50-store page). A dashboard or a
script reads the same unchanged stores again and again, so the reader selects every column
*without* SQLAlchemy's result processing (datetimes as the driver gives them, the conditions
as JSON text) and uses that raw tuple as the cache key: a row that changed in any column is a
different key, so there is nothing to invalidate and no process can see a stale store.
Only a miss runs the columns' own result processors and ``store_from_row``.

The ``Store`` objects are frozen and shared: callers must not (and cannot) mutate them. An
unchanged store is the *same* object on every read, which lets the API cache its JSON by
identity (:mod:`storeplane.api.fastjson`).
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Callable, Sequence
from threading import Lock
from typing import Any

from sqlalchemy import JSON, Column, Dialect, Text, cast, type_coerce
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.types import NullType

from storeplane.db.mapping import store_from_row
from storeplane.db.tables import stores
from storeplane.domain.store import Store

# JSON columns are read as text (the key must be hashable; decoding is the cost to skip):
# every one of them (conditions, labels...), or PostgreSQL's JSONB dict makes the key unhashable.
_JSON_COLUMNS = frozenset(c.name for c in stores.c if isinstance(c.type, JSON))


class StoreRowReader:
    """The raw select list of ``stores`` and a bounded map from raw row to ``Store``."""

    def __init__(self, max_entries: int = 20_000) -> None:
        self.max_entries = max_entries
        self.names = [column.name for column in stores.c]
        self.columns: list[ColumnElement[Any]] = [_raw(column) for column in stores.c]
        self._processors: dict[str, list[Callable[[Any], Any] | None]] = {}
        self._entries: OrderedDict[tuple[Any, ...], Store] = OrderedDict()
        self._lock = Lock()
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._entries)

    def stores(self, rows: Sequence[Sequence[Any]], dialect: Dialect) -> list[Store]:
        """The ``Store`` of each raw row (selected with :attr:`columns`), in order."""
        found: list[Store] = []
        entries = self._entries
        for row in rows:
            key = tuple(row)
            with self._lock:
                store = entries.get(key)
                if store is not None:
                    entries.move_to_end(key)
                    self.hits += 1
            if store is None:
                store = self._convert(key, dialect)
                with self._lock:
                    self.misses += 1
                    entries[key] = store
                    while len(entries) > self.max_entries:
                        entries.popitem(last=False)
            found.append(store)
        return found

    def _convert(self, row: tuple[Any, ...], dialect: Dialect) -> Store:
        processors = self._processors.get(dialect.name)
        if processors is None:
            processors = self._processors[dialect.name] = [
                _processor(column, dialect) for column in stores.c
            ]
        values: dict[str, Any] = {}
        for name, processor, value in zip(self.names, processors, row, strict=True):
            values[name] = processor(value) if processor is not None else value
        return store_from_row(values)  # type: ignore[arg-type]


def _raw(column: Column[Any]) -> ColumnElement[Any]:
    if column.name in _JSON_COLUMNS:
        return cast(column, Text).label(column.name)
    return type_coerce(column, NullType()).label(column.name)


def _processor(column: Column[Any], dialect: Dialect) -> Callable[[Any], Any] | None:
    """What SQLAlchemy would have done to this column's raw value on ``dialect``."""
    if column.name in _JSON_COLUMNS:
        return lambda text: None if text is None else json.loads(text)
    processor: Callable[[Any], Any] | None = column.type._cached_result_processor(dialect, None)
    return processor
