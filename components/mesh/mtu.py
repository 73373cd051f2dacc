"""Mesh MTU: the smallest underlay MTU minus WireGuard's own overhead.

A wrong MTU is the first failure users of kube-hetzner, Claudie and Kubespray
report (large packets silently dropped), so it is computed, never guessed.

The overhead depends on the IP version of the underlay: a tunnel packet
carried over IPv6 has a 40-byte outer header instead of 20. One MTU serves
the whole mesh, so as soon as any node is dialled over IPv6 the IPv6
overhead applies everywhere.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

# Outer IP header + UDP (8) + WireGuard header (16) + auth tag (16).
WIREGUARD_OVERHEAD = {4: 20 + 8 + 32, 6: 40 + 8 + 32}
MIN_MESH_MTU = 1280  # IPv6 minimum; anything lower breaks the pod network


def ip_version_of(address: str | None) -> int | None:
    """4 or 6 for an IP literal (an IPv6 one may be in brackets), None otherwise.

    None means a DNS name (or no address): it may resolve to either family.
    """
    if not address:
        return None
    text = address.strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    try:
        return ipaddress.ip_address(text).version
    except ValueError:
        return None


def underlay_ip_version(endpoint_addresses: Iterable[str | None]) -> int:
    """IP version whose overhead the mesh must budget for, given every address nodes dial.

    6 if any of them is an IPv6 literal or a DNS name: WireGuard resolves a
    name with getaddrinfo, which prefers an AAAA record on a node with IPv6
    connectivity, so a name may well be dialled over IPv6. ``None`` entries
    (peers nobody dials, behind NAT) do not count.
    """
    for address in endpoint_addresses:
        if address is not None and ip_version_of(address) != 4:
            return 6
    return 4


def mesh_mtu(underlay_mtus: Iterable[int], *, ip_version: int = 4, override: int | None = None) -> int:
    """MTU for the mesh interface on every node (one value for the whole mesh)."""
    lowest = min(underlay_mtus)
    computed = lowest - WIREGUARD_OVERHEAD[ip_version]
    if override is not None:
        if override > computed:
            raise ValueError(
                f"mesh MTU {override} exceeds the lowest underlay MTU {lowest} minus the "
                f"WireGuard overhead {WIREGUARD_OVERHEAD[ip_version]} = {computed}: large packets would be dropped"
            )
        return override
    if computed < MIN_MESH_MTU:
        raise ValueError(f"underlay MTU {lowest} leaves only {computed} for the mesh (< {MIN_MESH_MTU})")
    return computed
