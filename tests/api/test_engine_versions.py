"""Engine versions through the API: ``GET /engines`` shows the catalogue, a store's
``engine_version`` is set at create and changed by PATCH, and a move the catalogue does not
allow is a 422 naming the allowed versions."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from storeplane.db import SqlStoreRepository
from tests.api.conftest import Api, make_api
from tests.api.test_stores import assert_problem
from tests.engine_catalogues import FAILING, A, B, failing_version, write_catalogue


@pytest.fixture
def operator_api(migrated_url: str, repo: SqlStoreRepository, tmp_path: Path) -> Iterator[Api]:
    """An API whose platform has its own registry and its own catalogue (A, B and FAILING)."""
    catalogue = write_catalogue(tmp_path / "catalogue.yaml", extra=(failing_version(),))
    yield from make_api(
        migrated_url,
        repo,
        engine_catalogue=catalogue,
        medusa_image_repository="registry.example.com/shop/medusa",
    )


def converged_at(api: Api, store_id: str, version: str) -> None:
    """What the reconciler records when the store became Ready at ``version``."""
    with api.repo.engine.begin() as connection:
        connection.execute(
            text(
                "UPDATE stores SET running_engine_version = :v, observed_generation = 1, "
                "phase = 'Ready' WHERE id = :id"
            ),
            {"v": version, "id": store_id},
        )


def test_engines_list_each_version_with_images_chart_and_upgrades(api: Api) -> None:
    medusa, woocommerce = api.client.get("/api/v1/engines").json()["items"]
    assert medusa["default_version"] == B
    assert medusa["versions"] == [
        {
            "version": B,
            "default": True,
            "images": {"medusa": f"ghcr.io/storeplane/medusa-store:{B}"},
            "chart_version": "0.1.0",
            "upgrades_from": [A],
            "restorable_from": [A],
            "schema_migrations": True,
        },
        {
            "version": A,
            "default": False,
            "images": {"medusa": f"ghcr.io/storeplane/medusa-store:{A}"},
            "chart_version": "0.1.0",
            "upgrades_from": [],
            "restorable_from": [],
            "schema_migrations": True,
        },
    ]
    assert woocommerce["versions"][0]["images"] == {
        "wordpress": "wordpress:6-php8.2-apache",
        "wpcli": "wordpress:cli-2.12.0-php8.2",
    }


def test_an_operator_catalogue_and_registry_replace_the_shipped_ones(operator_api: Api) -> None:
    medusa = operator_api.client.get("/api/v1/engines").json()["items"][0]
    assert [v["version"] for v in medusa["versions"]] == [FAILING, B, A]
    assert medusa["versions"][1]["images"] == {"medusa": f"registry.example.com/shop/medusa:{B}"}
    store = operator_api.create(engine_version=B)
    response = operator_api.client.patch(
        f"/api/v1/stores/{store['id']}", json={"engine_version": FAILING}
    )
    assert response.status_code == 200, response.text


def test_a_store_gets_the_default_version_or_the_one_it_asks_for(api: Api) -> None:
    assert api.create("default-shop")["engine_version"] == B
    older = api.create("older-shop", engine_version=A)
    assert (older["engine_version"], older["running_engine_version"]) == (A, None)
    events = api.client.get(f"/api/v1/stores/{older['id']}/events").json()["items"]
    assert f"engine medusa {A} and plan small" in events[0]["message"]


def test_creating_at_an_unknown_version_is_a_422_naming_the_known_ones(api: Api) -> None:
    response = api.client.post(
        "/api/v1/stores", json={"name": "acme-shop", "engine": "medusa", "engine_version": "1.0"}
    )
    assert_problem(
        response,
        422,
        f"engine_version '1.0' is not a version of medusa; known versions: {B}, {A}",
        "engine_version",
    )
    assert api.rows() == (0, 0)


def test_an_upgrade_is_a_new_generation_in_updating_and_names_both_versions(api: Api) -> None:
    store = api.create(engine_version=A)
    converged_at(api, str(store["id"]), A)
    response = api.client.patch(f"/api/v1/stores/{store['id']}", json={"engine_version": B})
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["engine_version"], body["running_engine_version"]) == (B, A)
    assert (body["generation"], body["phase"]) == (2, "Updating")
    events = api.client.get(f"/api/v1/stores/{store['id']}/events").json()["items"]
    assert events[-1]["reason"] == "UpdateRequested"
    assert f"engine version changed from {A} to {B} (medusa) by admin" in events[-1]["message"]


@pytest.mark.parametrize(
    ("running", "asked", "detail"),
    [
        (
            B,
            A,
            f"cannot change engine_version from {B} to {A} (downgrades past a schema migration "
            f"are never allowed); allowed from {B}: {B}",
        ),
        (
            A,
            "3.0.0",
            f"engine_version '3.0.0' is not a version of medusa; known versions: {B}, {A}",
        ),
    ],
    ids=["a downgrade is refused naming the allowed versions", "an unknown version is refused"],
)
def test_a_refused_version_change_is_a_422_and_changes_nothing(
    api: Api, running: str, asked: str, detail: str
) -> None:
    store = api.create(engine_version=running)
    converged_at(api, str(store["id"]), running)
    response = api.client.patch(f"/api/v1/stores/{store['id']}", json={"engine_version": asked})
    assert_problem(response, 422, detail, "engine_version")
    after = api.client.get(f"/api/v1/stores/{store['id']}").json()
    assert (after["engine_version"], after["generation"]) == (running, 1)


def test_an_unfinished_upgrade_may_go_back_to_the_running_version(api: Api) -> None:
    store = api.create(engine_version=A)
    converged_at(api, str(store["id"]), A)
    api.client.patch(f"/api/v1/stores/{store['id']}", json={"engine_version": B})
    response = api.client.patch(f"/api/v1/stores/{store['id']}", json={"engine_version": A})
    assert response.status_code == 200, response.text
    assert (response.json()["engine_version"], response.json()["generation"]) == (A, 3)
