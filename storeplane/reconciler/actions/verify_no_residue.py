"""After the namespace is gone, prove that nothing labelled for the store remains anywhere."""

from __future__ import annotations

from storeplane.domain.conditions import Reason
from storeplane.domain.events import Event
from storeplane.domain.store import Store
from storeplane.reconciler.actions._events import describe, normal, warning
from storeplane.reconciler.context import ReconcileContext
from storeplane.reconciler.manifests import STORE_ID_LABEL


async def verify_no_residue(store: Store, ctx: ReconcileContext) -> tuple[bool, list[Event]]:
    """(clean, events). Leftovers found are deleted and reported; the caller checks again."""
    residue = await ctx.cluster.find_residue(store.id)
    if not residue:
        return True, [
            normal(
                store,
                ctx,
                Reason.TEARDOWN_VERIFIED,
                f"no object labelled {STORE_ID_LABEL}={store.id} remains in the cluster "
                "(every namespace and cluster-scoped kind checked)",
            )
        ]
    for ref in residue:
        await ctx.cluster.delete(ref)
    return False, [
        warning(
            store,
            ctx,
            Reason.RESIDUE_FOUND,
            f"{len(residue)} object(s) outlived the namespace and were deleted: {describe(residue)}",
        )
    ]
