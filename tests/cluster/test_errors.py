"""Error mapping at the adapter boundary (``storeplane/cluster/errors.py``), through the real
simulator: every failure reaches the caller as a domain error whose message says what failed."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from storeplane.cluster import KubernetesCluster, connect
from storeplane.domain.errors import RetryableError, StoreplaneError, TerminalError
from storeplane.domain.ports import ObjectRef
from storeplane.sim.kubeconfig import write_kubeconfig
from tests.cluster.manifests import config_map, deployment, unique


def _bad_label(ns: str) -> dict[str, Any]:
    manifest = config_map("settings", ns, {"a": "1"})
    manifest["metadata"]["labels"] = {"tier": "not valid"}
    return manifest


def _mismatched_selector(ns: str) -> dict[str, Any]:
    manifest = deployment("web", ns, "store-a")
    manifest["spec"]["template"]["metadata"]["labels"] = {"app": "other"}
    return manifest


INVALID: list[tuple[str, Callable[[str], dict[str, Any]], str, str]] = [
    (
        "a name with upper-case letters",
        lambda ns: config_map("Settings", ns, {"a": "1"}),
        "ConfigMap {ns}/Settings",
        'metadata.name: Invalid value: "Settings"',
    ),
    (
        "a label value with a space",
        _bad_label,
        "ConfigMap {ns}/settings",
        'metadata.labels: Invalid value: "not valid"',
    ),
    (
        "a Deployment whose selector does not match its pod labels",
        _mismatched_selector,
        "Deployment {ns}/web",
        "`selector` does not match template `labels`",
    ),
]


@pytest.mark.parametrize(
    ("build", "names", "server_words"),
    [case[1:] for case in INVALID],
    ids=[f"{case[0]} is a terminal error naming the object" for case in INVALID],
)
async def test_an_invalid_object_is_terminal_with_the_api_server_words(
    cluster: KubernetesCluster,
    ns: str,
    build: Callable[[str], dict[str, Any]],
    names: str,
    server_words: str,
) -> None:
    with pytest.raises(TerminalError) as caught:
        await cluster.apply(build(ns))
    message = caught.value.message
    assert f"apply {names.format(ns=ns)}:" in message
    assert server_words in message
    assert "(HTTP 422 Invalid)" in message
    assert caught.value.reason == "InvalidObject"
    assert str(caught.value) == message


@pytest.mark.parametrize(
    "write",
    [
        lambda c, m: c.apply(m),
        lambda c, m: c.create_if_absent(m),
    ],
    ids=[
        "applying into a missing namespace is retryable",
        "creating into a missing namespace is retryable",
    ],
)
async def test_writing_into_a_missing_namespace_is_retryable(
    cluster: KubernetesCluster,
    write: Callable[[KubernetesCluster, dict[str, Any]], Awaitable[object]],
) -> None:
    missing = unique("gone")
    with pytest.raises(RetryableError) as caught:
        await write(cluster, config_map("settings", missing, {"a": "1"}))
    assert f"ConfigMap {missing}/settings" in caught.value.message
    assert f'namespaces "{missing}" not found' in caught.value.message
    assert "HTTP 404" in caught.value.message
    assert caught.value.reason == "NamespaceNotFound"


def _closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
async def unreachable(tmp_path: Path) -> AsyncIterator[KubernetesCluster]:
    path = write_kubeconfig(tmp_path / "kubeconfig", f"http://127.0.0.1:{_closed_port()}")
    adapter = connect(path, timeout=5)
    try:
        yield adapter
    finally:
        await adapter.close()


CALLS: list[tuple[str, Callable[[KubernetesCluster], Awaitable[object]]]] = [
    ("reading a namespace", lambda c: c.namespace_status("shop")),
    ("applying", lambda c: c.apply(config_map("settings", "shop", {"a": "1"}))),
    ("creating once", lambda c: c.create_if_absent(config_map("creds", "shop", {"a": "1"}))),
    ("listing owned objects", lambda c: c.list_owned("store-a", "shop")),
    ("deleting", lambda c: c.delete(ObjectRef("v1", "ConfigMap", "settings", "shop"))),
    ("scanning for residue", lambda c: c.find_residue("store-a")),
    ("a health check", lambda c: c.service_get("shop", "web", 80, "/health")),
]


@pytest.mark.parametrize(
    "call",
    [call for _, call in CALLS],
    ids=[f"{what} with the API server down is retryable ClusterUnavailable" for what, _ in CALLS],
)
async def test_an_unreachable_api_server_is_retryable(
    unreachable: KubernetesCluster, call: Callable[[KubernetesCluster], Awaitable[object]]
) -> None:
    with pytest.raises(RetryableError) as caught:
        await call(unreachable)
    assert caught.value.reason == "ClusterUnavailable"
    assert "cannot reach the Kubernetes API" in caught.value.message
    assert isinstance(caught.value.__cause__, Exception)


async def test_no_library_exception_escapes_the_adapter(cluster: KubernetesCluster) -> None:
    """Whatever goes wrong, the caller sees the domain tree, never lightkube or httpx."""
    with pytest.raises(StoreplaneError):
        await cluster.apply(config_map("settings", unique("gone"), {"a": "1"}))
    with pytest.raises(StoreplaneError):
        await cluster.apply(config_map("BAD", "default", {"a": "1"}))
