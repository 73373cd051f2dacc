"""The composition: spec -> node pools -> (mesh -> cluster -> platform)."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from components.compute.existing import ExistingNodes
from components.compute.hetzner import HetznerNodes
from components.compute.node import Node
from components.compute.ovh import OvhNodes
from components.compute.scaleway import ScalewayNodes
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
    return Cloud(spec=spec, nodes=[nodes_by_name[p.name] for p in planned])
