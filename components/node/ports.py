"""Cluster ports that must be reachable over the mesh only."""

from __future__ import annotations

from components.spec.cluster import ClusterSpec

CONTROL_PLANE_TCP = ["6443", "2379-2381", "10250", "10257", "10259"]
CNI_PORTS = {
    # health checks, VXLAN (udp 8472), Hubble
    "cilium": (["4240", "4244"], ["8472"]),
    # BGP, Typha, VXLAN (udp 4789)
    "calico": (["179", "5473"], ["4789"]),
}
NODEPORTS = "30000-32767"


def cluster_ports(spec: ClusterSpec) -> tuple[list[str], list[str]]:
    """(tcp, udp) port lists the firewall opens on the mesh interface."""
    cni_tcp, cni_udp = CNI_PORTS[spec.network.cni]
    tcp = CONTROL_PLANE_TCP + cni_tcp + [NODEPORTS]
    if spec.distribution == "k3s":
        tcp.append("9345")  # k3s supervisor (agent registration)
    return tcp, list(cni_udp)


# Interfaces pod traffic reaches the host on, for both CNIs (and the
# flannel/bridge names of K3s' defaults). The firewall accepts pod-CIDR
# sources there only: on the public interface a pod address is spoofable.
POD_INTERFACES = [
    "lxc*", "cilium_*",                # Cilium: per-pod veths, cilium_host/net/vxlan
    "cali*", "vxlan.calico", "tunl0",  # Calico: per-pod veths, VXLAN, IP-in-IP
    "flannel.1", "cni0",               # flannel / bridge CNI
]
