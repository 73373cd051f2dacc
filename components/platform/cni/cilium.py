"""Cilium (seed 004): eBPF, kube-proxy replacement, optional WireGuard and Hubble.

Pods are VXLAN-encapsulated between node mesh IPs (the node InternalIP is
the mesh address, so tunnels ride wg0); see ``components/platform/mtu.py``
for the MTU arithmetic. The agents reach the API through the node-local
load balancer of the cluster contract (``api_host:api_port``), never one
server's address, so kube-proxy replacement survives losing a server.

The release is the CNI's readiness (``AddonPlan.ready``): atomic, so it
returns only once the agent DaemonSet and the operator are up, and every
other platform item waits for it.
"""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict, with_config
from typing_extensions import TypedDict

from ...mesh.wireguard import INTERFACE
from ..chart_values import CiliumValues, Toggle, typed
from ..charts import CHARTS
from ..model import AddonPlan, PlatformContext, Release, Workload
from ..mtu import pod_mtu
from ..profiles import replicas, requests
from ..values import deep_merge


# Where the node's containerd looks for CNI plugins and configurations.
# kubeadm nodes: `containerd config default` (kubeadm-packages.sh). K3s
# started with --flannel-backend=none (the only way Cilium runs there) does
# not write the CNI section of its containerd config (K3s
# pkg/agent/templates: `{{ if not .NodeConfig.NoFlannel }}`; the agent sets
# CNIBinDir/CNIConfDir to its own data dir only with flannel), so
# containerd's defaults apply there too. Explicit, so a chart default
# changing under a pinned chart bump cannot move them.
CONTAINERD_CNI_BIN_DIR = "/opt/cni/bin"
CONTAINERD_CNI_CONF_DIR = "/etc/cni/net.d"


@with_config(ConfigDict(extra="forbid", strict=True))
class CiliumCni(TypedDict):
    binPath: str
    confPath: str


@with_config(ConfigDict(extra="forbid", strict=True))
class CiliumDatapathValues(CiliumValues, total=False):
    """The shared Cilium shape plus the datapath keys set here."""

    devices: list[str]
    cni: CiliumCni
    nodePort: Toggle
    hostPort: Toggle


def cilium_values(ctx: PlatformContext) -> CiliumDatapathValues:
    spec = ctx.spec
    encrypt = spec.network.encryption == "cni"
    operator: dict[str, Any] = {"replicas": replicas(ctx.profile, 2 if len(ctx.nodes) > 1 else 1),
                                "resources": requests(ctx.profile, "cilium-operator")}
    hubble: dict[str, Any] = {"enabled": ctx.addons.cni.hubble,
                              "relay": {"enabled": ctx.addons.cni.hubble,
                                        "resources": requests(ctx.profile, "hubble-relay")}}
    values: CiliumDatapathValues = {
        # Without kube-proxy Cilium must serve Services itself.
        "kubeProxyReplacement": not ctx.kube_proxy,
        # The datapath's native device is the mesh interface only. With
        # kube-proxy replacement Cilium serves NodePorts (and hostPorts) on
        # the addresses of these devices, from BPF programs that run before
        # the node's nftables firewall: listing the public interface too
        # would expose every NodePort to the internet past the firewall.
        # On wg0 they are reachable from the mesh only, like every other
        # cluster port (components/node/ports.py).
        "devices": [INTERFACE],
        # No CNI chaining: the portmap plugin is not in the directory
        # containerd reads (K3s keeps its own plugins elsewhere), and every
        # pod's CNI ADD would fail on it. hostPorts are Cilium's own (eBPF,
        # on the addresses of `devices`): part of kube-proxy replacement,
        # and without it the documented hybrid mode (hostPort needs Cilium's
        # NodePort datapath, which it then runs next to kube-proxy).
        "cni": {"binPath": CONTAINERD_CNI_BIN_DIR, "confPath": CONTAINERD_CNI_CONF_DIR},
        "nodePort": {"enabled": True},
        "hostPort": {"enabled": True},
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
    return typed(CiliumDatapathValues, values)


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
    return AddonPlan("cni", releases=[Release("cilium", CHARTS["cilium"], values)], workloads=workloads,
                     ready="cilium")
