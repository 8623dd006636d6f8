"""Custom domains through the reconciler: each one is a host of the store's Ingress (with its
own TLS entry for cert-manager when TLS is on) and an allowed origin of Medusa; it is Pending
until its certificate Secret appears (created here with the official kubectl, as cert-manager
would) and then Active, with one event each. Real helm, the simulator over HTTP."""

from __future__ import annotations

import json
import subprocess
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from storeplane.domain.domains import DomainState, tls_secret_name
from storeplane.domain.store import Engine, Phase, Store
from storeplane.engines import Exposure
from storeplane.sim.runner import RunningSimulator
from tests.reconciler.conftest import Harness, kubectl, suspended


@pytest.fixture
def sim(maintenance_sim: RunningSimulator) -> RunningSimulator:
    return maintenance_sim


def _with_domains(harness: Harness, store: Store, *domains: str) -> Store:
    return store.with_domains(
        domains, now=harness.ctx.clock(), deadline=harness.ctx.timing.deadline
    )


def _certificate(folder: Path, host: str) -> tuple[Path, Path]:
    """A self-signed certificate for ``host``, as the issuer would have signed one."""
    cert, key = folder / "tls.crt", folder / "tls.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", f"/CN={host}", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return cert, key


def _env(harness: Harness, store: Store, deployment: str) -> dict[str, str]:
    found = json.loads(
        kubectl(
            harness.kubeconfig, "-n", store.namespace, "get", "deploy", deployment, "-o", "json"
        )
    )
    container = found["spec"]["template"]["spec"]["containers"][0]
    return {e["name"]: e.get("value", "") for e in container["env"]}


async def test_a_domain_is_pending_until_its_certificate_secret_exists(
    harness: Harness, tmp_path: Path
) -> None:
    harness.ctx = replace(harness.ctx, exposure=Exposure(tls=True, cluster_issuer="letsencrypt"))
    store = harness.new_store(Engine.MEDUSA)
    domain = f"shop-{store.id[-8:]}.example.com"
    store = await harness.until(_with_domains(harness, store, domain), {Phase.READY}, passes=400)
    ingress = json.loads(
        kubectl(harness.kubeconfig, "-n", store.namespace, "get", "ingress", "-o", "json")
    )["items"][0]
    secret = tls_secret_name(domain)
    assert [r["host"] for r in ingress["spec"]["rules"]] == [f"{store.id}.localtest.me", domain]
    assert {"hosts": [domain], "secretName": secret} in ingress["spec"]["tls"]
    assert ingress["metadata"]["annotations"]["cert-manager.io/cluster-issuer"] == "letsencrypt"
    env = _env(harness, store, "medusa-server")
    for name in ("STORE_CORS", "ADMIN_CORS", "AUTH_CORS"):
        assert env[name] == f"https://{store.id}.localtest.me,https://{domain}"
    (status,) = store.domain_status
    assert status.status is DomainState.PENDING and secret in status.message
    assert harness.reasons(store).count("DomainPending") == 1

    cert, key = _certificate(tmp_path, domain)
    kubectl(harness.kubeconfig, "-n", store.namespace, "create", "secret", "tls", secret,
            f"--cert={cert}", f"--key={key}")  # fmt: skip
    result = await harness.once(store)
    (status,) = result.store.domain_status
    assert status.status is DomainState.ACTIVE, status
    assert result.store.phase == Phase.READY
    assert [e.reason for e in result.events] == ["DomainActive"]
    assert domain in result.events[0].message
    assert (await harness.once(result.store)).events == []  # said once


async def test_without_tls_a_domain_is_active_once_on_the_ingress_and_is_routed(
    harness: Harness,
) -> None:
    store = harness.new_store(Engine.MEDUSA)
    domain = f"www-{store.id[-8:]}.example.org"
    store = await harness.until(_with_domains(harness, store, domain), {Phase.READY}, passes=400)
    (status,) = store.domain_status
    assert status.status is DomainState.ACTIVE and "no TLS" in status.message
    # The simulator's ingress routes the custom host like the store's own: suspended, both
    # answer the maintenance page.
    store = await harness.until(suspended(store, harness.ctx), {Phase.SUSPENDED}, passes=400)
    assert harness.sim.ingress_url is not None
    for host in (domain, f"{store.id}.localtest.me"):
        answer = httpx.get(f"{harness.sim.ingress_url}/", headers={"Host": host}, timeout=10)
        assert answer.status_code == 503 and "under maintenance" in answer.text, host
    removed = await harness.until(_with_domains(harness, store), {Phase.SUSPENDED}, passes=400)
    assert removed.domain_status == ()
    gone = httpx.get(f"{harness.sim.ingress_url}/", headers={"Host": domain}, timeout=10)
    assert gone.status_code == 404
