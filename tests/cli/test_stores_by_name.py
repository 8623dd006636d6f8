"""A store named on the command line after it was deleted, and ``--phase`` in any case,
against a real ``storeplane dev``."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.cli.run import storeplane
from tests.cli.test_cli_stores import event_reasons
from tests.scenarios.dev_process import DevProcess

NAME = "gone-shop"


def _create(dev: DevProcess, name: str) -> dict[str, Any]:
    response = dev.api("POST", "/stores", json={"name": name, "engine": "medusa", "plan": "small"})
    assert response.status_code == 202, response.text
    return dict(response.json())


def _delete(dev: DevProcess, store_id: str) -> dict[str, Any]:
    response = dev.api("DELETE", f"/stores/{store_id}")
    assert response.status_code == 202, response.text
    return dev.wait_for(store_id, {"Deleted"})


@pytest.fixture(scope="module")
def history(dev: DevProcess) -> dict[str, str]:
    """NAME made and deleted twice; the ids of the older and the newer deleted store."""
    older = _delete(dev, dev.wait_for(_create(dev, NAME)["id"], {"Ready"})["id"])
    newer = _delete(dev, dev.wait_for(_create(dev, NAME)["id"], {"Ready"})["id"])
    return {"older": older["id"], "newer": newer["id"]}


def test_events_of_a_deleted_store_by_name_show_its_teardown(
    dev: DevProcess, history: dict[str, str]
) -> None:
    result = storeplane("events", NAME, api_url=dev.url, data_dir=dev.data_dir)
    assert result.returncode == 0, result.stdout + result.stderr
    assert event_reasons(result.stdout) == [e["reason"] for e in dev.events(history["newer"])]
    assert "TeardownVerified" in event_reasons(result.stdout)


def test_get_of_a_deleted_name_shows_the_most_recent_store_of_that_name(
    dev: DevProcess, history: dict[str, str]
) -> None:
    result = storeplane("get", NAME, api_url=dev.url, data_dir=dev.data_dir)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{NAME} ({history['newer']})  Deleted" in result.stdout
    assert history["older"] not in result.stdout


def test_a_live_store_of_that_name_wins_over_the_deleted_ones(
    dev: DevProcess, history: dict[str, str]
) -> None:
    live = _create(dev, NAME)
    try:
        result = storeplane("get", NAME, api_url=dev.url, data_dir=dev.data_dir)
        assert result.returncode == 0, result.stdout + result.stderr
        assert f"{NAME} ({live['id']})" in result.stdout
    finally:
        _delete(dev, live["id"])


def test_a_name_never_used_is_still_unknown(dev: DevProcess, history: dict[str, str]) -> None:
    result = storeplane("events", "never-made", api_url=dev.url, data_dir=dev.data_dir)
    assert result.returncode == 1
    assert 'no store named "never-made"' in result.stderr


def _ids(output: str) -> list[str]:
    """The ID column of a ``stores list`` table."""
    return re.findall(r"^\W+(store-[a-z0-9]+) ", output, re.MULTILINE)


@pytest.mark.parametrize(
    "spelling",
    ["Deleted", "deleted", "DELETED", "dElEtEd"],
    ids=[
        "--phase Deleted lists the deleted stores",
        "--phase deleted lists the same",
        "--phase DELETED lists the same",
        "--phase dElEtEd lists the same",
    ],
)
def test_phase_is_matched_ignoring_case(
    dev: DevProcess, history: dict[str, str], spelling: str
) -> None:
    result = storeplane("list", "--phase", spelling, api_url=dev.url, data_dir=dev.data_dir)
    assert result.returncode == 0, result.stdout + result.stderr
    api = dev.api("GET", "/stores", params={"phase": "Deleted"}).json()["items"]
    assert _ids(result.stdout) == [s["id"] for s in api]
    assert {history["older"], history["newer"]} <= set(_ids(result.stdout))


def test_an_unknown_phase_is_refused_with_the_phases_listed(dev: DevProcess) -> None:
    result = storeplane("list", "--phase", "done", api_url=dev.url, data_dir=dev.data_dir)
    assert result.returncode == 2
    # Rich wraps the message inside its error box: read it as one line.
    told = " ".join(re.sub(r"[│╭╮╰╯─]", " ", result.stderr).split())
    assert '"done" is not a phase' in told
    assert (
        "Pending, Provisioning, Ready, Updating, Suspended, Restoring, Failed, Deleting, Deleted"
        in told
    )
