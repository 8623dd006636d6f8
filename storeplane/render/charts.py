"""Where the engine charts live.

``CHARTS_DIR`` is the repository's ``charts/`` folder unless the environment variable
``STOREPLANE_CHARTS_DIR`` names another one (read once, at import). The engine registry and
the reconciler call ``chart_path`` with an engine's chart name (``medusa-store``,
``woocommerce-store``) to get the folder to render.
"""

from __future__ import annotations

import os
from pathlib import Path

from storeplane.domain.errors import TerminalError

REPO_ROOT = Path(__file__).resolve().parent.parent.parent
"""The repository root: the parent of the ``storeplane`` package folder."""

CHARTS_DIR = Path(os.environ.get("STOREPLANE_CHARTS_DIR") or REPO_ROOT / "charts")


class ChartNotFoundError(TerminalError):
    """No chart of that name in the charts folder."""

    def __init__(self, message: str) -> None:
        super().__init__(message, reason="ChartNotFound")


def chart_path(engine_chart_name: str, charts_dir: Path | None = None) -> Path:
    """Return the folder of the chart ``engine_chart_name`` under ``charts_dir`` (default
    ``CHARTS_DIR``).

    Raises ``ChartNotFoundError`` when the name is not a plain folder name or the folder has no
    ``Chart.yaml``; the message lists the charts that do exist.
    """
    base = charts_dir if charts_dir is not None else CHARTS_DIR
    if not engine_chart_name or engine_chart_name in {".", ".."} or "/" in engine_chart_name:
        raise ChartNotFoundError(
            f"invalid chart name {engine_chart_name!r}: expected a folder name under {base}"
        )
    path = base / engine_chart_name
    if not (path / "Chart.yaml").is_file():
        available = (
            sorted(p.name for p in base.iterdir() if (p / "Chart.yaml").is_file())
            if base.is_dir()
            else []
        )
        raise ChartNotFoundError(
            f"chart {engine_chart_name!r} not found: {path}/Chart.yaml does not exist "
            f"(charts in {base}: {', '.join(available) or 'none'}). "
            "Set STOREPLANE_CHARTS_DIR to the folder holding the engine charts."
        )
    return path
