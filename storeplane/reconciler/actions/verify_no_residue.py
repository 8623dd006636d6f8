"""After the namespace is gone, prove that nothing of the store remains: no object labelled
for it anywhere in the cluster and, on storeplane's simulator, no process and no folder of
its pods and claims on the node (CONTRACTS D; a real cluster has no such endpoint, and the
event says that part was not checked)."""

from __future__ import annotations

from storeplane.domain.conditions import Reason
from storeplane.domain.errors import RetryableError
from storeplane.domain.events import Event
from storeplane.domain.ports import NodeResidue
from storeplane.domain.store import Store
from storeplane.reconciler.actions._events import normal
from storeplane.reconciler.context import ReconcileContext
from storeplane.reconciler.manifests import STORE_ID_LABEL
from storeplane.reconciler.steps import OBJECTS

NODE_WAIT_SECONDS = 1.0  # the node stops a pod's processes after its grace period


def _shown(items: list[str], limit: int = 5) -> str:
    more = len(items) - limit
    return ", ".join(items[:limit]) + (f" and {more} more" if more > 0 else "")


def node_leftovers(namespace: str, node: NodeResidue) -> str:
    """What the node still has for the namespace, in words."""
    parts = []
    if node.processes:
        parts.append(
            f"{len(node.processes)} process(es) alive: {_shown([str(p) for p in node.processes])}"
        )
    if node.folders:
        parts.append(f"{len(node.folders)} folder(s) on disk: {_shown(list(node.folders))}")
    return f"namespace {namespace} is gone but the simulator's node still has " + "; ".join(parts)


async def verify_no_residue(store: Store, ctx: ReconcileContext) -> tuple[bool, list[Event]]:
    """(clean, events). Leftover objects are deleted and reported; the caller checks again.

    Processes or folders still on the simulator's node raise RetryableError (reason
    ``ResidueFound``) naming them: the store stays Deleting with that reason, retried with
    backoff, until the node has stopped and removed them (storeplane cannot delete them: they
    belong to the node, as a real kubelet's do)."""
    residue = await ctx.cluster.find_residue(store.id)
    if residue:
        async with ctx.steps.step(
            store,
            Reason.RESIDUE_FOUND,
            f"{len(residue)} object(s) outlived the namespace and were deleted: {OBJECTS}",
            deletes=residue,
            warning=True,
        ) as step:
            for ref in residue:
                await step.delete(ref)
        return False, step.events
    node = await ctx.cluster.node_residue(store.namespace)
    if node is not None and not node.empty:
        raise RetryableError(
            node_leftovers(store.namespace, node)
            + "; waiting for the node to stop and remove them",
            reason=Reason.RESIDUE_FOUND,
            retry_after=NODE_WAIT_SECONDS,
        )
    objects = (
        f"no object labelled {STORE_ID_LABEL}={store.id} remains in the cluster "
        "(every namespace and cluster-scoped kind checked)"
    )
    if node is None:
        processes = (
            "; processes and folders not checked: the cluster has no node residue endpoint, or "
            "does not let storeplane ask (a real cluster, whose kubelets clean up after their "
            "pods)"
        )
    else:
        processes = (
            f"; no process and no folder of namespace {store.namespace}'s pods or claims "
            "remains on the simulator's node"
        )
    return True, [normal(store, ctx, Reason.TEARDOWN_VERIFIED, objects + processes)]
