"""Fleet commands against a real ``storeplane dev`` (one for the module): ``storeplane stores
create|list|update --label``, and ``storeplane rollouts create`` with live progress to the
end, ``list``, ``get`` and a refused change."""

from __future__ import annotations

import re

from tests.cli.run import storeplane
from tests.engine_catalogues import A, B
from tests.scenarios.dev_process import DevProcess


def test_labels_are_set_listed_by_and_replaced(dev: DevProcess) -> None:
    for name, labels in [("gold-eu", ["tier=gold", "region=eu"]), ("gold-us", ["tier=gold"])]:
        args = [arg for label in labels for arg in ("--label", label)]
        run = storeplane("create", name, *args, api_url=dev.url, data_dir=dev.data_dir)
        assert run.returncode == 0, run.stderr
        assert "labels region=eu, tier=gold" in run.stdout or name == "gold-us"
    listed = storeplane(
        "list", "-l", "tier=gold", "-l", "region=eu", api_url=dev.url, data_dir=dev.data_dir
    )
    assert listed.returncode == 0, listed.stderr
    assert "gold-eu" in listed.stdout and "gold-us" not in listed.stdout
    updated = storeplane(
        "update", "gold-us", "--label", "tier=silver", api_url=dev.url, data_dir=dev.data_dir
    )
    assert updated.returncode == 0, updated.stderr
    assert "labels tier=silver" in updated.stdout
    listed = storeplane("list", "--label", "tier=gold", api_url=dev.url, data_dir=dev.data_dir)
    assert "gold-us" not in listed.stdout and "gold-eu" in listed.stdout


def test_a_bad_label_is_refused_before_anything_is_sent(dev: DevProcess) -> None:
    run = storeplane(
        "create", "bad-shop", "--label", "tier", api_url=dev.url, data_dir=dev.data_dir
    )
    assert run.returncode == 2
    assert "--label must be key=value, e.g. tier=gold (got 'tier')" in run.stderr
    assert dev.api("GET", "/stores?q=bad-shop").json()["count"] == 0


ROLLOUT_ID = re.compile(r"created (rollout-[a-z0-9]{8}): 1 store in 1 wave")


def test_create_follows_the_rollout_to_succeeded_then_list_and_get_show_it(
    dev: DevProcess,
) -> None:
    for n in range(1):
        made = dev.api(
            "POST",
            "/stores",
            json={
                "name": f"cli-roll-{n}",
                "engine": "medusa",
                "engine_version": A,
                "labels": {"group": "cli"},
            },
        )
        assert made.status_code == 202, made.text
        dev.wait_for(made.json()["id"], {"Ready"}, timeout=60)
    args = ("--api-url", dev.url, "--data-dir", str(dev.data_dir))
    run = storeplane(
        "rollouts", "create", "--engine", "medusa", "--to", B, "--label", "group=cli",
        "--wave", "100%", "--timeout", "60", *args,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
    found = ROLLOUT_ID.search(run.stdout)
    assert found, run.stdout
    rollout_id = found.group(1)
    assert "Succeeded" in run.stdout and "every wave finished: 1 of 1 stores at" in run.stdout
    listed = storeplane("rollouts", "list", *args)
    assert listed.returncode == 0
    row = next(line for line in listed.stdout.splitlines() if rollout_id in line)
    cells = [cell for cell in re.split(r"[\s│┃]+", row) if cell]
    assert cells[1:6] == ["medusa", B, "Succeeded", "1/1", "1/1"], row
    shown = storeplane("rollouts", "get", rollout_id, *args)
    assert shown.returncode == 0 and f"{rollout_id} medusa -> {B}" in shown.stdout
    refused = storeplane("rollouts", "pause", rollout_id, *args)
    assert refused.returncode == 1
    assert "it is Succeeded, which is final" in refused.stderr


def test_an_unknown_rollout_says_how_to_list_them(dev: DevProcess) -> None:
    run = storeplane(
        "rollouts", "get", "rollout-nothere0", "--api-url", dev.url, "--data-dir", str(dev.data_dir)
    )
    assert run.returncode == 1
    assert "list rollouts with GET /api/v1/rollouts (storeplane rollouts list)" in run.stderr
