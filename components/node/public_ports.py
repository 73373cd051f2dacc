"""What a node opens on its public side: one policy for every firewall.

The cloud firewalls (Hetzner ``hcloud.Firewall``, Scaleway security
groups) and the node's own nftables firewall must agree: a port nftables
opens but the cloud firewall drops is unreachable (the Kubernetes API for
operators was), and the reverse would be a hole. Both take their public
rules from ``public_ports``; cluster ports stay on the mesh
(``components.node.ports``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from components.cluster.common.endpoint import API_PORT
from components.fleet.ports import gateway_udp_ports
from components.spec.cluster import ClusterSpec

ANYWHERE = ("0.0.0.0/0", "::/0")


@dataclass(frozen=True)
class PublicPort:
    """One opening on the public interface."""

    protocol: Literal["tcp", "udp", "icmp"]
    port: int | None
    """None for ICMP (every type: ping and path MTU discovery)."""
    sources: tuple[str, ...]
    """CIDRs allowed in, IPv4 and IPv6 mixed ("0.0.0.0/0", "::/0": anybody)."""
    description: str


def public_ports(spec: ClusterSpec, group: str, *, control_plane: bool, ssh_port: int = 22) -> list[PublicPort]:
    """The public openings of the nodes of ``group``.

    SSH from ``network.sshSourceCidrs``, the mesh's WireGuard port and ICMP
    from anywhere, the group's ``publishedPorts`` from anywhere, and on
    control planes the Kubernetes API from ``kubernetes.apiSourceCidrs``
    (none when that is empty: the API then stays on the mesh).
    """
    net = spec.network
    ports = [
        PublicPort("tcp", ssh_port, tuple(str(c) for c in net.ssh_source_cidrs), "ssh"),
        PublicPort("udp", net.wireguard_port, ANYWHERE, "wireguard mesh"),
        PublicPort("icmp", None, ANYWHERE, "icmp (ping, path MTU discovery)"),
    ]
    ports += [PublicPort("tcp", p, ANYWHERE, f"published {p}")
              for p in sorted(set(spec.node_groups[group].published_ports))]
    # A fleet's Submariner gateway: IPsec from the other clusters' gateways.
    ports += [PublicPort("udp", p, ANYWHERE, f"submariner gateway {p}") for p in gateway_udp_ports(spec, group)]
    api_sources = tuple(str(c) for c in spec.kubernetes.api_source_cidrs)
    if control_plane and api_sources:
        ports.append(PublicPort("tcp", API_PORT, api_sources, "kubernetes API for operators"))
    return ports


def node_public_ports(spec: ClusterSpec, node) -> list[PublicPort]:
    """``public_ports`` of one ``Node`` (components.compute.node): its group,
    its roles and its SSH port. For the node-level (nftables) firewall."""
    return public_ports(spec, node.group, control_plane=node.is_control_plane, ssh_port=node.ssh.port)
