"""Fixtures of the whole-journey tests: a ``storeplane dev`` per test on each database, and the
session's shared real-Medusa dev and stores (tests/real_medusa.py says how to use them)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests import real_medusa
from tests.scenarios.dev_process import DevProcess


@pytest.fixture
def dev(db_url: str, tmp_path: Path) -> Iterator[DevProcess]:
    """A running ``storeplane dev`` on SQLite, then on PostgreSQL (see ``db_url``)."""
    process = DevProcess(tmp_path / "data", db_url).start()
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture(scope="session")
def real_dev(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevProcess]:
    """The session's one ``storeplane dev`` with local runtimes (real Medusa stores)."""
    yield from real_medusa.real_dev_fixture(tmp_path_factory)


@pytest.fixture(scope="session")
def real_shop(real_dev: DevProcess) -> dict[str, Any]:
    """A Ready real Medusa store at the default version, shared; left Ready by every journey
    but the one marked ``deletes_real_shop`` (run last)."""
    return real_medusa.shop_fixture(real_dev)


@pytest.fixture(scope="session")
def old_real_shop(real_dev: DevProcess) -> dict[str, Any]:
    """A Ready real Medusa store at 2.20.1, for the upgrade journey."""
    return real_medusa.old_shop_fixture(real_dev)
