"""Structured logs: one JSON object per line, with the store id and reconcile id of the pass
that wrote it (set by the reconcile loop through context variables), or readable text.

``configure("json")`` is what ``storeplane serve`` uses (collectors parse it);
``storeplane dev`` defaults to ``text``. Both carry the same fields.
"""

from __future__ import annotations

import json
import logging
import sys
from contextvars import ContextVar
from datetime import UTC, datetime

STORE_ID: ContextVar[str | None] = ContextVar("store_id", default=None)
RECONCILE_ID: ContextVar[str | None] = ContextVar("reconcile_id", default=None)

_NOISY = ("httpx", "httpx2", "httpcore", "uvicorn.access", "alembic.runtime.migration")


class _ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "store_id"):
            record.store_id = STORE_ID.get()
        if not hasattr(record, "reconcile_id"):
            record.reconcile_id = RECONCILE_ID.get()
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "store_id": getattr(record, "store_id", None),
            "reconcile_id": getattr(record, "reconcile_id", None),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        base = super().format(record)
        store = getattr(record, "store_id", None)
        return f"{base} [{store} {getattr(record, 'reconcile_id', '')}]" if store else base


def configure(fmt: str = "json", *, verbose: bool = False) -> None:
    """Send every log line to stderr in ``fmt`` ("json" or "text")."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(_ContextFilter())
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(TextFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    for name in _NOISY:
        logging.getLogger(name).setLevel(logging.WARNING)
    # uvicorn installs its own handlers; route them through ours so every line has one format.
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
