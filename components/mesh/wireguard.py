"""WireGuardMesh: keys made on each node, peers pushed live, MTU computed."""

from __future__ import annotations

from pathlib import Path
from typing import TypedDict

import pulumi
import pulumi_command as command

from components.compute.node import Node
from components.remote.command import node_command
from components.remote.script import render_script

from .mtu import WIREGUARD_OVERHEAD, mesh_mtu
from .peers import (
    MeshMember,
    is_relay,
    peers_of,
    required_ip_version,
    shares_private_network,
)

SCRIPTS = Path(__file__).parent / "scripts"
INTERFACE = "wg0"


class WireGuardMeshArgs(TypedDict):
    nodes: list[Node]
    mesh_prefix: int
    """Prefix length of the mesh CIDR (e.g. 16)."""
    listen_port: int
    mtu: int | None
    """Fixed MTU from the spec, or None to compute it."""
    after: dict[str, list[pulumi.Resource]]
    """Per node name: what must be done on the node before the mesh (baseline, firewall)."""


class WireGuardMesh(pulumi.ComponentResource):
    """A WireGuard full mesh between all nodes of a stack.

    Each private key is generated on its node and never leaves it: the key
    command prints only the public key. Peer lists are applied with the
    update path of the apply command (``wg syncconf``), so adding or removing
    a node never restarts anybody's tunnel.
    """

    mtu: int
    """MTU of the mesh interface (the CNI subtracts its own overhead)."""
    ip_version: int
    """IP version of the underlay the MTU allows for (6 if any node is dialled over IPv6)."""
    public_keys: dict[str, pulumi.Output[str]]
    ready: dict[str, command.remote.Command]
    """Per node: the command after which its mesh interface is configured."""
    interface: str = INTERFACE

    def __init__(self, name: str, args: WireGuardMeshArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("sovereign:mesh:WireGuardMesh", name, {}, opts)
        nodes = args["nodes"]
        self.ip_version = planned_ip_version(nodes)
        self.mtu = mesh_mtu([n.underlay_mtu for n in nodes], ip_version=self.ip_version, override=args["mtu"])
        self.public_keys = {}
        keys = {}
        for node in nodes:
            keys[node.name] = node_command(
                f"{name}-{node.name}-wg-key",
                node.ssh,
                create=render_script(SCRIPTS / "wg-keys.sh", {"WG_INTERFACE": INTERFACE}),
                opts=pulumi.ResourceOptions(parent=self, depends_on=node.depends_on() + args["after"].get(node.name, [])),
            )
            self.public_keys[node.name] = keys[node.name].stdout

        members = pulumi.Output.all(
            **{n.name: pulumi.Output.all(keys[n.name].stdout, n.public_address,
                                         n.private_address if n.private_address is not None else None)
               for n in nodes}
        ).apply(lambda resolved: _checked(_members(nodes, resolved), self.ip_version))

        self.ready = {}
        for node in nodes:
            script = members.apply(lambda ms, node=node: render_script(SCRIPTS / "wg-apply.sh", {
                "WG_INTERFACE": INTERFACE,
                "MESH_ADDRESS": f"{node.mesh_ip}/{args['mesh_prefix']}",
                "LISTEN_PORT": args["listen_port"],
                "MTU": self.mtu,
                "PEERS": [p.line() for p in peers_of(_find(ms, node.name), ms, args["listen_port"])],
                "RELAY": is_relay(_find(ms, node.name), ms),
                "PRUNE_SCRIPT": render_script(SCRIPTS / "wg-prune.sh", {"WG_INTERFACE": INTERFACE}),
            }))
            self.ready[node.name] = node_command(
                f"{name}-{node.name}-wg-apply",
                node.ssh,
                create=script,
                # Same idempotent script: peer changes are applied live.
                update=script,
                delete=render_script(SCRIPTS / "wg-remove.sh", {"WG_INTERFACE": INTERFACE}),
                opts=pulumi.ResourceOptions(parent=self, depends_on=[keys[node.name]]),
            )
        self.register_outputs({"mtu": self.mtu, "publicKeys": self.public_keys})


def _members(nodes: list[Node], resolved: dict) -> list[MeshMember]:
    members = []
    for node in nodes:
        public_key, public_address, private_address = resolved[node.name]
        members.append(MeshMember(
            name=node.name,
            mesh_ip=node.mesh_ip,
            public_key=public_key.strip(),
            public_address=None if node.behind_nat else public_address,
            private_address=private_address,
            private_network=node.private_network,
        ))
    return members


def planned_ip_version(nodes: list[Node]) -> int:
    """The underlay IP version, from what is known before any address resolves.

    6 when some node is dialled at a public address that is IPv6 or a DNS
    name (``Node.public_ip_version`` is not 4); private network paths and
    nodes behind NAT (dialled by nobody) do not count. Mirrors ``peers``.
    """
    for other in nodes:
        if other.behind_nat or other.public_ip_version == 4:
            continue
        dialled_publicly = any(
            me.name != other.name
            and not shares_private_network(me.private_network, other.private_network, other.private_address is not None)
            for me in nodes
        )
        if dialled_publicly:
            return 6
    return 4


def _checked(members: list[MeshMember], planned: int) -> list[MeshMember]:
    """Refuse resolved endpoints whose IP version the MTU did not allow for."""
    needed = required_ip_version(members)
    if needed > planned:
        raise ValueError(
            f"mesh endpoints resolved to IPv{needed} but the mesh MTU allowed for the IPv{planned} "
            f"WireGuard overhead ({WIREGUARD_OVERHEAD[planned]} instead of {WIREGUARD_OVERHEAD[needed]} bytes): "
            "a node pool published an address of another family than its Node.public_ip_version"
        )
    return members


def _find(members: list[MeshMember], name: str) -> MeshMember:
    return next(m for m in members if m.name == name)
