"""The runtime table: which images run as local processes, and how (data, not code).

Loaded from ``runtimes.json`` beside this module (Medusa's app, PostgreSQL, redis) or from an
operator's own file (``SimulatorConfig.runtimes_file``, ``storeplane sim --runtimes FILE``), by
:func:`load_table`; read by the agent (:mod:`storeplane.sim.node.agent`) and the scheduler.
An entry says, for one image repository (``"image": "postgres"``: any tag) or for one tag of
it (``"image": "ghcr.io/storeplane/medusa-store:2.20.1"``; a tagged entry wins over an untagged
one of the same repository, and an image whose tag no entry names stays simulated when every
entry of its repository is tagged — so each Medusa version runs its own build):

- ``root`` + ``rootPath``: a host folder that is the image's file system at ``rootPath``
  (e.g. Medusa's build at ``/app``); each pod gets its own overlay of it (``links`` adds
  entries, such as the build's ``node_modules``);
- ``path``: host folders put first on ``PATH`` (globs: the highest version wins);
  ``requires``: files that must exist (else containers of the image fail with ``missing``);
- ``command``, ``workingDir``, ``env``: the image's default command, folder and env;
  ``defaultEnv``: env added when the spec does not set it;
- how the process learns its pod's address: ``bindEnv`` (env) or ``bindArgs`` (arguments
  appended when the command is that program); ``shims``: commands wrapped with extra
  arguments (``redis-cli -h <pod address>``); ``entrypoint``: a reproduction of the image's
  entrypoint script shipped in ``files/`` (``postgres``); ``rootUser``: the OS user to run as
  when the simulator runs as root (PostgreSQL refuses root).

Placeholders: ``${VAR}``/``${VAR:-default}`` and a leading ``~`` are expanded from the
simulator's environment when the table is loaded; ``{pod_ip}``, ``{socket_dir}`` and
``{path0}`` when a container starts.
"""

from __future__ import annotations

import glob
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BUILTIN_TABLE = Path(__file__).parent / "runtimes.json"
_VAR = re.compile(r"\$\{(\w+)(?::-([^${}]*))?\}")


class TableError(ValueError):
    """The runtime table file is unreadable or malformed (the message names the entry)."""


def expand(value: str, environ: dict[str, str] | None = None) -> str:
    """``${A:-${B:-~/x}}/y`` with values from ``environ`` (default: this process's env)."""
    env = os.environ if environ is None else environ
    while True:
        new = _VAR.sub(lambda m: env.get(m.group(1)) or (m.group(2) or ""), value)
        if new == value:
            break
        value = new
    return os.path.expanduser(value)


def tag(image: str) -> str | None:
    """An image reference's tag (``redis:7`` -> ``7``), or None (no tag, or a digest)."""
    if "@" in image:
        return None
    last = image.rsplit("/", 1)[-1]
    return last.split(":", 1)[1] if ":" in last else None


def repository(image: str) -> str:
    """An image reference's repository, normalised as the Docker Hub names it:
    ``postgres:16-alpine`` -> ``docker.io/library/postgres``, ``ghcr.io/a/b@sha256:..`` ->
    ``ghcr.io/a/b``."""
    name = image.split("@", 1)[0]
    last = name.rsplit("/", 1)[-1]
    if ":" in last:
        name = name[: len(name) - len(last)] + last.split(":", 1)[0]
    parts = name.split("/")
    if len(parts) == 1 or not ("." in parts[0] or ":" in parts[0] or parts[0] == "localhost"):
        parts = ["docker.io", *(["library"] if len(parts) == 1 else []), *parts]
    return "/".join(parts)


@dataclass(frozen=True)
class LocalImage:
    """One entry of the table, with host paths resolved."""

    image: str
    root: Path | None = None
    root_path: str = "/"
    links: dict[str, Path] = field(default_factory=dict)
    path: tuple[Path, ...] = ()
    command: tuple[str, ...] = ()
    working_dir: str | None = None
    env: dict[str, str] = field(default_factory=dict)
    default_env: dict[str, str] = field(default_factory=dict)
    bind_env: dict[str, str] = field(default_factory=dict)
    bind_args: dict[str, tuple[str, ...]] = field(default_factory=dict)
    shims: dict[str, tuple[str, ...]] = field(default_factory=dict)
    entrypoint: str | None = None
    root_user: str | None = None
    problem: str | None = None
    """Why this runtime cannot run here (a required file is missing), or None."""

    @property
    def available(self) -> bool:
        return self.problem is None


def _strings(raw: Any, where: str) -> tuple[str, ...]:
    if not isinstance(raw, list) or not all(isinstance(x, str) for x in raw):
        raise TableError(f"{where} must be a list of strings")
    return tuple(raw)


def _mapping(raw: Any, where: str) -> dict[str, str]:
    if not isinstance(raw, dict) or not all(isinstance(v, str) for v in raw.values()):
        raise TableError(f"{where} must be an object of strings")
    return dict(raw)


