"""K3s with embedded etcd over the mesh."""

from .cluster import K3sCluster, K3sClusterArgs

__all__ = ["K3sCluster", "K3sClusterArgs"]
