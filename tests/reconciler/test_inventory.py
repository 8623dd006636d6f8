"""The store inventory behind ``GET /api/v1/stores/{id}/objects``: a Ready store's namespace,
quota, limit range, network policies, service account, secrets, services, Deployments and
their pods, all Healthy by the reconciler's readiness rules; an object deleted by hand is
Missing until the next pass restores it, then carries that DriftCorrected; a Secret's YAML
holds no value. Against the real simulator over HTTP and the real helm binary."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest
import yaml

from storeplane.db import SqlStoreRepository, create_engine_for, migrate
from storeplane.domain.errors import NameTakenError, ObjectNotFoundError
from storeplane.domain.objects import ObjectHealth
from storeplane.domain.store import Phase, Store
from storeplane.domain.users import Role, User
from storeplane.reconciler.inventory import StoreInventory
from storeplane.services import objects
from tests.db.helpers import T0
from tests.reconciler.conftest import Harness

ADMIN = User(id="user-admin00000", name="root", role=Role.ADMIN, created_at=T0)
POLICY = "/apis/networking.k8s.io/v1/namespaces/{ns}/networkpolicies/default-deny"


@pytest.fixture
def repo(tmp_path: Path) -> SqlStoreRepository:
    url = f"sqlite:///{tmp_path / 'inventory.db'}"
    migrate(url)
    return SqlStoreRepository(create_engine_for(url))


def _record(repo: SqlStoreRepository, harness: Harness, store: Store) -> None:
    """Put the store and the events its passes recorded where the service reads them."""
    with contextlib.suppress(NameTakenError):  # recorded by an earlier call
        repo.create(store, [])
    known = {(e.reason, e.message) for e in repo.events(store.id)}
    repo.append_events(
        [e for e in harness.events if e.store_id == store.id and (e.reason, e.message) not in known]
    )


async def test_a_ready_stores_tree_lists_every_object_with_its_health(
    harness: Harness, repo: SqlStoreRepository
) -> None:
    store = await harness.until(harness.new_store(), {Phase.READY})
    _record(repo, harness, store)
    inventory = StoreInventory(harness.ctx)
    tree = await objects.store_objects(repo, inventory, store.id, ADMIN)
    kinds = {o.kind for o in tree}
    assert tree[0].kind == "Namespace" and tree[0].name == store.namespace
    assert {
        "ResourceQuota",
        "LimitRange",
        "NetworkPolicy",
        "ServiceAccount",
        "Secret",
        "Service",
        "Deployment",
        "Pod",
    } <= kinds
    unhealthy = [
        (o.kind, o.name, o.health, o.status) for o in tree if o.health != ObjectHealth.HEALTHY
    ]
    assert unhealthy == []
    workloads = {f"{o.kind}/{o.name}" for o in tree if o.kind in ("Deployment", "StatefulSet")}
    pods = [o for o in tree if o.kind == "Pod"]
    assert pods and all(p.parent in workloads for p in pods), [(p.name, p.parent) for p in pods]
    assert any(p.parent and p.parent.startswith("Deployment/") for p in pods)
    assert sum(o.kind == "NetworkPolicy" for o in tree) >= 3
    quota = next(o for o in tree if o.kind == "ResourceQuota")
    assert "pods" in quota.status or "cpu" in quota.status

    secret = next(o for o in tree if o.kind == "Secret")
    _, text = await objects.object_yaml(repo, inventory, store.id, ADMIN, "Secret", secret.name)
    shown = yaml.safe_load(text)
    assert shown["data"] and set(shown["data"].values()) == {"(hidden)"}
    live = harness.kube.get(f"/api/v1/namespaces/{store.namespace}/secrets/{secret.name}").json()
    for value in live["data"].values():
        assert value not in text
    assert "managedFields" not in shown["metadata"]

    with pytest.raises(ObjectNotFoundError, match="its Deployment objects: medusa"):
        await objects.object_yaml(repo, inventory, store.id, ADMIN, "Deployment", "nope")


async def test_an_object_deleted_by_hand_is_missing_then_shown_as_drift_corrected(
    harness: Harness, repo: SqlStoreRepository
) -> None:
    store = await harness.until(harness.new_store(), {Phase.READY})
    inventory = StoreInventory(harness.ctx)
    harness.kube.delete(POLICY.format(ns=store.namespace)).raise_for_status()
    _record(repo, harness, store)
    tree = await objects.store_objects(repo, inventory, store.id, ADMIN)
    policy = next(o for o in tree if o.kind == "NetworkPolicy" and o.name == "default-deny")
    assert policy.health == ObjectHealth.MISSING and policy.manifest is None

    store = await harness.until(store, {Phase.READY})
    _record(repo, harness, store)
    tree = await objects.store_objects(repo, inventory, store.id, ADMIN)
    policy = next(o for o in tree if o.kind == "NetworkPolicy" and o.name == "default-deny")
    assert policy.health == ObjectHealth.HEALTHY
    assert policy.drift_corrected_at is not None and "default-deny" in (policy.drift_message or "")
    others = [o for o in tree if o.drift_corrected_at and o.name != "default-deny"]
    assert others == []
