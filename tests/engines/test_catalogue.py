"""The engine catalogue: the shipped file, the rules a catalogue must keep, and which version
moves are allowed (the words of the 422 a refused move answers)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from storeplane.domain.errors import InvalidRequestError
from storeplane.domain.store import Engine
from storeplane.engines.catalogue import (
    SHIPPED_CATALOGUE,
    CatalogueError,
    load_catalogue,
    parse_catalogue,
    shipped_catalogue,
    version_key,
)
from tests.engine_catalogues import A, B, failing_version, write_catalogue

REPO = Path(__file__).resolve().parents[2]


def _medusa(*versions: dict[str, Any]) -> dict[str, Any]:
    raw = yaml.safe_load(SHIPPED_CATALOGUE.read_text())
    raw["engines"]["medusa"]["versions"] = list(versions)
    return raw


def _v(version: str, *, default: bool = False, **extra: Any) -> dict[str, Any]:
    return {
        "version": version,
        "default": default,
        "chart_version": "0.1.0",
        "images": {"medusa": version},
        "upgrades_from": [],
        **extra,
    }


def test_the_shipped_catalogue_has_two_medusa_versions_b_upgrading_from_a() -> None:
    medusa = shipped_catalogue().for_engine(Engine.MEDUSA)
    assert medusa.names() == [B, A]  # newest first
    assert medusa.default.version == B
    assert medusa.allowed_moves(A) == [A, B]
    assert medusa.allowed_moves(B) == [B]
    assert shipped_catalogue().for_engine(Engine.WOOCOMMERCE).default.version == "6"


def test_every_shipped_medusa_version_has_its_recipe_build_dir_and_runtime_entry() -> None:
    """The catalogue, images/medusa/versions, scripts/medusa-local.sh's default and the
    simulator's runtime table name the same versions (a new version needs all four)."""
    versions = set(shipped_catalogue().for_engine(Engine.MEDUSA).names())
    recipes = {p.name for p in (REPO / "images/medusa/versions").iterdir() if p.is_dir()}
    assert recipes == versions
    for version in versions:
        lock = json.loads(
            (REPO / f"images/medusa/versions/{version}/package-lock.json").read_text()
        )
        assert lock["packages"]["node_modules/@medusajs/medusa"]["version"] == version
    table = json.loads((REPO / "storeplane/sim/node/runtimes.json").read_text())
    tagged = {
        e["image"].rsplit(":", 1)[1] for e in table["runtimes"] if "medusa-store:" in e["image"]
    }
    assert tagged == versions
    script = (REPO / "scripts/medusa-local.sh").read_text()
    default = re.search(r'^DEFAULT_VERSION="([^"]+)"', script, re.MULTILINE)
    assert default is not None and default.group(1) == B


@pytest.mark.parametrize(
    ("versions", "error"),
    [
        ((_v("2.0.0"), _v("2.1.0")), "exactly one version must be the default"),
        (
            (_v("2.0.0", default=True), _v("2.1.0", default=True)),
            "exactly one version must be the default (default: true), found 2: 2.0.0, 2.1.0",
        ),
        ((_v("2.0.0", default=True), _v("2.0.0")), "versions listed twice: 2.0.0"),
        ((_v("latest", default=True),), "must be a quoted string of digits and dots"),
        (
            (_v("2.0.0", default=True, upgrades_from=["1.0.0"]),),
            "upgrades_from names 1.0.0, which the catalogue does not list",
        ),
        (
            (
                _v("2.0.0", default=True, upgrades_from=["2.1.0"]),
                _v("2.1.0", schema_migrations=True),
            ),
            "upgrades_from 2.1.0 is a downgrade past the schema migrations of 2.1.0",
        ),
        ((_v("2.0.0", default=True, colour="red"),), "unknown fields colour"),
        (
            (_v("2.0.0", default=True, chart_version="9.9.9"),),
            "chart_version 9.9.9 is not the chart storeplane carries (medusa-store 0.1.0)",
        ),
        ((_v("2.0.0", default=True, images={}),), "images must map image names to tags"),
    ],
    ids=[
        "a catalogue without a default is refused",
        "two defaults are refused",
        "a version listed twice is refused",
        "a version that is not a number is refused",
        "upgrading from an unknown version is refused",
        "a downgrade past a schema migration is refused",
        "an unknown field is refused (a typo is not ignored)",
        "a chart version storeplane does not carry is refused",
        "a version without images is refused",
    ],
)
def test_a_catalogue_breaking_a_rule_is_refused_naming_it(
    versions: tuple[dict[str, Any], ...], error: str
) -> None:
    with pytest.raises(CatalogueError, match=re.escape(error)):
        parse_catalogue(_medusa(*versions), "test.yaml")


