"""Cluster ports that must be reachable over the mesh only.

Everything here is traffic between nodes: it arrives on the mesh interface
from a mesh address (pod traffic to another node's address leaves the CNI
masqueraded to its node's mesh address, or tunnelled to the CNI's own
interfaces, which ``POD_INTERFACES`` covers). Which ports depends on the
spec: the CNI, its encryption, the distribution and the enabled add-ons.
"""

from __future__ import annotations

from components.fleet.ports import mesh_udp_ports
from components.spec.cluster import ClusterSpec

CONTROL_PLANE_TCP = ["6443", "2379-2381", "10250", "10257", "10259"]
CNI_PORTS = {
    # health checks, VXLAN (udp 8472), Hubble
    "cilium": (["4240", "4244"], ["8472"]),
    # BGP, Typha, VXLAN (udp 4789)
    "calico": (["179", "5473"], ["4789"]),
}
NODEPORTS = "30000-32767"

# The CNI's own WireGuard (``network.encryption: cni``), beside the mesh's.
# Cilium's port is fixed; Calico's (Felix ``wireguardListeningPort``, default
# 51820, the mesh's own default) is set by the project to the first of these
# the mesh does not use (components/platform/cni/calico.py).
CILIUM_WIREGUARD_PORT = 51871
CALICO_WIREGUARD_PORTS = (51821, 51822)

# Host-network exporters Prometheus scrapes from whichever node it runs on.
NODE_EXPORTER_PORT = 9100       # kube-prometheus-stack's prometheus-node-exporter
WIREGUARD_EXPORTER_PORT = 9586  # the monitoring add-on's WireGuard exporter
# MetalLB speakers (host network): memberlist between speakers (tcp and udp),
# their metrics and, with BGP peers, the FRR container's metrics.
METALLB_MEMBERLIST_PORT = 7946
METALLB_METRICS_PORT = 7472
METALLB_FRR_METRICS_PORT = 7473
# ingress-nginx on the host network (a DaemonSet under Cilium, whose
# hostPorts answer on the mesh interface only): the API server calls its
# admission webhook at the node's address, Prometheus scrapes its metrics
# there (chart defaults controller.admissionWebhooks.port, controller.metrics.port).
INGRESS_WEBHOOK_PORT = 8443
INGRESS_METRICS_PORT = 10254


def ingress_on_host_network(spec: ClusterSpec) -> bool:
    """ingress-nginx binds 80/443 on the node itself rather than through hostPorts.

    Cilium serves hostPorts from BPF programs on its ``devices`` only
    (``wg0`` here, components/platform/cni/cilium.py), so a hostPort would
    not answer on the public address where the nodes publish 80/443; a
    host-network DaemonSet does, behind the node firewall's published ports.
    Calico's hostPorts (the portmap plugin, iptables DNAT) answer on every
    address and stay as they are.
    """
    ingress = spec.addons.ingress_nginx
    return ingress.enabled and ingress.kind == "DaemonSet" and spec.network.cni == "cilium"


def cni_wireguard_port(spec: ClusterSpec) -> int | None:
    """UDP port of the CNI's own WireGuard, or None when the CNI does not encrypt."""
    network = spec.network
    if network.encryption != "cni":
        return None
    if network.cni == "cilium":
        if network.wireguard_port == CILIUM_WIREGUARD_PORT:
            raise ValueError(
                f"network.wireguardPort {CILIUM_WIREGUARD_PORT} is the fixed port of Cilium's own WireGuard "
                "(network.encryption: cni); give the mesh another port, e.g. 51820")
        return CILIUM_WIREGUARD_PORT
    return next(p for p in CALICO_WIREGUARD_PORTS if p != network.wireguard_port)


def cluster_ports(spec: ClusterSpec) -> tuple[list[str], list[str]]:
    """(tcp, udp) port lists the firewall opens on the mesh interface."""
    cni_tcp, cni_udp = CNI_PORTS[spec.network.cni]
    tcp = CONTROL_PLANE_TCP + cni_tcp + [NODEPORTS]
    udp = list(cni_udp)
    if spec.distribution == "k3s":
        tcp.append("9345")  # k3s supervisor (agent registration)
    wireguard = cni_wireguard_port(spec)
    if wireguard is not None:
        udp.append(str(wireguard))
    addons = spec.addons
    if addons.monitoring.enabled:
        tcp += [str(NODE_EXPORTER_PORT), str(WIREGUARD_EXPORTER_PORT)]
    if ingress_on_host_network(spec):
        tcp.append(str(INGRESS_WEBHOOK_PORT))
        if addons.monitoring.enabled:
            tcp.append(str(INGRESS_METRICS_PORT))
    if addons.metallb.enabled:
        tcp.append(str(METALLB_MEMBERLIST_PORT))
        udp.append(str(METALLB_MEMBERLIST_PORT))
        if addons.monitoring.enabled:
            tcp.append(str(METALLB_METRICS_PORT))
            if addons.metallb.peers:
                tcp.append(str(METALLB_FRR_METRICS_PORT))
    # A fleet member's Submariner: vx-submariner between nodes and the gateway.
    udp += mesh_udp_ports(spec)
    return tcp, udp


# Interfaces pod traffic reaches the host on, for both CNIs (and the
# flannel/bridge names of K3s' defaults). The firewall accepts pod-CIDR
# sources there only: on the public interface a pod address is spoofable.
POD_INTERFACES = [
    "lxc*", "cilium_*",                # Cilium: per-pod veths, cilium_host/net/vxlan
    "cali*", "vxlan.calico", "tunl0",  # Calico: per-pod veths, VXLAN, IP-in-IP
    "flannel.1", "cni0",               # flannel / bridge CNI
]
