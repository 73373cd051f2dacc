"""Mesh addresses of autoscaled nodes: the top of their group's own blocks.

A group reserves /24 blocks for ``maxReplicas`` nodes
(components/topology/addressing.py). Its static floor takes ordinals 1..
``minReplicas`` from the bottom; the ``maxReplicas - minReplicas`` servers
the cluster-autoscaler creates take slots from the top down, so raising
``minReplicas`` later adds static nodes far from the addresses autoscaled
nodes hold. Offsets .0 and .255 of a block are never used.

A new server picks a first slot from a hash of its name and claims it
atomically in the cluster (a Lease named after the address, see
``registry``); the next free slot when it is held. Every node accepts an
autoscaled peer only at one of these addresses, never at a static node's.
"""

from __future__ import annotations

import hashlib
import ipaddress

from components.topology import addressing
from components.topology.plan import group_ranges


def dynamic_slots(spec, group: str) -> list[ipaddress.IPv4Address]:
    """The addresses autoscaled nodes of ``group`` may hold, best first.

    Fewer than ``maxReplicas - minReplicas`` when the blocks are full
    (``check_slots`` reports it).
    """
    g = spec.node_groups[group]
    wanted = g.max_replicas - g.size
    rng = group_ranges(spec)[group]
    mesh = spec.network.mesh_cidr
    first = int(mesh.network_address) + rng.start_block * addressing.BLOCK_SIZE
    slots = []
    for offset in range(rng.blocks * addressing.BLOCK_SIZE - 1, g.size, -1):
        if offset % addressing.BLOCK_SIZE in (0, addressing.BLOCK_SIZE - 1):
            continue
        slots.append(ipaddress.IPv4Address(first + offset))
        if len(slots) == wanted:
            break
    return slots


def first_choice(name: str, slots: int) -> int:
    """Index of the slot a server named ``name`` tries first: the first 32
    bits of its SHA-256, as mesh-register.sh computes it with sha256sum."""
    return int(hashlib.sha256(name.encode()).hexdigest()[:8], 16) % slots if slots else 0


def lease_name(address: ipaddress.IPv4Address | str) -> str:
    return "mesh-" + str(address).replace(".", "-")
