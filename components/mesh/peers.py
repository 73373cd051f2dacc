"""Who each node peers with, through which endpoint, for which addresses.

Pure logic (no Pulumi): endpoints and keys are plain values here, the
component resolves them first.

- A node with a public address is dialled at it; two nodes on the same
  provider private network use their private addresses instead.
- A node behind NAT has no endpoint: it dials out and keeps the NAT
  mapping open with PersistentKeepalive.
- Two NATed nodes cannot reach each other directly, so each routes the
  other's mesh IP through a relay node that has a public address.
"""

from __future__ import annotations

from dataclasses import dataclass

KEEPALIVE_SECONDS = 25


@dataclass(frozen=True)
class MeshMember:
    name: str
    mesh_ip: str
    public_key: str
    public_address: str | None  # None: behind NAT
    private_address: str | None = None
    private_network: str | None = None

    @property
    def behind_nat(self) -> bool:
        return self.public_address is None


@dataclass(frozen=True)
class Peer:
    public_key: str
    endpoint: str | None
    allowed_ips: tuple[str, ...]
    keepalive: int

    def line(self) -> str:
        """The ``PEERS`` line format of wg-apply.sh."""
        return f"{self.public_key} {self.endpoint or '-'} {','.join(self.allowed_ips)} {self.keepalive}"


def choose_relay(members: list[MeshMember]) -> MeshMember | None:
    """The first publicly reachable member, if any member is behind NAT."""
    if not any(m.behind_nat for m in members):
        return None
    return next((m for m in members if not m.behind_nat), None)


def peers_of(me: MeshMember, members: list[MeshMember], port: int) -> list[Peer]:
    relay = choose_relay(members)
    others = [m for m in members if m.name != me.name]
    # NATed nodes I cannot reach directly: routed through the relay.
    via_relay = [m for m in others if me.behind_nat and m.behind_nat] if relay else []
    peers = []
    for other in others:
        if other in via_relay:
            continue
        allowed = [f"{other.mesh_ip}/32"]
        if relay and other.name == relay.name:
            allowed += [f"{m.mesh_ip}/32" for m in via_relay]
        peers.append(Peer(
            public_key=other.public_key,
            endpoint=_endpoint(me, other, port),
            allowed_ips=tuple(allowed),
            keepalive=KEEPALIVE_SECONDS if (me.behind_nat or other.behind_nat) else 0,
        ))
    return peers


def _endpoint(me: MeshMember, other: MeshMember, port: int) -> str | None:
    if other.behind_nat:
        return None  # it dials us; WireGuard learns its endpoint
    if me.private_network and me.private_network == other.private_network and other.private_address:
        return f"{other.private_address}:{port}"
    return f"{other.public_address}:{port}"


def is_relay(me: MeshMember, members: list[MeshMember]) -> bool:
    relay = choose_relay(members)
    return relay is not None and relay.name == me.name and sum(m.behind_nat for m in members) >= 2
