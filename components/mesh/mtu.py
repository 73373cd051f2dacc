"""Mesh MTU: the smallest underlay MTU minus WireGuard's own overhead.

A wrong MTU is the first failure users of kube-hetzner, Claudie and Kubespray
report (large packets silently dropped), so it is computed, never guessed.
"""

from __future__ import annotations

from collections.abc import Iterable

# Outer IP header + UDP (8) + WireGuard header (16) + auth tag (16).
WIREGUARD_OVERHEAD = {4: 20 + 8 + 32, 6: 40 + 8 + 32}
MIN_MESH_MTU = 1280  # IPv6 minimum; anything lower breaks the pod network


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