def test_a_downgrade_without_schema_migrations_in_between_is_allowed() -> None:
    catalogue = parse_catalogue(
        _medusa(
            _v("2.0.0", default=True, upgrades_from=["2.1.0"]),
            _v("2.1.0", schema_migrations=False, upgrades_from=["2.0.0"]),
        ),
        "test.yaml",
    )
    assert catalogue.for_engine(Engine.MEDUSA).allowed_moves("2.1.0") == ["2.0.0", "2.1.0"]


@pytest.mark.parametrize(
    ("current", "target", "error"),
    [
        (
            B,
            A,
            f"cannot change engine_version from {B} to {A} (downgrades past a schema migration are never allowed); allowed from {B}: {B}",
        ),
        (
            A,
            "9.9.9",
            "engine_version '9.9.9' is not a version of medusa; known versions: 2.21.2, 2.20.1 (GET /api/v1/engines)",
        ),
    ],
    ids=["a downgrade names the allowed versions", "an unknown version names the known ones"],
)
def test_a_refused_move_says_what_is_allowed(current: str, target: str, error: str) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        shipped_catalogue().for_engine(Engine.MEDUSA).check_move(current, target)
    assert caught.value.message == error
    assert caught.value.field == "engine_version"


def test_a_move_not_listed_in_upgrades_from_names_the_rule(tmp_path: Path) -> None:
    path = write_catalogue(
        tmp_path / "c.yaml", extra=(failing_version("2.22.0", upgrades_from=(B,)),)
    )
    medusa = load_catalogue(path).for_engine(Engine.MEDUSA)
    with pytest.raises(
        InvalidRequestError,
        match=re.escape(
            "(2.22.0 does not list 2.20.1 in upgrades_from); allowed from 2.20.1: 2.20.1, 2.21.2"
        ),
    ):
        medusa.check_move(A, "2.22.0")
    assert medusa.check_move(B, "2.22.0").images == {"medusa": "2.21.3-failing"}


@pytest.mark.parametrize(
    ("older", "newer"),
    [("2.9.0", "2.10.0"), ("2.21.2-rc1", "2.21.2"), ("2.21.2", "2.21.3-failing"), ("6", "6.1")],
    ids=[
        "numbers compare as numbers",
        "a pre-release sorts first",
        "a suffixed later patch is newer",
        "a shorter version is older",
    ],
)
def test_versions_sort_as_versions(older: str, newer: str) -> None:
    assert version_key(older) < version_key(newer)


def test_an_unreadable_catalogue_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(CatalogueError, match=r"cannot read the engine catalogue .*missing\.yaml"):
        load_catalogue(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("engines: [")
    with pytest.raises(CatalogueError, match="is not valid YAML"):
        load_catalogue(bad)


def test_a_broken_operator_catalogue_stops_the_settings_with_its_reason(tmp_path: Path) -> None:
    from pydantic import ValidationError

    from storeplane.settings import Settings

    bad = tmp_path / "catalogue.yaml"
    bad.write_text("engines: {medusa: {versions: []}, woocommerce: {versions: []}}")
    with pytest.raises(ValidationError, match="exactly one version must be the default"):
        Settings(engine_catalogue=bad)
    good = write_catalogue(tmp_path / "good.yaml", extra=(failing_version(),))
    assert Settings(engine_catalogue=good).engine_catalogue == good
