"""Deterministic, stable mesh addresses.

The mesh CIDR is cut into /24 blocks. Block 0 is kept for virtual IPs (the
API endpoint). Each node group owns a run of blocks starting at a block
derived from its *name* (or its explicit ``meshBlock``), and a node's address
depends only on its group's start block and its own ordinal (or, for existing
hosts, a hash of its own name). Adding or removing any node or group never
renumbers another node; a collision is reported as a spec error with the fix,
never resolved silently by shifting someone else.
"""

from __future__ import annotations

import hashlib
import ipaddress
from dataclasses import dataclass

BLOCK_SIZE = 256
RESERVED_BLOCKS = 1  # block 0: virtual IPs


def stable_hash(text: str) -> int:
    """A hash that is the same in every process (unlike ``hash()``)."""
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")


def block_count(mesh: ipaddress.IPv4Network) -> int:
    return mesh.num_addresses // BLOCK_SIZE


def default_start_block(group: str, mesh: ipaddress.IPv4Network) -> int:
    usable = block_count(mesh) - RESERVED_BLOCKS
    return RESERVED_BLOCKS + stable_hash(f"group:{group}") % usable


def blocks_needed(capacity: int) -> int:
    """Blocks holding ordinals 1..capacity (offset 0 of the first is skipped)."""
    return capacity // BLOCK_SIZE + 1


@dataclass(frozen=True)
class GroupRange:
    group: str
    start_block: int
    blocks: int

    @property
    def end_block(self) -> int:  # exclusive
        return self.start_block + self.blocks

    def overlaps(self, other: GroupRange) -> bool:
        return self.start_block < other.end_block and other.start_block < self.end_block


def ordinal_address(mesh: ipaddress.IPv4Network, rng: GroupRange, ordinal: int) -> ipaddress.IPv4Address:
    """Address of the ``ordinal``-th (1-based) node of a counted group."""
    return mesh.network_address + rng.start_block * BLOCK_SIZE + ordinal


def host_address(mesh: ipaddress.IPv4Network, rng: GroupRange, host: str) -> ipaddress.IPv4Address:
    """Address of an existing host, from its own name only (1..254 of the block)."""
    return mesh.network_address + rng.start_block * BLOCK_SIZE + 1 + stable_hash(f"host:{host}") % 254


def virtual_ip(mesh: ipaddress.IPv4Network, index: int = 1) -> ipaddress.IPv4Address:
    """Reserved addresses of block 0 (e.g. the control-plane endpoint)."""
    return mesh.network_address + index
