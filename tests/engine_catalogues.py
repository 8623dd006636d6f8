"""Engine catalogues for tests: the shipped one's Medusa versions A and B, plus versions made
for a test (one whose migration Job fails, for instance), written to a file that a test passes
as ``Settings(engine_catalogue=...)`` / ``STOREPLANE_ENGINE_CATALOGUE`` or
``ReconcileContext(catalogue=load_catalogue(path))``.

    A = "2.20.1" (upgrades to B), B = "2.21.2" (the default)
    write_catalogue(tmp_path / "catalogue.yaml", extra=(failing_version(),))
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from storeplane.engines.catalogue import SHIPPED_CATALOGUE

A = "2.20.1"
B = "2.21.2"
FAILING = "2.21.3-failing"
# The image tag of FAILING: no build has it; a test's runtime table gives it a migration
# command that exits 1 (tests/reconciler/test_upgrade_failure.py).
FAILING_TAG = "2.21.3-failing"


def failing_version(
    version: str = FAILING, *, upgrades_from: tuple[str, ...] = (A, B)
) -> dict[str, Any]:
    """A Medusa version whose image is ``FAILING_TAG`` and whose migration Job gives up after
    its first failed pod (backoffLimit 0, so a test does not wait for the Job's back-off)."""
    return {
        "version": version,
        "chart_version": "0.1.0",
        "images": {"medusa": FAILING_TAG},
        "upgrades_from": list(upgrades_from),
        "schema_migrations": True,
        "values": {"migrations": {"backoffLimit": 0}},
    }


def write_catalogue(path: Path, *, extra: tuple[dict[str, Any], ...] = ()) -> Path:
    """The shipped catalogue with ``extra`` Medusa versions added, written to ``path``."""
    raw = yaml.safe_load(SHIPPED_CATALOGUE.read_text())
    raw["engines"]["medusa"]["versions"].extend(extra)
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return path
