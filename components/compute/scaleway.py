"""Scaleway instances: flexible IP, security group, placement group."""

from __future__ import annotations

import pulumi
import pulumiverse_scaleway as scaleway

from .node import Node
from .pool import NodePoolArgs, chunks, firewall_tcp_ports, groups_of, node_from_plan, server_name, user_data_for

# Scaleway placement groups hold at most 20 instances.
PLACEMENT_GROUP_LIMIT = 20


class ScalewayNodes(pulumi.ComponentResource):
    """All Scaleway nodes of a cluster."""

    nodes: list[Node]
    """The nodes, in spec order."""

    def __init__(self, name: str, args: NodePoolArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("sovereign:compute:ScalewayNodes", name, {}, opts)
        spec = args["spec"]
        child = pulumi.ResourceOptions(parent=self)
        self.nodes = []
        for group, planned_nodes in groups_of(args["nodes"]).items():
            zone = planned_nodes[0].region
            security_group = self._security_group(name, spec, group, zone, child)
            for k, chunk in enumerate(chunks(planned_nodes, PLACEMENT_GROUP_LIMIT)):
                placement = scaleway.instance.PlacementGroup(
                    f"{name}-{group}-placement-{k}", name=f"{spec.name}-{group}-{k}", zone=zone,
                    policy_type="max_availability", policy_mode="optional", opts=child,
                )
                for planned in chunk:
                    self.nodes.append(self._server(name, args, planned, security_group, placement))
        self.register_outputs({"nodeNames": [n.name for n in self.nodes]})

    def _security_group(self, name, spec, group, zone, child):
        net = spec.network
        rules = [
            scaleway.instance.SecurityGroupInboundRuleArgs(action="accept", protocol="TCP", port=22, ip_range=str(cidr))
            for cidr in net.ssh_source_cidrs
        ]
        rules.append(scaleway.instance.SecurityGroupInboundRuleArgs(action="accept", protocol="UDP", port=net.wireguard_port, ip_range="0.0.0.0/0"))
        rules.append(scaleway.instance.SecurityGroupInboundRuleArgs(action="accept", protocol="ICMP", ip_range="0.0.0.0/0"))
        rules += [
            scaleway.instance.SecurityGroupInboundRuleArgs(action="accept", protocol="TCP", port=p, ip_range="0.0.0.0/0")
            for p in firewall_tcp_ports(spec, group)
        ]
        return scaleway.instance.SecurityGroup(
            f"{name}-{group}-sg", name=f"{spec.name}-{group}", zone=zone, stateful=True,
            inbound_default_policy="drop", outbound_default_policy="accept", inbound_rules=rules, opts=child,
        )

    def _server(self, name, args, planned, security_group, placement) -> Node:
        spec = args["spec"]
        group = spec.node_groups[planned.group]
        child = pulumi.ResourceOptions(parent=self)
        ip = scaleway.instance.Ip(f"{name}-{planned.name}-ip", zone=planned.region, type="routed_ipv4", opts=child)
        server = scaleway.instance.Server(
            f"{name}-{planned.name}",
            name=server_name(spec, planned),
            type=planned.instance_type,
            image=group.image or spec.providers.scaleway.image,
            zone=planned.region,
            ip_id=ip.id,
            security_group_id=security_group.id,
            placement_group_id=placement.id,
            tags=[f"cluster={spec.name}", f"group={planned.group}", f"node={planned.name}"],
            user_data={"cloud-init": user_data_for(spec, planned)},
            opts=pulumi.ResourceOptions(parent=self, ignore_changes=["userData", "image"]),
        )
        region = args["catalog"].region("scaleway", planned.region)
        return node_from_plan(args, planned, public_address=ip.address, resource=server,
                              underlay_mtu=region.underlay_mtu if region else 1500)
