"""A bounded cache of rendered charts, so that a resync of thousands of unchanged stores does
not start thousands of helm processes.

The reconciler calls ``render`` (or a ``RenderCache`` of its own) every time it applies a
store's workloads. An entry is keyed by what determines helm's output:

- the chart's content digest (SHA-256 over every file's relative path and bytes under the
  chart folder), computed once per chart folder and memoised: charts are part of the
  deployed code and do not change under a running process. Call ``forget_charts`` (tests,
  a development reload) when they do;
- the release name and namespace;
- the canonical JSON of the values (sorted keys), hashed;
- the helm binary used.

Entries are evicted least recently used first. Callers get fresh deep copies every time
(entries are kept as JSON text), so mutating a result never corrupts the cache.
Two concurrent misses of the same key both run helm; the results are identical, so this
costs time, not correctness (the reconciler works on one store at a time anyway).
"""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from storeplane.render.helm import find_helm, render_chart

CacheKey = tuple[str, str, str, str, str]


def chart_digest(chart_dir: Path) -> str:
    """SHA-256 over the relative path and content of every file under ``chart_dir``, in a
    stable order. Any change to any file (values.yaml, schema, a template) changes it."""
    digest = hashlib.sha256()
    for path in sorted(p for p in chart_dir.rglob("*") if p.is_file()):
        relative = path.relative_to(chart_dir).as_posix().encode()
        content = path.read_bytes()
        # Lengths first, so that no two different trees hash the same byte stream.
        digest.update(f"{len(relative)}:{len(content)}:".encode())
        digest.update(relative)
        digest.update(content)
    return digest.hexdigest()


def values_digest(values: Mapping[str, Any]) -> str:
    """SHA-256 of the canonical JSON of ``values`` (sorted keys, no whitespace)."""
    canonical = json.dumps(values, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


class RenderCache:
    """LRU cache in front of ``render_chart``.

    ``renders`` counts the times helm was actually run (misses that rendered successfully or
    not), ``hits`` the answers served from the cache. Failures are not cached: a fixed chart or
    values render on the next call.
    """

    def __init__(self, max_entries: int = 2048) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self.max_entries = max_entries
        self.renders = 0
        self.hits = 0
        self._entries: OrderedDict[CacheKey, str] = OrderedDict()
        self._chart_digests: dict[Path, str] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def chart_digest(self, chart_dir: Path) -> str:
        """The memoised content digest of ``chart_dir`` (see ``chart_digest``)."""
        key = chart_dir.resolve()
        digest = self._chart_digests.get(key)
        if digest is None:
            digest = self._chart_digests[key] = chart_digest(key)
        return digest

    def forget_charts(self) -> None:
        """Drop the memoised chart digests, so that edited charts are hashed again."""
        self._chart_digests.clear()

    def clear(self) -> None:
        """Drop every entry and memoised digest; the counters are kept."""
        self._entries.clear()
        self._chart_digests.clear()

    async def render(
        self,
        chart_dir: Path,
        release: str,
        namespace: str,
        values: Mapping[str, Any],
        *,
        helm_bin: str | None = None,
        timeout: float = 60,
    ) -> list[dict[str, Any]]:
        """Same contract as ``render_chart``, answered from the cache when possible. The
        returned objects are the caller's to mutate."""
        helm = helm_bin or find_helm()
        key: CacheKey = (
            self.chart_digest(chart_dir),
            release,
            namespace,
            values_digest(values),
            helm,
        )
        cached = self._entries.get(key)
        if cached is not None:
            self._entries.move_to_end(key)
            self.hits += 1
            return _load(cached)
        self.renders += 1
        objects = await render_chart(
            chart_dir, release, namespace, values, helm_bin=helm, timeout=timeout
        )
        self._entries[key] = json.dumps(objects)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)
        return _load(self._entries[key])


def _load(text: str) -> list[dict[str, Any]]:
    objects: list[dict[str, Any]] = json.loads(text)
    return objects


_default_cache = RenderCache()


def default_cache() -> RenderCache:
    """The process-wide cache used by ``render``."""
    return _default_cache


async def render(
    chart_dir: Path,
    release: str,
    namespace: str,
    values: Mapping[str, Any],
    *,
    helm_bin: str | None = None,
    timeout: float = 60,
    cache: RenderCache | None = None,
) -> list[dict[str, Any]]:
    """Render through ``cache`` (default: the process-wide one). See ``RenderCache.render``."""
    target = cache if cache is not None else _default_cache  # an empty cache is falsy
    return await target.render(
        chart_dir, release, namespace, values, helm_bin=helm_bin, timeout=timeout
    )
