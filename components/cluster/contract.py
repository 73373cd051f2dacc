"""What a Kubernetes cluster layer gives the layers above it."""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s

from .common.endpoint import LOCAL_LB_HOST, LOCAL_LB_PORT

# Where every etcd member (embedded, stacked or dedicated) serves /metrics,
# plain HTTP, reachable over the mesh only.
ETCD_METRICS_PORT = 2381


@dataclass(frozen=True)
class KubernetesCluster:
    """The one contract between the cluster layer and the platform layer."""

    name: str
    distribution: str
    api_endpoint: str
    """URL the nodes use for the API (survives the loss of any one control plane)."""
    kubeconfig: pulumi.Output[str]
    """Admin kubeconfig, rewritten to the HA endpoint; always a Pulumi secret."""
    provider: k8s.Provider
    """Kubernetes provider built from ``kubeconfig`` with a stable cluster_identifier."""
    mesh_mtu: int
    pod_cidr: str
    service_cidr: str
    ready: list[pulumi.Resource] = field(default_factory=list)
    """What add-ons must wait for (every node joined)."""
    api_host: str = LOCAL_LB_HOST
    """Host of the node-local API load balancer, valid on every node (e.g.
    Cilium's k8sServiceHost for kube-proxy replacement)."""
    api_port: int = LOCAL_LB_PORT
    """Port of the node-local API load balancer (Cilium's k8sServicePort)."""
    external_endpoint: pulumi.Output[str] | None = None
    """The ``server`` of the kubeconfig output (outside the mesh)."""
    priority_classes: tuple[str, ...] = ()
    """PriorityClass names created in the cluster, highest first."""
    kube_proxy: bool = True
    """False: the cluster runs no kube-proxy and the CNI must replace it."""
    etcd_metrics: tuple[str, ...] = ()
    """Mesh IPs of the etcd members, each serving /metrics on port 2381."""
