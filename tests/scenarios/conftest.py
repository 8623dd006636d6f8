from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.scenarios.dev_process import DevProcess


@pytest.fixture
def dev(db_url: str, tmp_path: Path) -> Iterator[DevProcess]:
    """A running ``storeplane dev`` on SQLite, then on PostgreSQL (see ``db_url``)."""
    process = DevProcess(tmp_path / "data", db_url).start()
    try:
        yield process
    finally:
        process.stop()
