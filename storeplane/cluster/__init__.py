"""The Kubernetes adapter: the only code that talks to an API server (and imports lightkube).

It implements :class:`storeplane.domain.ports.ClusterPort` for any API server — a real cluster
or the storeplane simulator, which is reached over HTTP exactly like one. Library errors are
translated into the domain error tree in :mod:`storeplane.cluster.errors`.
"""

from storeplane.cluster.client import KubernetesCluster, connect

__all__ = ["KubernetesCluster", "connect"]
