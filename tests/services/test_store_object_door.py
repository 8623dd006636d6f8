"""The Store-object door in the store use cases, on a real repository (SQLite and
PostgreSQL): a store made through a Store object is owned by it (``managed_by``), a second
create for the same object uid returns the first store (what makes a crash between seeing
an object and recording its store harmless), and only that object may change it: a REST
caller gets the 409 naming it."""

from __future__ import annotations

from dataclasses import replace

import pytest

from storeplane.db import SqlStoreRepository
from storeplane.domain.errors import ManagedByObjectError
from storeplane.domain.plans import PlanName
from storeplane.domain.store import Engine, StoreSpec
from storeplane.domain.store_objects import StoreKubeObject, object_status, spec_of
from storeplane.domain.users import User
from storeplane.services import stores as service
from tests.services.test_stores import SETTINGS, who

SPEC = StoreSpec(name="gitops-shop", engine=Engine.MEDUSA, plan=PlanName.SMALL)
REF = "Store default/gitops-shop"


def door(repo: SqlStoreRepository) -> User:
    return replace(who(repo, "kubernetes"), name=f"{REF} (kubectl)", via_object=REF)


def test_a_store_made_through_an_object_is_owned_by_it_and_made_once(
    repo: SqlStoreRepository,
) -> None:
    first = service.create_store(repo, SPEC, SETTINGS, door(repo), object_uid="uid-1")
    again = service.create_store(repo, SPEC, SETTINGS, door(repo), object_uid="uid-1")
    assert again.id == first.id and first.managed_by == REF
    assert repo.by_managed_uid("uid-1") == repo.get(first.id)
    (created,) = [e for e in repo.events(first.id) if e.reason == "Created"]
    assert created.actor == f"{REF} (kubectl)"


@pytest.mark.parametrize(
    "change",
    [
        lambda repo, sid, user: service.change_plan(repo, sid, PlanName.LARGE, SETTINGS, user),
        lambda repo, sid, user: service.change_labels(repo, sid, {"team": "x"}, user),
        lambda repo, sid, user: service.delete_store(repo, sid, user),
        lambda repo, sid, user: service.retry_store(repo, sid, SETTINGS, user),
        lambda repo, sid, user: service.change_domains(
            repo, sid, ["a.example.com"], SETTINGS, user
        ),
    ],
    ids=["a plan change", "a labels change", "a delete", "a retry", "a domains change"],
)
def test_a_rest_change_of_an_object_owned_store_is_a_409_naming_it(
    repo: SqlStoreRepository, change: object
) -> None:
    store = service.create_store(repo, SPEC, SETTINGS, door(repo), object_uid="uid-2")
    with pytest.raises(
        ManagedByObjectError, match="managed by the Kubernetes object Store default/gitops-shop"
    ):
        change(repo, store.id, who(repo, "alice"))  # type: ignore[operator]
    assert (
        service.change_plan(repo, store.id, PlanName.LARGE, SETTINGS, door(repo)).spec.plan
        == PlanName.LARGE
    )


def test_an_objects_domains_reach_its_store_and_its_status(repo: SqlStoreRepository) -> None:
    obj = StoreKubeObject.from_manifest({
        "metadata": {"namespace": "default", "name": "gitops-shop", "uid": "uid-3",
                     "generation": 2},
        "spec": {"engine": "medusa", "domains": ["Shop.Example.com", "www.example.com"]},
    })  # fmt: skip
    spec = spec_of(obj)
    assert spec.domains == ("Shop.Example.com", "www.example.com")  # the service validates
    store = service.create_store(repo, replace(spec, domains=()), SETTINGS, door(repo),
                                 object_uid=obj.uid)  # fmt: skip
    store = service.change_domains(repo, store.id, spec.domains, SETTINGS, door(repo))
    assert store.spec.domains == ("shop.example.com", "www.example.com")
    assert object_status(store, obj)["domains"] == [
        {"name": "shop.example.com", "status": "Pending",
         "message": "not on the store's Ingress yet: the reconciler adds it"},
        {"name": "www.example.com", "status": "Pending",
         "message": "not on the store's Ingress yet: the reconciler adds it"},
    ]  # fmt: skip
