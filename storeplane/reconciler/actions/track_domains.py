"""Record what changed about a store's custom domains: each one that became ``Active`` (its
certificate Secret appeared, or, without TLS, its Ingress rule was applied) or went back to
``Pending``, once per change. Called by every pass that observed the domains; the statuses
themselves are saved with the store (``Store.domain_status``)."""

from __future__ import annotations

from storeplane.domain.conditions import Reason
from storeplane.domain.domains import DomainState, DomainStatus
from storeplane.domain.events import Event
from storeplane.domain.store import Store
from storeplane.reconciler.actions._events import normal
from storeplane.reconciler.context import ReconcileContext


def track_domains(
    store: Store, observed: tuple[DomainStatus, ...], ctx: ReconcileContext
) -> list[Event]:
    before = {d.name: d.status for d in store.domain_status}
    events = []
    for domain in observed:
        if before.get(domain.name) == domain.status:
            continue
        # Pending is said for a new domain and for one that was Active (its Secret went).
        active = domain.status is DomainState.ACTIVE
        reason = Reason.DOMAIN_ACTIVE if active else Reason.DOMAIN_PENDING
        events.append(normal(store, ctx, reason, f"domain {domain.name}: {domain.message}"))
    return events
