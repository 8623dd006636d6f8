"""The default admission chain: the plugins a real API server enables by default that the
simulator models, in the API server's order (``kube-apiserver`` default
``--enable-admission-plugins``). Built once per :class:`~storeplane.sim.store.cluster.Cluster`."""

from __future__ import annotations

from .chain import Chain
from .limit_ranger import LimitRanger
from .namespace_lifecycle import NamespaceLifecycle
from .pod_security import PodSecurity
from .resource_quota import ResourceQuota
from .service_account import ServiceAccount


def default_chain() -> Chain:
    return Chain(
        [NamespaceLifecycle(), LimitRanger(), ServiceAccount(), PodSecurity(), ResourceQuota()]
    )
