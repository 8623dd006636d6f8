"""Turn an engine's Helm chart and a store's values into Kubernetes objects.

The reconciler calls this package (through ``render`` and its cache) when it applies a
store's workloads: it picks the engine chart with ``chart_path``, computes the values from
the store's spec and plan, and gets back plain dicts that the cluster adapter applies with
server-side apply and uses to prune what is no longer rendered.

Rendering is done by the official helm binary (``helm template``), never re-implemented:
``find_helm`` locates it (``HELM_BIN``, ``PATH``, then ``<repo>/.tools/bin/helm`` installed
by ``scripts/install-tools.sh``). Failures are ``TerminalError``s from the domain error tree
(a missing helm, a missing chart, values the chart's schema rejects) except a helm run that
times out, which is a ``RetryableError``.
"""

from storeplane.render.cache import RenderCache, default_cache, render
from storeplane.render.charts import CHARTS_DIR, ChartNotFoundError, chart_path
from storeplane.render.helm import (
    HelmNotFoundError,
    RenderError,
    RenderTimeoutError,
    find_helm,
    lint_chart,
    render_chart,
)

__all__ = [
    "CHARTS_DIR",
    "ChartNotFoundError",
    "HelmNotFoundError",
    "RenderCache",
    "RenderError",
    "RenderTimeoutError",
    "chart_path",
    "default_cache",
    "find_helm",
    "lint_chart",
    "render",
    "render_chart",
]
