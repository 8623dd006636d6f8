"""Least privilege, proven: the RBAC objects the platform chart renders, applied to a
simulator with RBAC, let storeplane's own ServiceAccount run a whole store journey; and with
any one rule of its ClusterRole removed the journey stops at a step whose refused call names
what the rule granted.

All journeys share one simulator and run at once (one store each, short delays), each
stopping at its first failure, so the whole module takes a few seconds."""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from storeplane.sim.runner import RunningSimulator, SimulatorConfig, start_in_thread
from tests.scenarios.rbac_journey import (
    JourneyResult,
    admin_client,
    install_identity,
    platform_rbac,
    run_journey,
    token_for,
)

REPO = Path(__file__).resolve().parents[2]
os.environ["PATH"] = f"{REPO / '.tools' / 'bin'}:{os.environ['PATH']}"


def _rules() -> list[dict[str, Any]]:
    objects = asyncio.run(platform_rbac())
    [role] = [o for o in objects if o["kind"] == "ClusterRole"]
    return list(role["rules"])


RULES = _rules()


def _rule_id(rule: dict[str, Any]) -> str:
    return (
        f"without the rule for {', '.join(rule['resources'])} the journey stops at a refused call"
    )


@pytest.fixture(scope="module")
def sim() -> Iterator[RunningSimulator]:
    config = SimulatorConfig(rbac=True, ready_delay=0.1, terminate_delay=0.05)
    with start_in_thread(config) as running:
        yield running


@pytest.fixture(scope="module")
def journeys(sim: RunningSimulator) -> dict[int | None, JourneyResult]:
    """One journey with the chart's ClusterRole as rendered (key None) and one per rule
    removed (key: the rule's index), all at once in the one simulator."""
    objects = asyncio.run(platform_rbac())
    tokens: dict[int | None, str] = {}
    with admin_client(sim) as admin:
        for drop in [None, *range(len(RULES))]:
            suffix = "" if drop is None else f"-without-{drop}"
            namespace, name = install_identity(admin, objects, suffix, drop)
            tokens[drop] = token_for(admin, namespace, name)
    workdir = Path(tempfile.mkdtemp(prefix="rbac-journeys-"))

    async def run_all() -> list[JourneyResult]:
        return await asyncio.gather(*(run_journey(sim, t, workdir) for t in tokens.values()))

    return dict(zip(tokens, asyncio.run(run_all()), strict=True))


def test_the_platform_service_account_runs_a_whole_store_journey(
    journeys: dict[int | None, JourneyResult], sim: RunningSimulator
) -> None:
    result = journeys[None]
    assert result.failed_step is None, f"{result.failed_step}: {result.message}"
    assert result.steps == ["provision", "change plan", "delete", "verify residue"]
    assert {"NamespaceCreated", "PoliciesApplied", "WorkloadsApplied", "TeardownVerified"} <= set(
        result.reasons
    )


@pytest.mark.parametrize("index", range(len(RULES)), ids=[_rule_id(r) for r in RULES])
def test_every_rule_of_the_cluster_role_is_needed(
    journeys: dict[int | None, JourneyResult], index: int
) -> None:
    rule = RULES[index]
    result = journeys[index]
    assert result.failed_step is not None, f"the journey passed without {rule}: not needed"
    # The refusal is the API server's, and names a resource the removed rule granted.
    assert "forbid" in result.message and "403" in result.message, result.message
    named = [r for r in rule["resources"] if f"{r.split('/')[0]}" in result.message]
    assert named, f"{result.failed_step}: {result.message} names nothing of {rule}"
    # ...and the step says where: the first step of the journey that needs the rule.
    assert result.failed_step.startswith("provision"), result.failed_step


def test_a_token_without_rights_fails_the_journey_at_its_first_call(
    sim: RunningSimulator,
) -> None:
    with admin_client(sim) as admin:
        admin.post("/api/v1/namespaces/storeplane/serviceaccounts",
                   json={"metadata": {"name": "nobody"}}).raise_for_status()  # fmt: skip
        token = token_for(admin, "storeplane", "nobody")
    result = asyncio.run(run_journey(sim, token, Path(tempfile.mkdtemp(prefix="rbac-none-"))))
    assert result.failed_step == "provision: Forbidden"
    assert 'User "system:serviceaccount:storeplane:nobody" cannot' in result.message
