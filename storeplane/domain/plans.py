"""Store plans: the quota and default container limits each store's namespace gets.

| plan   | requests cpu/mem | limits cpu/mem | pods | PVCs | storage | default request | default limit |
|--------|------------------|----------------|------|------|---------|-----------------|---------------|
| small  | 1 / 2Gi          | 2 / 4Gi        | 10   | 4    | 10Gi    | 100m / 128Mi    | 500m / 512Mi  |
| medium | 2 / 4Gi          | 4 / 8Gi        | 20   | 6    | 20Gi    | 200m / 256Mi    | 1 / 1Gi       |
| large  | 4 / 8Gi          | 8 / 16Gi       | 40   | 8    | 50Gi    | 250m / 512Mi    | 2 / 2Gi       |

The quota bounds what one store may consume (its blast radius); the LimitRange defaults apply
to any container that declares no resources, so nothing runs unbounded.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class PlanName(StrEnum):
    SMALL = "small"
    MEDIUM = "medium"
    LARGE = "large"


@dataclass(frozen=True, slots=True)
class Quota:
    requests_cpu: str
    requests_memory: str
    limits_cpu: str
    limits_memory: str
    pods: int
    persistentvolumeclaims: int
    requests_storage: str


@dataclass(frozen=True, slots=True)
class ContainerDefaults:
    cpu: str
    memory: str


@dataclass(frozen=True, slots=True)
class Plan:
    name: PlanName
    description: str
    quota: Quota
    default_requests: ContainerDefaults
    default_limits: ContainerDefaults


PLANS: dict[PlanName, Plan] = {
    PlanName.SMALL: Plan(
        name=PlanName.SMALL,
        description="A trial or a small shop: one app replica, a small database.",
        quota=Quota("1", "2Gi", "2", "4Gi", 10, 4, "10Gi"),
        default_requests=ContainerDefaults("100m", "128Mi"),
        default_limits=ContainerDefaults("500m", "512Mi"),
    ),
    PlanName.MEDIUM: Plan(
        name=PlanName.MEDIUM,
        description="A growing shop: room for a second replica and more database memory.",
        quota=Quota("2", "4Gi", "4", "8Gi", 20, 6, "20Gi"),
        default_requests=ContainerDefaults("200m", "256Mi"),
        default_limits=ContainerDefaults("1", "1Gi"),
    ),
    PlanName.LARGE: Plan(
        name=PlanName.LARGE,
        description="A busy shop: several replicas, a large database and more storage.",
        quota=Quota("4", "8Gi", "8", "16Gi", 40, 8, "50Gi"),
        default_requests=ContainerDefaults("250m", "512Mi"),
        default_limits=ContainerDefaults("2", "2Gi"),
    ),
}


def get_plan(name: PlanName) -> Plan:
    return PLANS[name]
