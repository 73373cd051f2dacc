"""What every provider's node pool receives, and how it builds ``Node``s."""

from __future__ import annotations

from typing import TypedDict

import pulumi

from components.spec.cluster import ClusterSpec
from components.topology.plan import PlannedNode

from .cloud_init import render_user_data
from .host_key import HostKeyPair
from .node import Node, SshConnection


class NodePoolArgs(TypedDict):
    """Inputs of a provider's node pool (in-process: plain Python values)."""

    spec: ClusterSpec
    nodes: list[PlannedNode]
    ssh_private_key: pulumi.Output[str]
    catalog: object


def ssh_user_for(spec: ClusterSpec, planned: PlannedNode) -> str:
    group = spec.node_groups[planned.group]
    if planned.host and planned.host.ssh_user:
        return planned.host.ssh_user
    return group.ssh_user or spec.ssh.user


def server_name(spec: ClusterSpec, planned: PlannedNode) -> str:
    """Provider-side name: unique across clusters sharing an account."""
    return f"{spec.name}-{planned.name}"


def user_data_for(spec: ClusterSpec, planned: PlannedNode, host_key: HostKeyPair) -> pulumi.Output[str]:
    """The node's cloud-init user data: a secret, it holds the host's private key."""
    return pulumi.Output.secret(pulumi.Output.all(host_key.private_openssh, host_key.public).apply(
        lambda keys: render_user_data(
            hostname=planned.name,
            ssh_user=ssh_user_for(spec, planned),
            ssh_public_key=spec.ssh.public_key,
            host_key_private=keys[0],
            host_key_public=keys[1],
        )))


def node_from_plan(
    args: NodePoolArgs,
    planned: PlannedNode,
    *,
    public_address: pulumi.Output[str],
    resource: pulumi.Resource | None,
    underlay_mtu: int,
    host_key: pulumi.Input[str],
    private_address: pulumi.Output[str] | None = None,
    private_network: str | None = None,
    behind_nat: bool = False,
    ssh_port: int = 22,
    public_ip_version: int | None = 4,
) -> Node:
    spec = args["spec"]
    return Node(
        name=planned.name,
        group=planned.group,
        provider=planned.provider,
        region=planned.region,
        instance_type=planned.instance_type,
        roles=planned.roles,
        mesh_ip=str(planned.mesh_ip),
        public_address=public_address,
        ssh=SshConnection(
            host=public_address,
            user=ssh_user_for(spec, planned),
            private_key=args["ssh_private_key"],
            host_key=host_key,
            port=ssh_port,
        ),
        labels=dict(planned.labels),
        taints=planned.taints,
        gpus=planned.gpus,
        private_address=private_address,
        private_network=private_network,
        underlay_mtu=underlay_mtu,
        public_ip_version=public_ip_version,
        behind_nat=behind_nat,
        resource=resource,
    )


def groups_of(nodes: list[PlannedNode]) -> dict[str, list[PlannedNode]]:
    groups: dict[str, list[PlannedNode]] = {}
    for node in nodes:
        groups.setdefault(node.group, []).append(node)
    return groups


def chunks(items: list, size: int) -> list[list]:
    return [items[i:i + size] for i in range(0, len(items), size)]
