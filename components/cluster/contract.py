"""What a Kubernetes cluster layer gives the layers above it."""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s


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
