"""The engine catalogue: the versions of each engine storeplane can run, as data.

Loaded from ``charts/catalogue.yaml`` (shipped with the charts) or an operator's own file
(setting ``engine_catalogue``, env ``STOREPLANE_ENGINE_CATALOGUE``) by :func:`load_catalogue`,
once per process through :func:`catalogue_from`. Read by:

- the store service (``services/stores.py``): a new store's default ``engine_version``, and
  whether a change of version is allowed (:meth:`EngineCatalogue.check_move`, a 422 naming
  the allowed ones otherwise);
- the API's ``GET /api/v1/engines`` (every version with its images, chart version and
  ``upgrades_from``);
- the reconciler (``reconciler/desired.py``): the image tags and chart values of the version
  a store asks for (:meth:`Catalogue.resolve`).

The rules: a store may move from version A to version B only if B lists A in
``upgrades_from`` (staying at A is always allowed). Moving back to an older version is a
downgrade, and no downgrade may cross a version with ``schema_migrations`` (its migrations
cannot be undone by running the older code): a catalogue that allows one is refused when
loaded, with the entry named.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from storeplane.domain.errors import InvalidRequestError
from storeplane.domain.store import Engine
from storeplane.render.charts import CHARTS_DIR

SHIPPED_CATALOGUE = CHARTS_DIR / "catalogue.yaml"
VERSION_PATTERN = re.compile(r"^\d+(\.\d+)*(-[0-9A-Za-z.-]+)?$")
_FIELDS = frozenset(
    {
        "version",
        "default",
        "chart_version",
        "images",
        "upgrades_from",
        "restorable_from",
        "schema_migrations",
        "values",
    }
)
# The chart of each engine (as the engine profiles name it), for the chart_version check.
_CHARTS: dict[Engine, str] = {
    Engine.MEDUSA: "medusa-store",
    Engine.WOOCOMMERCE: "woocommerce-store",
}


class CatalogueError(ValueError):
    """The catalogue file is unreadable or breaks a rule; the message names file and entry."""


def version_key(version: str) -> tuple[tuple[int, ...], int, str]:
    """Sort key of a version: numbers first; ``2.21.2-rc1`` sorts before ``2.21.2``."""
    numbers, _, suffix = version.partition("-")
    return tuple(int(n) for n in numbers.split(".")), 0 if suffix else 1, suffix


@dataclass(frozen=True, slots=True)
class EngineVersion:
    """One version of an engine: what makes it (image tags, chart) and where it comes from."""

    version: str
    chart_version: str
    images: Mapping[str, str]
    upgrades_from: tuple[str, ...] = ()
    # Older versions whose backups a store at this version may restore (or be cloned from):
    # the dump is loaded, then this version's migrations run on it, as for an upgrade.
    restorable_from: tuple[str, ...] = ()
    schema_migrations: bool = True
    default: bool = False
    values: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class EngineCatalogue:
    """The versions of one engine, newest first."""

    engine: Engine
    versions: tuple[EngineVersion, ...]

    @property
    def default(self) -> EngineVersion:
        return next(v for v in self.versions if v.default)

    def get(self, version: str) -> EngineVersion | None:
        return next((v for v in self.versions if v.version == version), None)

    def names(self) -> list[str]:
        return [v.version for v in self.versions]

    def allowed_moves(self, current: str) -> list[str]:
        """Where a store at ``current`` may go: ``current`` itself and every version that
        upgrades from it, oldest first."""
        targets = [v.version for v in self.versions if current in v.upgrades_from]
        return sorted({current, *targets}, key=version_key)

    def restorable(self, version: str) -> list[str]:
        """The versions whose backups a store at ``version`` may load: its own, and those
        its entry lists in ``restorable_from`` (oldest first)."""
        entry = self.get(version)
        listed = entry.restorable_from if entry is not None else ()
        return sorted({version, *listed}, key=version_key)

    def require(self, version: str) -> EngineVersion:
        """The entry for ``version``; InvalidRequestError naming the known ones otherwise."""
        found = self.get(version)
        if found is None:
            raise InvalidRequestError(
                f"engine_version {version!r} is not a version of {self.engine.value}; "
                f"known versions: {', '.join(self.names())} (GET /api/v1/engines)",
                field="engine_version",
            )
        return found

    def check_move(self, current: str, target: str) -> EngineVersion:
        """The entry for ``target`` if a store at ``current`` may move to it; otherwise an
        InvalidRequestError (a 422) that names the versions it may move to."""
        entry = self.require(target)
        allowed = self.allowed_moves(current)
        if target not in allowed:
            direction = "downgrade" if version_key(target) < version_key(current) else "move"
            why = (
                "downgrades past a schema migration are never allowed"
                if direction == "downgrade"
                else f"{target} does not list {current} in upgrades_from"
            )
            raise InvalidRequestError(
                f"cannot change engine_version from {current} to {target} ({why}); "
                f"allowed from {current}: {', '.join(allowed)}",
                field="engine_version",
            )
        return entry


@dataclass(frozen=True, slots=True)
class Catalogue:
    engines: Mapping[Engine, EngineCatalogue]
    source: str = ""

    def for_engine(self, engine: Engine) -> EngineCatalogue:
        return self.engines[engine]

    def resolve(self, engine: Engine, version: str) -> EngineVersion:
        """The entry a store of ``engine`` at ``version`` renders with ("" is the default).
        A version the catalogue no longer lists is an InvalidRequestError naming the file."""
        versions = self.for_engine(engine)
        if not version:
            return versions.default
        found = versions.get(version)
        if found is None:
            raise InvalidRequestError(
                f"{engine.value} {version} is not in the engine catalogue {self.source} "
                f"(it lists {', '.join(versions.names())}); add it back to render this store",
                field="engine_version",
            )
        return found


def _strings(raw: Any, where: str) -> tuple[str, ...]:
    if not isinstance(raw, list) or not all(isinstance(x, str) for x in raw):
        raise CatalogueError(f"{where} must be a list of version strings")
    return tuple(raw)


def _version(raw: Any, where: str) -> EngineVersion:
    if not isinstance(raw, dict):
        raise CatalogueError(f"{where} must be a mapping with version, chart_version, images")
    unknown = sorted(set(raw) - _FIELDS)
    if unknown:
        raise CatalogueError(f"{where}: unknown fields {', '.join(unknown)}")
    version = raw.get("version")
    if not isinstance(version, str) or not VERSION_PATTERN.fullmatch(version):
        raise CatalogueError(
            f"{where}.version must be a quoted string of digits and dots with an optional "
            f'-suffix, such as "2.21.2" (got {version!r})'
        )
    chart_version = raw.get("chart_version")
    if not isinstance(chart_version, str) or not chart_version:
        raise CatalogueError(f'{where}.chart_version must be the chart\'s version, e.g. "0.1.0"')
    images = raw.get("images")
    if (
        not isinstance(images, dict)
        or not images
        or not all(isinstance(k, str) and isinstance(v, str) and v for k, v in images.items())
    ):
        raise CatalogueError(
            f'{where}.images must map image names to tags, e.g. {{medusa: "2.21.2"}}'
        )
    values = raw.get("values", {})
    if not isinstance(values, dict):
        raise CatalogueError(f"{where}.values must be a mapping of chart values")
    return EngineVersion(
        version=version,
        chart_version=chart_version,
        images=dict(images),
        upgrades_from=_strings(raw.get("upgrades_from", []), f"{where}.upgrades_from"),
        restorable_from=_strings(raw.get("restorable_from", []), f"{where}.restorable_from"),
        schema_migrations=bool(raw.get("schema_migrations", True)),
        default=raw.get("default") is True,
        values=values,
    )


def _check_rules(engine: Engine, versions: list[EngineVersion], where: str) -> None:
    names = [v.version for v in versions]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise CatalogueError(f"{where}: versions listed twice: {', '.join(duplicates)}")
    defaults = [v.version for v in versions if v.default]
    if len(defaults) != 1:
        raise CatalogueError(
            f"{where}: exactly one version must be the default (default: true), found "
            f"{len(defaults)}{': ' + ', '.join(defaults) if defaults else ''}"
        )
    by_name = {v.version: v for v in versions}
    for entry in versions:
        for source in entry.restorable_from:
            if source not in by_name or version_key(source) >= version_key(entry.version):
                raise CatalogueError(
                    f"{where} {entry.version}: restorable_from names {source}, which is not an "
                    f"older version the catalogue lists (it lists {', '.join(names)}); a "
                    "backup can only be loaded into its own or a newer version"
                )
        for source in entry.upgrades_from:
            if source not in by_name:
                raise CatalogueError(
                    f"{where} {entry.version}: upgrades_from names {source}, which the "
                    f"catalogue does not list (it lists {', '.join(names)})"
                )
            if source == entry.version:
                raise CatalogueError(f"{where} {entry.version}: upgrades_from names itself")
            if version_key(source) > version_key(entry.version):
                crossed = [
                    v.version
                    for v in versions
                    if version_key(entry.version) < version_key(v.version) <= version_key(source)
                    and v.schema_migrations
                ]
                if crossed:
                    raise CatalogueError(
                        f"{where} {entry.version}: upgrades_from {source} is a downgrade past "
                        f"the schema migrations of {', '.join(crossed)}; remove it"
                    )


def _chart_version(charts_dir: Path, chart: str) -> str | None:
    try:
        meta = yaml.safe_load((charts_dir / chart / "Chart.yaml").read_text())
    except (OSError, yaml.YAMLError):
        return None
    return str(meta.get("version")) if isinstance(meta, dict) else None


def parse_catalogue(raw: Any, source: str, charts_dir: Path | None = None) -> Catalogue:
    """A Catalogue from the parsed YAML document ``raw``; CatalogueError naming ``source``."""
    if not isinstance(raw, dict) or not isinstance(raw.get("engines"), dict):
        raise CatalogueError(f"the engine catalogue {source} needs an 'engines' mapping")
    engines: dict[Engine, EngineCatalogue] = {}
    for name, body in raw["engines"].items():
        try:
            engine = Engine(name)
        except ValueError:
            known = ", ".join(e.value for e in Engine)
            raise CatalogueError(f"{source}: unknown engine {name!r} (known: {known})") from None
        where = f"{source}: engines.{name}"
        if not isinstance(body, dict) or not isinstance(body.get("versions"), list):
            raise CatalogueError(f"{where} needs a 'versions' list")
        versions = [_version(v, f"{where}.versions[{i}]") for i, v in enumerate(body["versions"])]
        _check_rules(engine, versions, where)
        chart_version = _chart_version(charts_dir or CHARTS_DIR, _CHARTS[engine])
        for v in versions:
            if chart_version is not None and v.chart_version != chart_version:
                raise CatalogueError(
                    f"{where} {v.version}: chart_version {v.chart_version} is not the chart "
                    f"storeplane carries ({_CHARTS[engine]} {chart_version})"
                )
        versions.sort(key=lambda v: version_key(v.version), reverse=True)
        engines[engine] = EngineCatalogue(engine, tuple(versions))
    missing = [e.value for e in Engine if e not in engines]
    if missing:
        raise CatalogueError(f"{source}: no versions for {', '.join(missing)}")
    return Catalogue(engines, source)


def load_catalogue(path: Path | None = None, charts_dir: Path | None = None) -> Catalogue:
    """The catalogue in ``path`` (default: the shipped ``charts/catalogue.yaml``)."""
    source = path or SHIPPED_CATALOGUE
    try:
        text = source.read_text()
    except OSError as exc:
        raise CatalogueError(f"cannot read the engine catalogue {source}: {exc.strerror}") from exc
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise CatalogueError(f"the engine catalogue {source} is not valid YAML: {exc}") from exc
    return parse_catalogue(raw, str(source), charts_dir)


@cache
def _cached(path: Path | None) -> Catalogue:
    return load_catalogue(path)


def catalogue_from(path: Path | None) -> Catalogue:
    """The catalogue of a setting (``Settings.engine_catalogue``), loaded once per process."""
    return _cached(path.resolve() if path is not None else None)


def shipped_catalogue() -> Catalogue:
    return catalogue_from(None)
