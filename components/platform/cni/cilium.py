"""Cilium (seed 004): eBPF, kube-proxy replacement, optional WireGuard and Hubble.

Pods are VXLAN-encapsulated between node mesh IPs (the node InternalIP is
the mesh address, so tunnels ride wg0); see ``components/platform/mtu.py``
for the MTU arithmetic. The agents reach the API through the node-local
load balancer of the cluster contract (``api_host:api_port``), never one
server's address, so kube-proxy replacement survives losing a server.
"""

from __future__ import annotations

from typing import Any

from ..chart_values import CiliumValues, typed
from ..charts import CHARTS
from ..model import AddonPlan, PlatformContext, Release, Workload
from ..mtu import pod_mtu
from ..profiles import replicas, requests
from ..values import deep_merge


def cilium_values(ctx: PlatformContext) -> CiliumValues:
    spec = ctx.spec
    encrypt = spec.network.encryption == "cni"
    operator: dict[str, Any] = {"replicas": replicas(ctx.profile, 2 if len(ctx.nodes) > 1 else 1),
                                "resources": requests(ctx.profile, "cilium-operator")}
    hubble: dict[str, Any] = {"enabled": ctx.addons.cni.hubble,
                              "relay": {"enabled": ctx.addons.cni.hubble,
                                        "resources": requests(ctx.profile, "hubble-relay")}}
    values: CiliumValues = {
        # Without kube-proxy Cilium must serve Services itself.
        "kubeProxyReplacement": not ctx.kube_proxy,
        "k8sServiceHost": ctx.api_host,
        "k8sServicePort": ctx.api_port,
        "routingMode": "tunnel",
        "tunnelProtocol": "vxlan",
        # The device MTU (wg0); Cilium subtracts VXLAN (and WireGuard) itself,
        # which gives pods exactly ``pod_mtu`` (same constants).
        "MTU": ctx.mesh_mtu,
        "encryption": {"enabled": encrypt, "type": "wireguard", "nodeEncryption": False},
        "ipam": {"mode": "cluster-pool",
                 "operator": {"clusterPoolIPv4PodCIDRList": [ctx.pod_cidr], "clusterPoolIPv4MaskSize": 24}},
        "hubble": hubble,
        "operator": operator,
        "resources": requests(ctx.profile, "cilium-agent"),
    }
    return typed(CiliumValues, values)


def cilium_plan(ctx: PlatformContext) -> AddonPlan:
    pod_mtu(ctx.mesh_mtu, "cilium", ctx.spec.network.encryption)  # fails early on a too small MTU
    values = deep_merge(dict(cilium_values(ctx)), ctx.addons.cni.values)
    workloads = [
        Workload("cilium", "cilium-agent", "DaemonSet", ("resources",), placement="all"),
        Workload("cilium", "cilium-operator", "Deployment", ("operator", "resources"),
                 replicas=values["operator"]["replicas"], placement="any"),
    ]
    if values["hubble"]["relay"]["enabled"]:
        workloads.append(Workload("cilium", "hubble-relay", "Deployment", ("hubble", "relay", "resources")))
    return AddonPlan("cni", releases=[Release("cilium", CHARTS["cilium"], values)], workloads=workloads)
