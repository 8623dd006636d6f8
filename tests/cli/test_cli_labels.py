"""``storeplane stores create|list|update --label`` against a real ``storeplane dev``."""

from __future__ import annotations

from tests.cli.run import storeplane
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
    none = storeplane("list", "--label", "tier=bronze", api_url=dev.url, data_dir=dev.data_dir)
    assert (none.returncode, none.stdout.strip()) == (0, "no stores with these labels")


def test_a_bad_label_is_refused_before_anything_is_sent(dev: DevProcess) -> None:
    run = storeplane(
        "create", "bad-shop", "--label", "tier", api_url=dev.url, data_dir=dev.data_dir
    )
    assert run.returncode == 2
    assert "--label must be key=value, e.g. tier=gold (got 'tier')" in run.stderr
    listed = storeplane("list", "-q", "bad-shop", api_url=dev.url, data_dir=dev.data_dir)
    assert "bad-shop" not in listed.stdout
