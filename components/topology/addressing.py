"""Deterministic, stable mesh addresses.

The mesh CIDR is cut into /24 blocks. Block 0 is kept for virtual IPs (the
API endpoint). Each node group owns a run of blocks starting at a block
derived from its *name* (or its explicit ``meshBlock``). A counted group's
node takes its ordinal in that run. An existing host keeps the address the
stack gave it before (its history, read from the stack's own outputs); a new
host takes the address a hash of its name picks, or the next free one when
that is taken. Adding or removing any node or group never renumbers another
node; only explicit ``meshIp`` values can collide, and that is a spec error
with the fix.
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


HOSTS_PER_BLOCK = 254  # offsets 1..254: never .0 or .255 of an existing group's block


def host_address(mesh: ipaddress.IPv4Network, rng: GroupRange, host: str) -> ipaddress.IPv4Address:
    """First choice of an existing host, from its own name only (1..254 of the block)."""
    return mesh.network_address + rng.start_block * BLOCK_SIZE + 1 + stable_hash(f"host:{host}") % HOSTS_PER_BLOCK


def allocate_host_addresses(
    mesh: ipaddress.IPv4Network,
    rng: GroupRange,
    hosts: list[str],
    *,
    reserved: set[ipaddress.IPv4Address],
    history: dict[str, ipaddress.IPv4Address],
) -> dict[str, ipaddress.IPv4Address]:
    """Addresses of an existing group's hosts that have no explicit ``meshIp``.

    ``reserved`` are addresses no host may take (every explicit ``meshIp``);
    ``history`` is what the stack gave each host before. A host keeps its
    history address while it lies in this group's block and nobody reserved
    it, so removing a host never moves another. New hosts, in name order, take
    their hash slot or probe upwards to the next free one. Hosts that find no
    free slot are left out (the caller reports the full block).
    """
    first = int(mesh.network_address) + rng.start_block * BLOCK_SIZE

    def in_block(ip: ipaddress.IPv4Address) -> bool:
        return 1 <= int(ip) - first <= HOSTS_PER_BLOCK

    taken = set(reserved)
    addresses: dict[str, ipaddress.IPv4Address] = {}
    for host in sorted(hosts):
        ip = history.get(host)
        if ip is not None and in_block(ip) and ip not in taken:
            addresses[host] = ip
            taken.add(ip)
    for host in sorted(h for h in hosts if h not in addresses):
        offset = stable_hash(f"host:{host}") % HOSTS_PER_BLOCK
        for probe in range(HOSTS_PER_BLOCK):
            ip = ipaddress.IPv4Address(first + 1 + (offset + probe) % HOSTS_PER_BLOCK)
            if ip not in taken:
                addresses[host] = ip
                taken.add(ip)
                break
    return addresses


def virtual_ip(mesh: ipaddress.IPv4Network, index: int = 1) -> ipaddress.IPv4Address:
    """Reserved addresses of block 0 (e.g. the control-plane endpoint)."""
    return mesh.network_address + index
