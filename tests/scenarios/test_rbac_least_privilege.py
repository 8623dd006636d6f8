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

from tests.scenarios.rbac_journey import (
    JourneyResult,
    SimProcess,
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
    resources = rule["resources"]
    shown = ", ".join(resources) if len(resources) <= 2 else f"{resources[0]} and the core kinds"
    return f"without {'/'.join(rule['verbs'])} on {shown} the journey stops at a refused call"


JOURNEY = ["provision", "heal drift", "recreate namespace", "change plan", "delete",
           "verify residue"]  # fmt: skip


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimProcess]:
    """``storeplane sim --rbac`` with short delays, as its own process."""
    running = SimProcess.start(
        tmp_path_factory.mktemp("rbac-sim"), "--ready-delay", "0.05", "--terminate-delay", "0.05"
    )
    try:
        yield running
    finally:
        running.stop()


Variant = tuple[int, str] | None  # None: the role as rendered; (rule, "") or (rule, verb) removed

# STOREPLANE_RBAC_EVERY_VERB=1 also removes each verb of each rule alone (about 40 more
# journeys; a few minutes on a busy 2-core machine, so not in the default run).
EVERY_VERB = os.environ.get("STOREPLANE_RBAC_EVERY_VERB") == "1"
VERBS = [(i, verb) for i, rule in enumerate(RULES) if len(rule["verbs"]) > 1
         for verb in rule["verbs"]]  # fmt: skip


def _without(variant: Variant) -> list[dict[str, Any]]:
    if variant is None:
        return RULES
    index, verb = variant
    if not verb:
        return [r for i, r in enumerate(RULES) if i != index]
    rule = {**RULES[index], "verbs": [v for v in RULES[index]["verbs"] if v != verb]}
    return [rule if i == index else r for i, r in enumerate(RULES)]


@pytest.fixture(scope="module")
def journeys(sim: SimProcess) -> dict[Variant, JourneyResult]:
    """One journey per variant of the chart's ClusterRole (as rendered, and with each rule
    removed), each as its own ServiceAccount, all at once in the one simulator."""
    objects = asyncio.run(platform_rbac())
    variants: list[Variant] = [None, *((i, "") for i in range(len(RULES)))]
    variants += VERBS if EVERY_VERB else []
    tokens: dict[Variant, str] = {}
    with admin_client(sim) as admin:
        for n, variant in enumerate(variants):
            suffix = "" if variant is None else f"-variant-{n}"
            namespace, name = install_identity(admin, objects, suffix, _without(variant))
            tokens[variant] = token_for(admin, namespace, name)
    workdir = Path(tempfile.mkdtemp(prefix="rbac-journeys-"))

    async def run_all() -> list[JourneyResult]:
        # Healing drift proves only watch (a verb-level matter): the rule variants skip it.
        return await asyncio.gather(
            *(
                run_journey(sim, t, workdir, drift=v is None or EVERY_VERB)
                for v, t in tokens.items()
            )
        )

    return dict(zip(tokens, asyncio.run(run_all()), strict=True))


def test_the_platform_service_account_runs_a_whole_store_journey(
    journeys: dict[Variant, JourneyResult], sim: SimProcess
) -> None:
    result = journeys[None]
    assert result.failed_step is None, f"{result.failed_step}: {result.message}"
    assert result.cache_used, "the watches never synced: the journey proved only live reads"
    assert result.steps == JOURNEY
    assert {"NamespaceCreated", "PoliciesApplied", "WorkloadsApplied", "DriftCorrected",
            "ResidueFound", "TeardownVerified"} <= set(result.reasons)  # fmt: skip


def _check_refused(result: JourneyResult, rule: dict[str, Any], what: str) -> None:
    assert result.failed_step is not None, f"the journey passed without {what}: not needed"
    # The refusal is the API server's, and names a resource the removed grant covered.
    assert "forbid" in result.message and "403" in result.message, result.message
    named = [r for r in rule["resources"] if r.split("/")[0] in result.message]
    assert named, f"{result.failed_step}: {result.message} names nothing of {rule}"
    # ...and the step says where: the first step of the journey that needs it.
    assert result.failed_step.split(":")[0] in JOURNEY, result.failed_step


@pytest.mark.parametrize("index", range(len(RULES)), ids=[_rule_id(r) for r in RULES])
def test_every_rule_of_the_cluster_role_is_needed(
    journeys: dict[Variant, JourneyResult], index: int
) -> None:
    _check_refused(journeys[(index, "")], RULES[index], str(RULES[index]))


@pytest.mark.skipif(not EVERY_VERB, reason="set STOREPLANE_RBAC_EVERY_VERB=1 (minutes)")
@pytest.mark.parametrize(("index", "verb"), VERBS if EVERY_VERB else [(0, "")],
                         ids=[f"without {v} on {', '.join(RULES[i]['resources'][:2])} the "
                              "journey stops" for i, v in VERBS] if EVERY_VERB else ["each verb"])  # fmt: skip
def test_every_verb_of_every_rule_is_needed(
    journeys: dict[Variant, JourneyResult], index: int, verb: str
) -> None:
    result = journeys[(index, verb)]
    if verb != "watch":
        _check_refused(result, RULES[index], f"{verb} on {RULES[index]}")
        return
    # Without watch only the watcher is refused (it logs the 403 and retries): the cache it
    # feeds goes stale and the store is stuck at a step, with no refusal in its conditions.
    assert result.cache_used, "inconclusive: the watcher never listed every kind in time"
    if RULES[index]["resources"] == ["pods"]:
        # Pods are watched only so a stuck workload can name its pod; a journey whose
        # workloads all start never reads them from the cache.
        pytest.xfail("the journey has no stuck pod to name")
    assert result.failed_step is not None, f"the journey passed without watch on {RULES[index]}"
    assert "stuck" in result.failed_step, result.failed_step


def test_a_token_without_rights_fails_the_journey_at_its_first_call(
    sim: SimProcess,
) -> None:
    with admin_client(sim) as admin:
        admin.post("/api/v1/namespaces/storeplane/serviceaccounts",
                   json={"metadata": {"name": "nobody"}}).raise_for_status()  # fmt: skip
        token = token_for(admin, "storeplane", "nobody")
    result = asyncio.run(run_journey(sim, token, Path(tempfile.mkdtemp(prefix="rbac-none-"))))
    assert result.failed_step == "provision: Forbidden"
    assert 'User "system:serviceaccount:storeplane:nobody" cannot' in result.message
