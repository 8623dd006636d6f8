from datetime import UTC, datetime, timedelta

import pytest

from storeplane.domain.errors import InvalidRequestError, InvalidTransitionError
from storeplane.domain.plans import PlanName
from storeplane.domain.store import (
    Engine,
    Phase,
    Store,
    StoreSpec,
    is_store_id,
    new_store_id,
    validate_name,
    validate_new_name,
)

NOW = datetime(2026, 1, 1, tzinfo=UTC)
DEADLINE = timedelta(minutes=10)


def make_store(**changes: object) -> Store:
    store = Store.create(
        StoreSpec("shop", Engine.MEDUSA, PlanName.SMALL),
        store_id="store-abc12345",
        url="http://store-abc12345.localtest.me",
        now=NOW,
        deadline=DEADLINE,
    )
    from dataclasses import replace

    return replace(store, **changes)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "name",
    ["abc", "my-shop", "a1", "shop-", "-shop", "Shop", "my_shop", "a" * 41, "sh op", "1shop", ""],
    ids=[
        "three letters are fine",
        "a dash inside is fine",
        "two characters are too short",
        "a trailing dash is refused",
        "a leading dash is refused",
        "upper case is refused",
        "an underscore is refused",
        "41 characters are too long",
        "a space is refused",
        "a leading digit is refused",
        "the empty name is refused",
    ],
)
def test_store_names_follow_the_dns_label_rule(name: str) -> None:
    valid = name in ("abc", "my-shop")
    if valid:
        assert validate_name(name) == name
    else:
        with pytest.raises(InvalidRequestError) as info:
            validate_name(name)
        assert info.value.field == "name"
        assert "name must" in info.value.message


def test_store_ids_are_namespace_names_and_differ() -> None:
    ids = {new_store_id() for _ in range(200)}
    assert len(ids) == 200
    assert all(i.startswith("store-") and len(i) == 14 and validate_name(i) for i in ids)
    assert all(is_store_id(i) for i in ids)


@pytest.mark.parametrize(
    ("text", "is_id"),
    [
        ("store-xbw4br7o", True),
        ("store-12345678", True),
        ("store-front", False),
        ("store-xbw4br7o1", False),
        ("store-xbw4br7", False),
        ("store-XBW4BR7O", False),
        ("store-xbw4-r7o", False),
        ("my-store-xbw4br7o", False),
        ("store-xbw4br7o\n", False),
    ],
    ids=[
        "an id is an id",
        "digits only are an id",
        "a word after store- is a name",
        "one character too many is a name",
        "one character too few is a name",
        "upper case is not an id",
        "a hyphen inside is not an id",
        "a prefix before store- is not an id",
        "a trailing newline is not an id",
    ],
)
def test_the_id_form_is_store_dash_and_eight_of_a_z0_9(text: str, is_id: bool) -> None:
    assert is_store_id(text) is is_id


def test_a_new_store_may_not_be_named_like_an_id_but_an_old_one_keeps_its_name() -> None:
    assert validate_new_name("store-front") == "store-front"
    with pytest.raises(InvalidRequestError) as info:
        validate_new_name("store-xbw4br7o")
    assert info.value.field == "name"
    assert "must not look like a store id" in info.value.message
    assert "could mean another store" in info.value.message
    # Stores named so before the rule still load.
    assert StoreSpec("store-xbw4br7o", Engine.MEDUSA, PlanName.SMALL).name == "store-xbw4br7o"


def test_a_new_store_is_pending_at_generation_one_and_due_now() -> None:
    store = make_store()
    assert (store.phase, store.generation, store.observed_generation) == (Phase.PENDING, 1, 0)
    assert store.next_reconcile_at == NOW
    assert store.deadline_at == NOW + DEADLINE
    assert store.namespace == store.id
    assert all(c.status == "Unknown" for c in store.conditions)


def test_changing_the_plan_of_a_ready_store_bumps_generation_and_means_updating() -> None:
    store = make_store(phase=Phase.READY, observed_generation=1, deadline_at=None)
    later = NOW + timedelta(hours=1)
    changed = store.with_plan(PlanName.MEDIUM, now=later, deadline=DEADLINE)
    assert changed.spec.plan == PlanName.MEDIUM
    assert (changed.generation, changed.phase) == (2, Phase.UPDATING)
    assert changed.deadline_at == later + DEADLINE
    assert changed.revision == store.revision + 1


def test_the_same_plan_again_changes_nothing() -> None:
    store = make_store(phase=Phase.READY, observed_generation=1)
    assert store.with_plan(PlanName.SMALL, now=NOW, deadline=DEADLINE) is store


def test_a_store_that_never_became_ready_keeps_provisioning_after_a_plan_change() -> None:
    store = make_store(phase=Phase.FAILED)
    assert store.with_plan(PlanName.LARGE, now=NOW, deadline=DEADLINE).phase == Phase.PROVISIONING


def test_deletion_is_idempotent_and_blocks_further_changes() -> None:
    store = make_store(phase=Phase.READY)
    deleting = store.request_deletion(now=NOW)
    assert deleting.phase == Phase.DELETING and deleting.is_deleting
    assert deleting.request_deletion(now=NOW + timedelta(seconds=5)) is deleting
    with pytest.raises(InvalidTransitionError, match="deleting"):
        deleting.with_plan(PlanName.LARGE, now=NOW, deadline=DEADLINE)


def test_retry_resets_the_deadline_and_the_backoff() -> None:
    store = make_store(
        phase=Phase.FAILED, failures=7, deadline_at=NOW, next_reconcile_at=NOW + timedelta(hours=1)
    )
    later = NOW + timedelta(hours=2)
    retried = store.request_retry(now=later, deadline=DEADLINE)
    assert (retried.phase, retried.failures) == (Phase.PROVISIONING, 0)
    assert retried.deadline_at == later + DEADLINE and retried.next_reconcile_at == later


def test_a_deleted_store_cannot_be_retried() -> None:
    with pytest.raises(InvalidTransitionError, match="deleted"):
        make_store(phase=Phase.DELETED).request_retry(now=NOW, deadline=DEADLINE)
