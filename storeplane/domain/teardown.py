"""The conditions of a store that is being deleted: they describe the teardown, not the shop.

Once deletion is requested, "NamespaceReady True: namespace is active" or "StoreReachable
True" would tell a reader (or a program) that the store still serves. From the moment the store
is ``Deleting`` every step condition is False and says where the teardown stands; ``Ready`` is
False with the reconciler's own words. Pure: no I/O, no clock.

Called by :meth:`Store.request_deletion` (the API's 202 answer already shows the teardown) and
by :func:`storeplane.domain.state.derive_conditions` for the deletion states.
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum

from storeplane.domain.conditions import (
    STEP_CONDITIONS,
    Condition,
    ConditionStatus,
    ConditionType,
    Reason,
    set_condition,
)


class TeardownStage(Enum):
    REQUESTED = "requested"
    """Deletion was asked for; the namespace is still there and is deleted next."""
    TERMINATING = "terminating"
    """The namespace is being deleted; the cluster removes what is inside it."""
    GONE = "gone"
    """The namespace is gone; the reconciler checks that nothing of the store is left."""


def teardown_conditions(
    conditions: tuple[Condition, ...],
    namespace: str,
    stage: TeardownStage,
    *,
    now: datetime,
    generation: int,
    ready: tuple[str, str] | None = None,
) -> tuple[Condition, ...]:
    """``conditions`` with every step condition False in the words of ``stage``, and ``Ready``
    False with ``ready`` (reason, message) or, without it, the stage's namespace words."""
    namespace_words = {
        TeardownStage.REQUESTED: (Reason.DELETING, f"namespace {namespace} is to be deleted"),
        TeardownStage.TERMINATING: (
            Reason.NAMESPACE_TERMINATING,
            f"namespace {namespace} is being deleted",
        ),
        TeardownStage.GONE: (Reason.NAMESPACE_DELETED, f"namespace {namespace} is deleted"),
    }[stage]
    removed = {
        TeardownStage.REQUESTED: f"to be removed with namespace {namespace}",
        TeardownStage.TERMINATING: f"being removed with namespace {namespace}",
        TeardownStage.GONE: f"removed with namespace {namespace}; checking that nothing is left",
    }[stage]
    words: dict[ConditionType, tuple[str, str]] = {
        ConditionType.NAMESPACE_READY: namespace_words,
        ConditionType.POLICIES_APPLIED: (Reason.DELETING, f"policies {removed}"),
        ConditionType.WORKLOADS_APPLIED: (Reason.DELETING, f"chart objects {removed}"),
        ConditionType.WORKLOADS_READY: (Reason.DELETING, f"workloads {removed}"),
        ConditionType.STORE_REACHABLE: (
            Reason.DELETING,
            "the store is being deleted and no longer serves",
        ),
    }
    for type_ in STEP_CONDITIONS:
        reason, message = words[type_]
        conditions = set_condition(
            conditions,
            type_,
            ConditionStatus.FALSE,
            reason,
            message,
            now=now,
            generation=generation,
        )
    reason, message = ready or (Reason.DELETING, f"deleting: {namespace_words[1]}")
    return set_condition(
        conditions,
        ConditionType.READY,
        ConditionStatus.FALSE,
        reason,
        message,
        now=now,
        generation=generation,
    )
