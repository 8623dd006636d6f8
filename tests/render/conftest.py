"""Fixtures of the render tests: the real helm binary.

A missing helm fails these tests instead of skipping them: CI installs helm with
scripts/install-tools.sh, and a silent skip would hide a broken setup.
"""

from __future__ import annotations

from typing import Any

import pytest

from storeplane.render import HelmNotFoundError, find_helm


@pytest.fixture(scope="session")
def helm_bin() -> str:
    try:
        return find_helm()
    except HelmNotFoundError as exc:
        pytest.fail(f"the render tests need the real helm binary: {exc}", pytrace=False)


@pytest.fixture
def store_values() -> dict[str, Any]:
    return {"store": {"id": "store-ab12cd34", "name": "My Shop", "plan": "small"}}
