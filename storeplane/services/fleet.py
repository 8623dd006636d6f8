"""The fleet overview: ``GET /api/v1/fleet``.

Called by the API router. An admin sees the whole fleet, a member the part it owns; the
figures come from the database through the :class:`storeplane.domain.ports.FleetReader`.
"""

from __future__ import annotations

from storeplane.domain.errors import FeatureUnavailableError
from storeplane.domain.fleet import FleetSummary
from storeplane.domain.ports import FleetReader
from storeplane.domain.users import User


def fleet_summary(
    fleet: FleetReader | None, user: User, *, sample: int, failing: int, events: int
) -> FleetSummary:
    """Counts, provisioning durations over the newest ``sample`` stores, the newest
    ``failing`` failed stores and the newest ``events`` events the user may see."""
    if fleet is None:
        raise FeatureUnavailableError("this server keeps no fleet figures (no SQL database)")
    owner = None if user.is_admin else user.id
    return fleet.summary(owner_id=owner, sample=sample, failing=failing, events=events)
