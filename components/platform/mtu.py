"""Pod MTU: the mesh MTU minus what the CNI itself adds.

The choice (``network.encryption``):

- ``mesh`` (default) and ``none``: pod traffic is encrypted once, by the
  mesh. The CNI encapsulates pod packets in VXLAN between node mesh IPs
  (the mesh's WireGuard AllowedIPs hold node addresses only, so pod
  addresses cannot be routed natively over wg0): pod MTU = mesh MTU - 50.
- ``cni``: the CNI's own WireGuard encrypts pod traffic again inside the
  mesh (encrypted twice, against a compromised mesh node key). Calico's
  WireGuard device replaces VXLAN between nodes (Calico's MTU table):
  mesh MTU - 60. Cilium in tunnel mode encapsulates twice, VXLAN then its
  WireGuard, and reserves 80 bytes for WireGuard (IPv6-safe, Cilium's
  ``WireguardOverhead``): mesh MTU - 50 - 80.

The mesh MTU is itself the underlay MTU minus WireGuard's overhead
(components/mesh/mtu.py); nothing here is a fixed number.
"""

from __future__ import annotations

from components.mesh.mtu import MIN_MESH_MTU, WIREGUARD_OVERHEAD

VXLAN_OVERHEAD = 50  # outer IPv4 20 + UDP 8 + VXLAN 8 + inner Ethernet 14
CILIUM_WIREGUARD_OVERHEAD = 80  # Cilium's own constant (room for an IPv6 outer header)

# Bytes the CNI adds per pod packet, by (cni, encryption).
CNI_OVERHEAD: dict[tuple[str, str], int] = {
    ("cilium", "mesh"): VXLAN_OVERHEAD,
    ("cilium", "none"): VXLAN_OVERHEAD,
    ("cilium", "cni"): VXLAN_OVERHEAD + CILIUM_WIREGUARD_OVERHEAD,
    ("calico", "mesh"): VXLAN_OVERHEAD,
    ("calico", "none"): VXLAN_OVERHEAD,
    ("calico", "cni"): WIREGUARD_OVERHEAD[4],
}


def pod_mtu(mesh_mtu: int, cni: str, encryption: str) -> int:
    """MTU of pod interfaces for a mesh of ``mesh_mtu``."""
    mtu = mesh_mtu - CNI_OVERHEAD[(cni, encryption)]
    if mtu < MIN_MESH_MTU:
        raise ValueError(
            f"network.encryption={encryption!r} with {cni} leaves a pod MTU of {mtu} "
            f"(mesh MTU {mesh_mtu} - {CNI_OVERHEAD[(cni, encryption)]}) below {MIN_MESH_MTU}; "
            "use encryption 'mesh' or raise the underlay MTU"
        )
    return mtu
