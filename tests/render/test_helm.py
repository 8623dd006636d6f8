"""The helm runner, the chart lookup and the render cache, against the real helm binary."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from storeplane.domain.errors import RetryableError, TerminalError
from storeplane.render import (
    ChartNotFoundError,
    HelmNotFoundError,
    RenderCache,
    RenderError,
    RenderTimeoutError,
    chart_path,
    find_helm,
    lint_chart,
    render,
    render_chart,
)
from storeplane.render import helm as helm_module
from storeplane.render.charts import REPO_ROOT

NAMESPACE = "store-ab12cd34"
EXPECTED_OBJECTS = {
    "medusa-store": {
        ("Deployment", "medusa-server"),
        ("Deployment", "medusa-worker"),
        ("Job", "medusa-migrate-*"),
        ("Job", "medusa-seed-*"),
        ("Service", "medusa-server"),
        ("StatefulSet", "medusa-postgres"),
        ("Service", "medusa-postgres"),
        ("Deployment", "medusa-redis"),
        ("Service", "medusa-redis"),
        ("Ingress", "medusa-server"),
        ("PersistentVolumeClaim", "medusa-uploads"),
    },
    "woocommerce-store": {
        ("Deployment", "woocommerce-wordpress"),
        ("Service", "woocommerce-wordpress"),
        ("PersistentVolumeClaim", "woocommerce-wp-content"),
        ("StatefulSet", "woocommerce-mariadb"),
        ("Service", "woocommerce-mariadb"),
        ("Ingress", "woocommerce-wordpress"),
        ("ConfigMap", "woocommerce-setup"),
        ("NetworkPolicy", "woocommerce-setup-egress"),
        ("Job", "woocommerce-setup-*"),
    },
}
# Jobs are named after a hash of their pod template (a new rollout is a new Job); the tests
# compare those by prefix.
HASHED_JOB_PREFIXES = ("medusa-migrate-", "medusa-seed-", "woocommerce-setup-")


def _shape(kind: str, name: str) -> tuple[str, str]:
    if kind == "Job":
        for prefix in HASHED_JOB_PREFIXES:
            if name.startswith(prefix):
                return kind, prefix + "*"
    return kind, name


# --- rendering -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "chart",
    ["medusa-store", "woocommerce-store"],
    ids=["the medusa chart renders its objects", "the woocommerce chart renders its objects"],
)
async def test_render_chart_returns_plain_objects(
    helm_bin: str, store_values: dict[str, Any], chart: str
) -> None:
    objects = await render_chart(
        chart_path(chart), "store", NAMESPACE, store_values, helm_bin=helm_bin
    )
    assert {_shape(obj["kind"], obj["metadata"]["name"]) for obj in objects} == EXPECTED_OBJECTS[
        chart
    ]
    assert all(type(obj) is dict for obj in objects)


async def test_schema_violation_surfaces_helms_message(
    helm_bin: str, store_values: dict[str, Any]
) -> None:
    store_values["store"]["plan"] = "gigantic"
    with pytest.raises(RenderError) as caught:
        await render_chart(
            chart_path("medusa-store"), "store", NAMESPACE, store_values, helm_bin=helm_bin
        )
    error = caught.value
    assert isinstance(error, TerminalError)
    assert error.reason == "RenderFailed"
    assert error.chart == str(chart_path("medusa-store"))
    assert "/store/plan" in error.stderr
    assert "'small', 'medium', 'large'" in error.stderr
    assert error.stderr in str(error), "a person must read helm's words in the message"


async def test_a_template_error_surfaces_helms_message(helm_bin: str, tmp_path: Path) -> None:
    chart = tmp_path / "broken"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: broken\nversion: 0.1.0\n")
    (chart / "templates" / "cm.yaml").write_text('{{ required "set .Values.must" .Values.must }}\n')
    with pytest.raises(RenderError, match=re.escape("set .Values.must")):
        await render_chart(chart, "store", NAMESPACE, {}, helm_bin=helm_bin)


async def test_empty_documents_are_dropped(helm_bin: str, tmp_path: Path) -> None:
    chart = tmp_path / "sparse"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: sparse\nversion: 0.1.0\n")
    (chart / "templates" / "cm.yaml").write_text(
        "---\n# only a comment\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n"
        "data:\n  when: 2024-01-01\n---\n"
    )
    (chart / "templates" / "off.yaml").write_text("{{- if .Values.on }}\nkind: Nope\n{{- end }}\n")
    objects = await render_chart(chart, "store", NAMESPACE, {}, helm_bin=helm_bin)
    assert objects == [
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "a"},
            "data": {"when": "2024-01-01"},
        }
    ], "timestamps stay strings, as the API server reads them"


async def test_a_render_that_takes_too_long_is_retryable(
    helm_bin: str, store_values: dict[str, Any]
) -> None:
    with pytest.raises(RenderTimeoutError) as caught:
        await render_chart(
            chart_path("medusa-store"),
            "store",
            NAMESPACE,
            store_values,
            helm_bin=helm_bin,
            timeout=0,
        )
    assert isinstance(caught.value, RetryableError)


async def test_lint_accepts_good_values_and_reports_bad_ones(
    helm_bin: str, store_values: dict[str, Any]
) -> None:
    await lint_chart(chart_path("woocommerce-store"), store_values, helm_bin=helm_bin)
    with pytest.raises(RenderError, match="/store/name") as caught:
        await lint_chart(
            chart_path("woocommerce-store"), {"store": {"id": "store-x"}}, helm_bin=helm_bin
        )
    assert "could not lint" in str(caught.value)


# --- finding helm --------------------------------------------------------------------------


def test_helm_bin_pointing_to_a_missing_file_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    missing = tmp_path / "no-such-helm"
    monkeypatch.setenv("HELM_BIN", str(missing))
    with pytest.raises(HelmNotFoundError) as caught:
        find_helm()
    message = str(caught.value)
    assert "HELM_BIN" in message and str(missing) in message
    assert "scripts/install-tools.sh" in message
    assert caught.value.reason == "HelmNotFound"


async def test_render_with_a_missing_helm_bin_fails_before_running_anything(
    store_values: dict[str, Any], tmp_path: Path
) -> None:
    with pytest.raises(HelmNotFoundError, match=re.escape("install-tools.sh")):
        await render_chart(
            chart_path("medusa-store"),
            "store",
            NAMESPACE,
            store_values,
            helm_bin=str(tmp_path / "nope"),
        )


def test_helm_bin_wins_over_path(
    monkeypatch: pytest.MonkeyPatch, helm_bin: str, tmp_path: Path
) -> None:
    chosen = tmp_path / "my-helm"
    chosen.symlink_to(helm_bin)
    monkeypatch.setenv("HELM_BIN", str(chosen))
    assert find_helm() == str(chosen)


def test_the_repo_tools_folder_is_the_last_resort(
    monkeypatch: pytest.MonkeyPatch, helm_bin: str, tmp_path: Path
) -> None:
    local = tmp_path / ".tools" / "bin" / "helm"
    local.parent.mkdir(parents=True)
    local.symlink_to(helm_bin)
    monkeypatch.delenv("HELM_BIN", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.setattr(helm_module, "LOCAL_HELM", local)
    assert find_helm() == str(local)
    local.unlink()
    with pytest.raises(HelmNotFoundError, match=re.escape("run scripts/install-tools.sh")):
        find_helm()


def test_the_default_local_helm_is_under_the_repo_root() -> None:
    assert (REPO_ROOT / "storeplane" / "render" / "helm.py").is_file()
    assert helm_module.LOCAL_HELM == REPO_ROOT / ".tools" / "bin" / "helm"


# --- charts folder -------------------------------------------------------------------------


def test_an_unknown_chart_names_the_ones_that_exist() -> None:
    with pytest.raises(ChartNotFoundError) as caught:
        chart_path("magento-store")
    message = str(caught.value)
    assert "magento-store" in message
    assert "medusa-store" in message and "woocommerce-store" in message
    assert "STOREPLANE_CHARTS_DIR" in message


@pytest.mark.parametrize("name", ["", "..", "../charts", "a/b"], ids=repr)
def test_a_chart_name_cannot_escape_the_charts_folder(name: str) -> None:
    with pytest.raises(ChartNotFoundError):
        chart_path(name)


# --- the cache -----------------------------------------------------------------------------


async def test_a_cache_hit_returns_equal_objects_without_running_helm(
    helm_bin: str, store_values: dict[str, Any]
) -> None:
    cache = RenderCache()
    chart = chart_path("medusa-store")
    first = await cache.render(chart, "store", NAMESPACE, store_values, helm_bin=helm_bin)
    # Same values, built in another key order: the canonical JSON makes it the same key.
    reordered = {"store": dict(reversed(list(store_values["store"].items())))}
    second = await cache.render(chart, "store", NAMESPACE, reordered, helm_bin=helm_bin)
    assert second == first
    assert (cache.renders, cache.hits, len(cache)) == (1, 1, 1)


async def test_cached_objects_are_deep_copies(helm_bin: str, store_values: dict[str, Any]) -> None:
    cache = RenderCache()
    chart = chart_path("woocommerce-store")
    first = await cache.render(chart, "store", NAMESPACE, store_values, helm_bin=helm_bin)
    pristine = [dict(obj) for obj in first]
    first[0]["metadata"]["labels"]["tampered"] = "yes"
    first.append({"kind": "Junk"})
    second = await cache.render(chart, "store", NAMESPACE, store_values, helm_bin=helm_bin)
    assert len(second) == len(pristine)
    assert "tampered" not in second[0]["metadata"]["labels"]


@pytest.mark.parametrize(
    "change",
    ["values", "release", "namespace"],
    ids=[
        "other values render again",
        "another release renders again",
        "another namespace renders again",
    ],
)
async def test_each_part_of_the_key_matters(
    helm_bin: str, store_values: dict[str, Any], change: str
) -> None:
    cache = RenderCache()
    chart = chart_path("medusa-store")
    await cache.render(chart, "store", NAMESPACE, store_values, helm_bin=helm_bin)
    release, namespace, values = "store", NAMESPACE, store_values
    if change == "values":
        values = {"store": {**store_values["store"], "plan": "large"}}
    elif change == "release":
        release = "other"
    else:
        namespace = "store-other"
    await cache.render(chart, release, namespace, values, helm_bin=helm_bin)
    assert (cache.renders, cache.hits) == (2, 0)


async def test_the_least_recently_used_entry_is_evicted(
    helm_bin: str, store_values: dict[str, Any]
) -> None:
    cache = RenderCache(max_entries=2)
    chart = chart_path("medusa-store")
    plans = {
        plan: {"store": {**store_values["store"], "plan": plan}}
        for plan in ("small", "medium", "large")
    }
    await cache.render(chart, "store", NAMESPACE, plans["small"], helm_bin=helm_bin)
    await cache.render(chart, "store", NAMESPACE, plans["medium"], helm_bin=helm_bin)
    await cache.render(
        chart, "store", NAMESPACE, plans["small"], helm_bin=helm_bin
    )  # hit: now newest
    await cache.render(
        chart, "store", NAMESPACE, plans["large"], helm_bin=helm_bin
    )  # evicts medium
    assert (cache.renders, cache.hits, len(cache)) == (3, 1, 2)
    await cache.render(chart, "store", NAMESPACE, plans["small"], helm_bin=helm_bin)
    assert cache.hits == 2
    await cache.render(chart, "store", NAMESPACE, plans["medium"], helm_bin=helm_bin)
    assert cache.renders == 4


async def test_failures_are_not_cached(helm_bin: str, store_values: dict[str, Any]) -> None:
    cache = RenderCache()
    bad = {"store": {**store_values["store"], "plan": "gigantic"}}
    for _ in range(2):
        with pytest.raises(RenderError):
            await cache.render(
                chart_path("medusa-store"), "store", NAMESPACE, bad, helm_bin=helm_bin
            )
    assert (cache.renders, len(cache)) == (2, 0)


async def test_a_chart_edit_changes_the_key_once_digests_are_forgotten(
    helm_bin: str, store_values: dict[str, Any], tmp_path: Path
) -> None:
    chart = tmp_path / "medusa-store"
    shutil.copytree(chart_path("medusa-store"), chart)
    cache = RenderCache()
    before = await cache.render(chart, "store", NAMESPACE, store_values, helm_bin=helm_bin)
    values_file = chart / "values.yaml"
    values_file.write_text(values_file.read_text().replace("tag: 7-alpine", "tag: 7.4-alpine"))

    await cache.render(chart, "store", NAMESPACE, store_values, helm_bin=helm_bin)
    assert cache.renders == 1, "the chart digest is memoised: charts do not change under a process"

    cache.forget_charts()
    after = await cache.render(chart, "store", NAMESPACE, store_values, helm_bin=helm_bin)
    assert cache.renders == 2
    assert after != before
    assert "redis:7.4-alpine" in str(after)


async def test_the_module_level_render_uses_the_given_cache(
    helm_bin: str, store_values: dict[str, Any]
) -> None:
    cache = RenderCache()
    for _ in range(3):
        await render(
            chart_path("medusa-store"),
            "store",
            NAMESPACE,
            store_values,
            helm_bin=helm_bin,
            cache=cache,
        )
    assert (cache.renders, cache.hits) == (1, 2)


# --- helm's environment ----------------------------------------------------------------------


def _chart_case_ids() -> list[Any]:
    from tests.charts.chart_cases import CASES

    return [pytest.param(case, id=case.id) for case in CASES]


@pytest.mark.parametrize("case", _chart_case_ids())
async def test_helm_with_its_collector_held_off_prints_what_plain_helm_template_prints(
    helm_bin: str, case: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json
    import os
    import subprocess

    from tests.charts.chart_cases import STORE_ID

    args = ["template", "store", str(chart_path(case.chart)), "--namespace", STORE_ID]
    values = json.dumps(case.values()).encode()
    monkeypatch.delenv("GOGC", raising=False)
    monkeypatch.delenv("GOMEMLIMIT", raising=False)
    plain_env = dict(os.environ)
    plain = subprocess.run(
        [helm_bin, *args, "--values", "-"],
        input=values,
        capture_output=True,
        env=plain_env,
        timeout=60,
        check=True,
    )
    assert helm_module._helm_env()["GOGC"] == "off"
    code, ours, _ = await helm_module._run_helm(
        helm_bin, [*args, "--values", "-"], values, chart_path(case.chart), 60
    )
    assert code == 0 and ours == plain.stdout.decode()


def test_an_operators_gogc_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOGC", "200")
    env = helm_module._helm_env()
    assert env["GOGC"] == "200" and "GOMEMLIMIT" not in env
