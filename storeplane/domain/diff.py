"""Drift detection: does a live object still carry everything storeplane applied?

Storeplane owns only the fields it sets. The API server adds defaults, status and metadata, so
"in sync" means the desired manifest is a *subset* of the live one: every map key storeplane
set has an equal value, every list has the same length with matching items. Fields added by
the server or by other managers are ignored.
"""

from __future__ import annotations

from typing import Any

# Metadata written by the server, never by storeplane; ignored when comparing.
_SERVER_METADATA = frozenset(
    {"uid", "resourceVersion", "generation", "creationTimestamp", "managedFields", "selfLink"}
)


def is_subset(desired: Any, live: Any) -> bool:
    """True when every value in ``desired`` is present and equal in ``live``."""
    if isinstance(desired, dict):
        if not isinstance(live, dict):
            return False
        return all(k in live and is_subset(v, live[k]) for k, v in desired.items())
    if isinstance(desired, list):
        if not isinstance(live, list) or len(desired) != len(live):
            return False
        return all(is_subset(d, v) for d, v in zip(desired, live, strict=True))
    if isinstance(desired, bool) or isinstance(live, bool):
        return desired is live
    if isinstance(desired, int | float) and isinstance(live, int | float):
        return desired == live
    return desired == live or str(desired) == str(live)


def in_sync(
    desired: dict[str, Any], live: dict[str, Any], *, ignore: frozenset[str] = frozenset()
) -> bool:
    """Compare a desired manifest with its live object; top-level keys in ``ignore`` are skipped
    (e.g. ``data`` of a generated Secret, which is created once and never compared)."""
    for key, value in desired.items():
        if key in ignore:
            continue
        if key == "metadata":
            meta = {k: v for k, v in value.items() if k not in _SERVER_METADATA}
            if not is_subset(meta, live.get("metadata", {})):
                return False
        elif not is_subset(value, live.get(key)):
            return False
    return True
