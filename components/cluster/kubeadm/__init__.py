"""Upstream Kubernetes with kubeadm over the mesh."""

from .cluster import KubeadmCluster, KubeadmClusterArgs

__all__ = ["KubeadmCluster", "KubeadmClusterArgs"]
