"""The pure parts of the local node: image names, ``$(VAR)``, paths and host names."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from storeplane.sim.node import envvars, network
from storeplane.sim.node.images import TableError, load_table, repository
from storeplane.sim.node.volumes import PodPaths, rewrite_paths


@pytest.mark.parametrize(
    ("image", "expected"),
    [
        ("postgres:16-alpine", "docker.io/library/postgres"),
        ("redis", "docker.io/library/redis"),
        ("bitnami/redis:7", "docker.io/bitnami/redis"),
        ("ghcr.io/storeplane/medusa-store:2.21.2", "ghcr.io/storeplane/medusa-store"),
        ("localhost:5000/shop@sha256:abc", "localhost:5000/shop"),
    ],
    ids=["a Hub image gets library/", "no tag is the same repository", "a Hub user's image",
         "another registry keeps its host", "a registry port and a digest are not the tag"],
)  # fmt: skip
def test_image_references_normalise_to_their_repository(image: str, expected: str) -> None:
    assert repository(image) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("postgres://u:$(PW)@db/x", "postgres://u:s3cret@db/x"),
        ("$$(PW) stays", "$(PW) stays"),
        ("$(NOPE) stays", "$(NOPE) stays"),
        ("$(A)$(A)", "aa"),
    ],
    ids=["a defined variable is replaced", "$$ escapes", "an unknown reference stays", "repeats"],
)
def test_dollar_paren_expansion_is_the_kubelets(value: str, expected: str) -> None:
    assert envvars.expand(value, {"PW": "s3cret", "A": "a"}) == expected


PATHS = PodPaths([("/var/lib/postgresql/data", Path("/n/claim")), ("/tmp", Path("/n/tmp")),
                  ("/data", Path("/tmp/n/data")), ("/app", Path("/n/rootfs"))])  # fmt: skip


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("/var/lib/postgresql/data/pgdata", "/n/claim/pgdata"),
        ("--dir /data", "--dir /tmp/n/data"),
        ("redis://cache:6379/data", "redis://cache:6379/data"),
        ("/app/node_modules/.bin/medusa", "/n/rootfs/node_modules/.bin/medusa"),
        ("/application", "/application"),
        ("PATH=/usr/bin:/app/bin", "PATH=/usr/bin:/n/rootfs/bin"),
    ],
    ids=["a mount path and below", "a path after a space (a host path is not mapped twice)",
         "a URL's path is not a file path", "the image's root", "a longer name is not the mount",
         "after a colon"],
)  # fmt: skip
def test_container_paths_become_host_paths(value: str, expected: str) -> None:
    assert rewrite_paths(value, PATHS) == expected


def _resolve(host: str) -> str | None:
    return {"medusa-postgres": "127.2.0.2", "medusa-postgres.shop.svc.cluster.local": "127.2.0.2",
            "localhost": "127.1.0.9", "127.0.0.1": "127.1.0.9"}.get(host)  # fmt: skip


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("postgres://medusa:pw@medusa-postgres:5432/medusa", "postgres://medusa:pw@127.2.0.2:5432/medusa"),
        ("medusa-postgres", "127.2.0.2"),
        ("pg_isready -h 127.0.0.1 -U medusa", "pg_isready -h 127.1.0.9 -U medusa"),
        ("redis-cli -h medusa-postgres.shop.svc.cluster.local ping", "redis-cli -h 127.2.0.2 ping"),
        ("http://localhost:9000,http://example.com", "http://127.1.0.9:9000,http://example.com"),
        ("medusa-postgres-backup", "medusa-postgres-backup"),
    ],
    ids=["the host of a URL", "a bare Service name", "the pod's own loopback in a command",
         "a fully qualified name", "only the known host of a URL list", "a longer word is not the name"],
)  # fmt: skip
def test_host_names_become_addresses_only_where_a_host_stands(value: str, expected: str) -> None:
    assert network.rewrite_hosts(value, _resolve) == expected


def test_an_operators_table_adds_an_image(tmp_path: Path) -> None:
    table = tmp_path / "runtimes.json"
    table.write_text(json.dumps({"runtimes": [{"image": "example.com/tools", "path": ["/bin"],
                                               "command": ["sh"], "requires": ["/bin/sh"]}]}))  # fmt: skip
    loaded = load_table(table)
    entry = loaded.lookup("example.com/tools:1.0")
    assert entry is not None and entry.available and entry.command == ("sh",)
    assert loaded.lookup("postgres:16") is None  # the built-in entries are not merged in


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"runtimes": [{"image": "x", "colour": "red"}]}, "unknown fields colour"),
        ({"runtimes": [{"path": ["/bin"]}]}, 'needs an "image"'),
        ({"images": []}, 'needs a "runtimes" list'),
    ],
    ids=["an unknown field is named", "an entry without an image", "no runtimes list"],
)
def test_a_malformed_table_says_what_is_wrong(
    tmp_path: Path, body: dict[str, object], message: str
) -> None:
    table = tmp_path / "bad.json"
    table.write_text(json.dumps(body))
    with pytest.raises(TableError, match=message):
        load_table(table)


def test_a_missing_build_makes_the_image_unavailable_with_the_fix(tmp_path: Path) -> None:
    table = tmp_path / "runtimes.json"
    table.write_text(json.dumps({"runtimes": [{"image": "shop", "root": str(tmp_path / "none"),
                                               "requires": ["server.js"], "missing": "build it first"}]}))  # fmt: skip
    entry = load_table(table).lookup("shop:1")
    assert entry is not None and not entry.available
    assert entry.problem is not None and entry.problem.startswith("build it first")


@pytest.mark.parametrize(
    ("image", "expected"),
    [
        ("ghcr.io/storeplane/medusa-store:2.20.1", "medusa-store:2.20.1"),
        ("ghcr.io/storeplane/medusa-store:2.21.2", "medusa-store:2.21.2"),
        ("ghcr.io/storeplane/medusa-store:9.9.9", None),
        ("postgres:16-alpine", "postgres"),
        ("postgres", "postgres"),
    ],
    ids=[
        "each Medusa version runs its own build",
        "the default version runs the default build",
        "a Medusa tag no entry names stays simulated",
        "an untagged entry matches any tag",
        "and no tag",
    ],
)
def test_the_runtime_table_maps_an_image_by_its_tag(image: str, expected: str | None) -> None:
    entry = load_table().lookup(image)
    assert (entry.image.rsplit("/", 1)[-1] if entry else None) == expected


def test_a_tagged_entry_wins_over_an_untagged_one(tmp_path: Path) -> None:
    table = tmp_path / "runtimes.json"
    table.write_text(json.dumps({"runtimes": [
        {"image": "shop", "command": ["any"]},
        {"image": "shop:2", "command": ["two"]},
    ]}))  # fmt: skip
    loaded = load_table(table)
    assert [loaded.lookup(i).command for i in ("shop:2", "shop:3", "shop")] == [  # type: ignore[union-attr]
        ("two",),
        ("any",),
        ("any",),
    ]
