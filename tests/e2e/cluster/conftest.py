"""Fixtures of the real-cluster kit: the cluster's settings, the platform chart installed
once per module (and removed afterwards unless STOREPLANE_E2E_KEEP is set), and a client for
storeplane's API reached through a port-forward (or STOREPLANE_E2E_API_URL)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.e2e.cluster.kit import (
    KUBECONFIG_ENV,
    SKIP_REASON,
    Api,
    Kube,
    Settings,
    bootstrap_token,
    install_platform,
    port_forward,
    uninstall_platform,
)


@pytest.fixture(scope="module")
def settings() -> Settings:
    if not os.environ.get(KUBECONFIG_ENV):
        pytest.skip(SKIP_REASON)
    return Settings.from_env()


@pytest.fixture(scope="module")
def kube(settings: Settings) -> Kube:
    return Kube(settings.kubeconfig)


@pytest.fixture(scope="module")
def platform(kube: Kube, settings: Settings) -> Iterator[None]:
    install_platform(kube, settings)
    try:
        yield
    finally:
        if not settings.keep:
            uninstall_platform(kube, settings)


@pytest.fixture(scope="module")
def api(platform: None, kube: Kube, settings: Settings) -> Iterator[Api]:
    """The API with an admin token: STOREPLANE_E2E_API_TOKEN, else the bootstrap token a
    fresh install prints."""
    token = settings.api_token or bootstrap_token(kube, settings)
    if settings.api_url:
        client = Api(settings.api_url, token)
        yield client
        client.close()
        return
    with port_forward(kube, settings) as url:
        client = Api(url, token)
        yield client
        client.close()
