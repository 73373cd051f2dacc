"""The composition: spec -> node pools -> (mesh -> cluster -> platform)."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from components.compute.existing import ExistingNodes
from components.compute.hetzner import HetznerNodes
from components.compute.node import Node
from components.compute.ovh import OvhNodes
from components.compute.scaleway import ScalewayNodes
from components.mesh.wireguard import INTERFACE, WireGuardMesh
from components.node.baseline import NodeBaseline
from components.node.ports import cluster_ports
from components.spec import ClusterSpec
from components.topology.plan import plan_nodes

POOLS = {
    "hetzner": HetznerNodes,
    "ovh": OvhNodes,
    "scaleway": ScalewayNodes,
    "existing": ExistingNodes,
}


@dataclass
class Cloud:
    spec: ClusterSpec
    nodes: list[Node]
    baseline: NodeBaseline
    mesh: WireGuardMesh

    def node_table(self) -> list[dict]:
        """Plain (non-secret) facts about every node, for outputs and the plan."""
        return [
            {
                "name": n.name,
                "provider": n.provider,
                "region": n.region,
                "instance_type": n.instance_type,
                "roles": list(n.roles),
                "mesh_ip": n.mesh_ip,
                "public_address": n.public_address,
                "gpus": n.gpus,
            }
            for n in self.nodes
        ]


def build_cloud(spec: ClusterSpec, *, ssh_private_key: pulumi.Output[str], catalog) -> Cloud:
    planned = plan_nodes(spec)
    nodes_by_name: dict[str, Node] = {}
    for provider, pool_class in POOLS.items():
        mine = [p for p in planned if p.provider == provider]
        if not mine:
            continue
        pool = pool_class(
            f"{spec.name}-{provider}",
            {"spec": spec, "nodes": mine, "ssh_private_key": ssh_private_key, "catalog": catalog},
        )
        nodes_by_name.update({n.name: n for n in pool.nodes})
    # Keep the spec's order, whatever order the pools were built in.
    nodes = [nodes_by_name[p.name] for p in planned]
    baseline = build_baseline(spec, nodes)
    mesh = WireGuardMesh(f"{spec.name}-mesh", {
        "nodes": nodes,
        "mesh_prefix": spec.network.mesh_cidr.prefixlen,
        "listen_port": spec.network.wireguard_port,
        "mtu": None if spec.network.mtu == "auto" else spec.network.mtu,
        "after": {name: [cmd] for name, cmd in baseline.ready.items()},
    })
    return Cloud(spec=spec, nodes=nodes, baseline=baseline, mesh=mesh)


def build_baseline(spec: ClusterSpec, nodes: list[Node]) -> NodeBaseline:
    tcp, udp = cluster_ports(spec)
    published = {n.name: spec.node_groups[n.group].published_ports for n in nodes}
    return NodeBaseline(f"{spec.name}-baseline", {
        "nodes": nodes,
        "mesh_cidr": str(spec.network.mesh_cidr),
        "mesh_interface": INTERFACE,
        "wireguard_port": spec.network.wireguard_port,
        "ssh_source_cidrs": [str(c) for c in spec.network.ssh_source_cidrs],
        "published_ports": published,
        "cluster_tcp_ports": tcp,
        "cluster_udp_ports": udp,
        "pod_cidr": str(spec.network.pod_cidr),
    })
