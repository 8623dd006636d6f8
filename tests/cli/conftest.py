"""Fixtures of the CLI tests: one real ``storeplane dev`` per module (see tests/cli/run.py for
running the command itself)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.cli.run import READY_DELAY
from tests.scenarios.dev_process import DevProcess


@pytest.fixture(scope="module")
def dev(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevProcess]:
    process = DevProcess(tmp_path_factory.mktemp("dev"), None, ready_delay=READY_DELAY)
    process.start()
    try:
        yield process
    finally:
        process.stop()
