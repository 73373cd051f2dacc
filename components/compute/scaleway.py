"""Scaleway instances: flexible IP, security group, placement group, private network.

Every resource is created in ``providers.scaleway.projectId`` when set (else
in the API key's default project).
"""

from __future__ import annotations

import ipaddress

import pulumi
import pulumiverse_scaleway as scaleway

from components.node.public_ports import PublicPort, public_ports

from .host_key import new_host_key
from .images import rebuild_nodes, report_image, server_options
from .node import Node
from .pool import (
    NodePoolArgs,
    chunks,
    groups_of,
    node_from_plan,
    server_name,
    user_data_for,
)

# Scaleway placement groups hold at most 20 instances.
PLACEMENT_GROUP_LIMIT = 20
# Inputs that only matter when an instance is created: an image change
# replaces the server (terraform-provider-scaleway customDiffInstanceServerImage),
# cloud-init reads the user data at first boot. Pulumi property names.
INSTALL_TIME = ["image", "userData"]


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
        self.project = {"project_id": spec.providers.scaleway.project_id}
        self.rebuilding = rebuild_nodes(spec)
        networks = self._private_networks(name, spec, args, child)
        self.nodes = []
        for group, planned_nodes in groups_of(args["nodes"]).items():
            zone = planned_nodes[0].region
            security_groups = self._security_groups(name, spec, group, zone, planned_nodes, child)
            for k, chunk in enumerate(chunks(planned_nodes, PLACEMENT_GROUP_LIMIT)):
                placement = scaleway.instance.PlacementGroup(
                    f"{name}-{group}-placement-{k}", name=f"{spec.name}-{group}-{k}", zone=zone,
                    policy_type="max_availability", policy_mode="optional", **self.project, opts=child,
                )
                for planned in chunk:
                    security_group = security_groups[planned.is_control_plane]
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
                tags=[f"cluster={spec.name}"], **self.project, opts=child,
            )
            networks[region] = scaleway.network.PrivateNetwork(
                f"{name}-{region}-private", name=f"{spec.name}-{region}-private", region=region, vpc_id=vpc.id,
                ipv4_subnet=scaleway.network.PrivateNetworkIpv4SubnetArgs(
                    subnet=str(spec.providers.scaleway.private_network_cidr)),
                tags=[f"cluster={spec.name}"], **self.project, opts=child,
            )
        return networks

    def _security_groups(self, name, spec, group, zone, planned_nodes, child) -> dict[bool, object]:
        """One security group per group, per control-plane role if a group ever
        mixed roles (the API is open on control planes only)."""
        roles = sorted({p.is_control_plane for p in planned_nodes})
        groups = {}
        for control_plane in roles:
            suffix = "" if len(roles) == 1 else ("-control-plane" if control_plane else "-others")
            groups[control_plane] = scaleway.instance.SecurityGroup(
                f"{name}-{group}{suffix}-sg", name=f"{spec.name}-{group}{suffix}", zone=zone, stateful=True,
                inbound_default_policy="drop", outbound_default_policy="accept",
                inbound_rules=inbound_rules(public_ports(spec, group, control_plane=control_plane)),
                **self.project, opts=child,
            )
        return groups

    def _server(self, name, args, planned, security_group, placement, networks) -> Node:
        spec, catalog = args["spec"], args["catalog"]
        group = spec.node_groups[planned.group]
        child = pulumi.ResourceOptions(parent=self)
        ip = scaleway.instance.Ip(f"{name}-{planned.name}-ip", zone=planned.region, type="routed_ipv4",
                                  **self.project, opts=child)
        host_key = new_host_key(name, planned.name, self)
        image = group.image or spec.providers.scaleway.image
        rebuilding = planned.name in self.rebuilding
        server = scaleway.instance.Server(
            f"{name}-{planned.name}",
            name=server_name(spec, planned),
            type=planned.instance_type,
            image=image,
            zone=planned.region,
            ip_id=ip.id,
            security_group_id=security_group.id,
            placement_group_id=placement.id,
            tags=[f"cluster={spec.name}", f"group={planned.group}", f"node={planned.name}"],
            user_data={"cloud-init": user_data_for(spec, planned, host_key)},
            **self.project,
            opts=server_options(self, INSTALL_TIME, rebuilding=rebuilding),
        )
        report_image(server, node=planned.name, field=f"nodeGroups.{planned.group}.image" if group.image
                     else "providers.scaleway.image", wanted=image, deployed=server.image, rebuilding=rebuilding)
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
                **self.project, opts=child,
            )
            private_address = nic.private_ips.apply(first_private_ipv4)
            private_network = f"scaleway:{region}"
        return node_from_plan(
            args, planned, public_address=ip.address, resource=server, host_key=host_key.public,
            underlay_mtu=catalog.underlay_mtu("scaleway", planned.region, private_network=attach_private),
            private_address=private_address, private_network=private_network,
        )


def inbound_rules(ports: list[PublicPort]) -> list[scaleway.instance.SecurityGroupInboundRuleArgs]:
    """Inbound rules of a security group: one source range a rule, so IPv4 and
    IPv6 "anywhere" are two rules."""
    return [scaleway.instance.SecurityGroupInboundRuleArgs(action="accept", protocol=p.protocol.upper(),
                                                          port=p.port, ip_range=source)
            for p in ports for source in p.sources]
