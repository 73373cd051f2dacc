"""Node labels and taints as both distributions take them.

The topology plan (components/topology/plan.py) already computed region,
provider, node group, GPU and on-prem labels and the GPU taint; this adds
the zone and the control-plane taint of dedicated control planes, and
formats them for kubelet flags and kubeadm's nodeRegistration.
"""

from __future__ import annotations

from components.compute.node import Node

ZONE = "topology.kubernetes.io/zone"
REGION = "topology.kubernetes.io/region"
CONTROL_PLANE_TAINT = {"key": "node-role.kubernetes.io/control-plane", "value": "", "effect": "NoSchedule"}


def is_hyperconverged(node: Node) -> bool:
    """A control plane that also runs workloads (seed 004: every node)."""
    return node.is_control_plane and node.is_worker


def labels_of(node: Node) -> dict[str, str]:
    """Kubernetes labels of a node. Our regions are datacenters (fsn1,
    fr-par-2, GRA11), so the zone is the region unless the user set one."""
    labels = dict(node.labels)
    labels.setdefault(REGION, node.region)
    labels.setdefault(ZONE, node.region)
    return labels


def taints_of(node: Node) -> list[dict]:
    """Taints of a node: the group's (GPU included), plus the control-plane
    taint on control planes that are not workers."""
    taints = [dict(t) for t in node.taints]
    if node.is_control_plane and not node.is_worker and not any(t["key"] == CONTROL_PLANE_TAINT["key"] for t in taints):
        taints.append(dict(CONTROL_PLANE_TAINT))
    return taints


def label_args(labels: dict[str, str]) -> list[str]:
    """``key=value`` items, sorted for stable scripts."""
    return [f"{k}={v}" for k, v in sorted(labels.items())]


def taint_arg(taint: dict) -> str:
    """``key=value:Effect`` (``key:Effect`` without a value), as kubelet and k3s take it."""
    value = taint.get("value") or ""
    return f"{taint['key']}={value}:{taint['effect']}" if value else f"{taint['key']}:{taint['effect']}"
