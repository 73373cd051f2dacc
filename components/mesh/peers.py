"""Who each node peers with, through which endpoint, for which addresses.

Pure logic (no Pulumi): endpoints and keys are plain values here, the
component resolves them first.

- A node with a public address is dialled at it; two nodes on the same
  provider private network use their private addresses instead.
- A node behind NAT has no endpoint: it dials out, and its peers learn
  its endpoint from its packets.
- Every peer has PersistentKeepalive: WireGuard is silent between idle
  peers, so without it a pair with no traffic never handshakes again and
  the handshake age (the WireGuardPeerNoHandshake alert) says nothing about
  liveness; the keepalive also holds NAT mappings and the state of
  stateful firewalls on the path, in both directions.
- Two NATed nodes cannot reach each other directly, so each routes the
  other's mesh IP through a relay node that has a public address.
- An IPv6 literal endpoint is written in brackets (``[2001:db8::1]:51820``),
  the only form WireGuard accepts.
"""

from __future__ import annotations

from dataclasses import dataclass

from .mtu import ip_version_of, underlay_ip_version

KEEPALIVE_SECONDS = 25
"""On every peer. Below the usual 30 s UDP timeouts of NATs and stateful
firewalls; with traffic always flowing, WireGuard's 2-minute rekey keeps a
live peer's last handshake under about 3 minutes (the alert fires after 5)."""


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
            keepalive=KEEPALIVE_SECONDS,
        ))
    return peers


def shares_private_network(my_network: str | None, other_network: str | None, other_has_private_address: bool) -> bool:
    """Whether I dial the other node at its address on our common provider private network."""
    return bool(my_network) and my_network == other_network and other_has_private_address


def format_endpoint(address: str, port: int) -> str:
    """``host:port`` as WireGuard wants it: IPv6 literals in brackets."""
    host = address.strip()
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return f"[{host}]:{port}" if ip_version_of(host) == 6 else f"{host}:{port}"


def _endpoint_address(me: MeshMember, other: MeshMember) -> str | None:
    """The address I dial ``other`` at, or None when it dials me."""
    if other.behind_nat:
        return None  # it dials us; WireGuard learns its endpoint
    if shares_private_network(me.private_network, other.private_network, bool(other.private_address)):
        return other.private_address
    return other.public_address


def _endpoint(me: MeshMember, other: MeshMember, port: int) -> str | None:
    address = _endpoint_address(me, other)
    return None if address is None else format_endpoint(address, port)


def dialled_addresses(members: list[MeshMember]) -> list[str]:
    """Every address some member dials another at (the underlay of the mesh)."""
    # NATed nodes are dialled by nobody, so relayed pairs add nothing here.
    pairs = ((me, other) for me in members for other in members if other.name != me.name)
    return [a for a in (_endpoint_address(me, other) for me, other in pairs) if a is not None]


def required_ip_version(members: list[MeshMember]) -> int:
    """IP version whose WireGuard overhead the mesh MTU must allow for (see ``mtu``)."""
    return underlay_ip_version(dialled_addresses(members))


def is_relay(me: MeshMember, members: list[MeshMember]) -> bool:
    relay = choose_relay(members)
    return relay is not None and relay.name == me.name and sum(m.behind_nat for m in members) >= 2
