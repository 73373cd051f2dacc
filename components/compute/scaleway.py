"""Scaleway instances: flexible IP, security group, placement group, private network."""

from __future__ import annotations

import ipaddress

import pulumi
import pulumiverse_scaleway as scaleway

from .node import Node
from .pool import (
    NodePoolArgs,
    chunks,
    firewall_tcp_ports,
    groups_of,
    node_from_plan,
    server_name,
    user_data_for,
)

# Scaleway placement groups hold at most 20 instances.
PLACEMENT_GROUP_LIMIT = 20


def network_region(catalog, zone: str) -> str:
    """Region of a zone (``fr-par-2`` -> ``fr-par``): where its private network lives."""
    region = catalog.region("scaleway", zone)
    if region is not None and region.network_zone:
        return region.network_zone
    return zone.rsplit("-", 1)[0]


def first_private_ipv4(private_ips) -> str:
    """The IPv4 address of a private NIC (IPAM also gives it an IPv6 one)."""
    for ip in private_ips or []:
        text = ip.get("address") if isinstance(ip, dict) else getattr(ip, "address", None)
        if not text:
            continue
        address = ipaddress.ip_interface(text).ip  # "172.16.0.2" or "172.16.0.2/22"
        if address.version == 4:
            return str(address)
    raise ValueError(f"no private IPv4 address among {private_ips}")


class ScalewayNodes(pulumi.ComponentResource):
    """All Scaleway nodes of a cluster."""

    nodes: list[Node]
    """The nodes, in spec order."""

    def __init__(self, name: str, args: NodePoolArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("sovereign:compute:ScalewayNodes", name, {}, opts)
        spec = args["spec"]
        child = pulumi.ResourceOptions(parent=self)
        networks = self._private_networks(name, spec, args, child)
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
                    self.nodes.append(self._server(name, args, planned, security_group, placement, networks))
        self.register_outputs({"nodeNames": [n.name for n in self.nodes]})

    def _private_networks(self, name, spec, args, child) -> dict[str, scaleway.network.PrivateNetwork]:
        """One VPC and private network per region holding a ``privateNetwork`` group.

        Private networks are regional: instances of every zone of the region
        (fr-par-1/2/3) attach to the same one. The VPC is created rather than
        assumed, since projects made after May 2025 have no default VPC.
        """
        regions = sorted({
            network_region(args["catalog"], p.region)
            for p in args["nodes"] if spec.node_groups[p.group].private_network
        })
        networks = {}
        for region in regions:
            vpc = scaleway.network.Vpc(
                f"{name}-{region}-vpc", name=f"{spec.name}-{region}", region=region,
                tags=[f"cluster={spec.name}"], opts=child,
            )
            networks[region] = scaleway.network.PrivateNetwork(
                f"{name}-{region}-private", name=f"{spec.name}-{region}-private", region=region, vpc_id=vpc.id,
                ipv4_subnet=scaleway.network.PrivateNetworkIpv4SubnetArgs(
                    subnet=str(spec.providers.scaleway.private_network_cidr)),
                tags=[f"cluster={spec.name}"], opts=child,
            )
        return networks

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

    def _server(self, name, args, planned, security_group, placement, networks) -> Node:
        spec, catalog = args["spec"], args["catalog"]
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
        private_address = private_network = None
        attach_private = group.private_network
        if attach_private:
            region = network_region(catalog, planned.region)
            nic = scaleway.instance.PrivateNic(
                f"{name}-{planned.name}-pnic",
                server_id=server.id,
                private_network_id=networks[region].id,
                zone=planned.region,
                tags=[f"cluster={spec.name}", f"node={planned.name}"],
                opts=child,
            )
            private_address = nic.private_ips.apply(first_private_ipv4)
            private_network = f"scaleway:{region}"
        return node_from_plan(
            args, planned, public_address=ip.address, resource=server,
            underlay_mtu=catalog.underlay_mtu("scaleway", planned.region, private_network=attach_private),
            private_address=private_address, private_network=private_network,
        )