def _newest(pattern: str) -> Path:
    """A glob's highest-versioned match (``/usr/lib/postgresql/*/bin`` -> the 16 over 15)."""
    matches = glob.glob(pattern)
    if not matches:
        return Path(pattern)

    def version(path: str) -> list[int]:
        return [int(n) for n in re.findall(r"\d+", path)]

    return Path(max(matches, key=version))


def _entry(raw: Any, where: str) -> LocalImage:
    if not isinstance(raw, dict) or not isinstance(raw.get("image"), str):
        raise TableError(f'{where} needs an "image" (a repository such as postgres)')
    known = {"image", "about", "root", "rootPath", "links", "path", "requires", "missing",
             "command", "workingDir", "env", "defaultEnv", "bindEnv", "bindArgs", "shims",
             "entrypoint", "rootUser"}  # fmt: skip
    unknown = sorted(set(raw) - known)
    if unknown:
        raise TableError(f"{where}: unknown fields {', '.join(unknown)}")
    path = tuple(_newest(expand(p)) for p in _strings(raw.get("path", []), f"{where}.path"))
    root = Path(expand(raw["root"])) if isinstance(raw.get("root"), str) else None
    links = {
        k: Path(expand(v)) for k, v in _mapping(raw.get("links", {}), f"{where}.links").items()
    }
    entrypoint = raw.get("entrypoint")
    if entrypoint is not None and entrypoint not in ("postgres",):
        raise TableError(f'{where}.entrypoint: only "postgres" is known, got {entrypoint!r}')
    problem = None
    path0 = str(path[0]) if path else ""
    base = root if root is not None else Path("/")
    for required in _strings(raw.get("requires", []), f"{where}.requires"):
        candidate = Path(required.replace("{path0}", path0))
        if not candidate.is_absolute():
            candidate = base / candidate
        if not (candidate.exists() or (links and _via_links(required, links))):
            problem = (
                f"{raw.get('missing') or 'a required file is missing'} ({candidate} not found)"
            )
            break
    bind_args = raw.get("bindArgs", {})
    shims = raw.get("shims", {})
    if not isinstance(bind_args, dict) or not isinstance(shims, dict):
        raise TableError(f"{where}: bindArgs and shims must be objects of lists")
    return LocalImage(
        image=raw["image"],
        root=root,
        root_path=str(raw.get("rootPath", "/")),
        links=links,
        path=path,
        command=_strings(raw.get("command", []), f"{where}.command"),
        working_dir=raw.get("workingDir"),
        env=_mapping(raw.get("env", {}), f"{where}.env"),
        default_env=_mapping(raw.get("defaultEnv", {}), f"{where}.defaultEnv"),
        bind_env=_mapping(raw.get("bindEnv", {}), f"{where}.bindEnv"),
        bind_args={k: _strings(v, f"{where}.bindArgs.{k}") for k, v in bind_args.items()},
        shims={k: _strings(v, f"{where}.shims.{k}") for k, v in shims.items()},
        entrypoint=entrypoint,
        root_user=raw.get("rootUser"),
        problem=problem,
    )


def _via_links(required: str, links: dict[str, Path]) -> bool:
    first, _, rest = required.partition("/")
    return first in links and (links[first] / rest).exists()


@dataclass(frozen=True)
class RuntimeTable:
    """Image repository -> local runtime. Empty: every container is simulated."""

    entries: tuple[LocalImage, ...] = ()
    source: str = ""

    def lookup(self, image: str | None) -> LocalImage | None:
        """The entry for an image reference, or None (the image stays simulated)."""
        if not image:
            return None
        wanted, wanted_tag = repository(image), tag(image)
        same = [e for e in self.entries if repository(e.image) == wanted]
        exact = [e for e in same if tag(e.image) is not None and tag(e.image) == wanted_tag]
        return next(iter(exact or [e for e in same if tag(e.image) is None]), None)

    def __bool__(self) -> bool:
        return bool(self.entries)

    def describe(self) -> list[str]:
        """One line per entry, for a start-up banner: what runs for real, what cannot."""
        return [
            f"{e.image}: " + ("local process" if e.available else f"unavailable: {e.problem}")
            for e in self.entries
        ]


def load_table(path: Path | None = None) -> RuntimeTable:
    """The table in ``path`` (JSON; YAML too when the name ends in .yaml/.yml), or the
    built-in one. Raises :class:`TableError` with the reason."""
    source = path or BUILTIN_TABLE
    try:
        text = source.read_text()
    except OSError as exc:
        raise TableError(f"cannot read the runtime table {source}: {exc.strerror}") from exc
    import yaml

    try:
        raw = yaml.safe_load(text) if source.suffix in (".yaml", ".yml") else json.loads(text)
    except (ValueError, yaml.YAMLError) as exc:
        raise TableError(f"the runtime table {source} is not valid: {exc}") from exc
    if not isinstance(raw, dict) or not isinstance(raw.get("runtimes"), list):
        raise TableError(f'the runtime table {source} needs a "runtimes" list')
    entries = tuple(
        _entry(e, f"{source.name}: runtimes[{i}]") for i, e in enumerate(raw["runtimes"])
    )
    return RuntimeTable(entries, str(source))
