"""What a fleet member's firewalls open and forward (no platform imports:
the node layer reads this).

- A Submariner gateway (a node of a group labelled
  ``submariner.io/gateway: "true"``) opens IPsec IKE (UDP 500), NAT-T (UDP
  4500) and Submariner's NAT discovery (UDP 4490) to the internet; the
  other clusters' gateways connect from addresses nobody knows in advance.
- Every node of a Submariner member accepts vx-submariner (UDP 4800) over
  the mesh: non-gateway nodes reach the active gateway through it.
- Forwarding: traffic from the connected clusters' pod and service networks
  (the other spokes of this member's data domain only) arriving decrypted
  from IPsec or on vx-submariner. The forward policy drops everything else,
  so a cluster of another (isolated) domain is refused by every node even
  if a tunnel were set up by hand.
"""

from __future__ import annotations

from components.spec.fleet import GATEWAY_LABEL, remote_cidrs

IKE_PORT, NATT_PORT, NATT_DISCOVERY_PORT = 500, 4500, 4490
VXLAN_PORT = 4800
TUNNEL_INTERFACE = "vx-submariner"


def submariner_member(spec) -> bool:
    """This cluster runs a Submariner gateway (a spoke of a fleet using it)."""
    fleet = spec.fleet
    return fleet is not None and fleet.submariner.enabled and spec.name != fleet.hub


def is_gateway_group(spec, group: str) -> bool:
    return submariner_member(spec) and spec.node_groups[group].labels.get(GATEWAY_LABEL) == "true"


def gateway_udp_ports(spec, group: str) -> list[int]:
    """UDP ports the nodes of ``group`` open to the internet."""
    return [IKE_PORT, NATT_PORT, NATT_DISCOVERY_PORT] if is_gateway_group(spec, group) else []


def mesh_udp_ports(spec) -> list[str]:
    return [str(VXLAN_PORT)] if submariner_member(spec) else []


def connected_cidrs(spec) -> list[str]:
    """Pod and service networks of the clusters this one exchanges traffic with."""
    if not submariner_member(spec):
        return []
    return [str(cidr) for _, cidr in remote_cidrs(spec.fleet, spec.name)]


def tunnel_interfaces(spec) -> list[str]:
    return [TUNNEL_INTERFACE] if submariner_member(spec) else []
