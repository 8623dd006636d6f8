"""Fixtures of the chart tests: the real helm binary, each case, its rendered objects.

A missing helm fails these tests instead of skipping them: CI installs helm with
scripts/install-tools.sh, and a silent skip would hide a broken setup.
"""

from __future__ import annotations

from typing import Any

import pytest
from chart_cases import CASES, Case, render_values

from storeplane.render import HelmNotFoundError, find_helm


@pytest.fixture(scope="session")
def helm_bin() -> str:
    try:
        return find_helm()
    except HelmNotFoundError as exc:
        pytest.fail(f"the chart tests need the real helm binary: {exc}", pytrace=False)


@pytest.fixture(params=CASES, ids=[case.id for case in CASES])
def case(request: pytest.FixtureRequest) -> Case:
    param: Case = request.param
    return param


@pytest.fixture
def objects(helm_bin: str, case: Case) -> list[dict[str, Any]]:
    rendered: list[dict[str, Any]] = render_values(helm_bin, case.chart, case.values())
    return rendered
