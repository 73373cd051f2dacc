"""The platform layer: CNI (Cilium or Calico) and the opt-in add-ons.

``build_platform(spec, cluster, nodes)`` is the one entry point the stack
composition calls after the cluster. What it needs from the cluster
contract (components/cluster/contract.py): ``provider`` (every object goes
through it), ``ready`` (everything waits for it), ``mesh_mtu`` (pod MTU),
``pod_cidr`` (IP pools), ``api_host``/``api_port`` (node-local API for
Cilium), ``kube_proxy`` and ``priority_classes``.
"""

from __future__ import annotations

import pulumi

from .component import Platform, PlatformArgs

__all__ = ["Platform", "PlatformArgs", "build_platform"]


def build_platform(spec, cluster, nodes: list, secrets: dict | None = None,
                   opts: pulumi.ResourceOptions | None = None) -> Platform:
    return Platform(f"{spec.name}-platform",
                    {"spec": spec, "cluster": cluster, "nodes": list(nodes), "secrets": dict(secrets or {})}, opts)
