"""Hetzner Cloud servers: SSH key, firewall, spread placement, private network."""

from __future__ import annotations

import pulumi
import pulumi_hcloud as hcloud

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

# Hetzner allows at most 10 servers in one spread placement group.
SPREAD_GROUP_LIMIT = 10
ANYWHERE = ["0.0.0.0/0", "::/0"]


class HetznerNodes(pulumi.ComponentResource):
    """All Hetzner Cloud nodes of a cluster."""

    nodes: list[Node]
    """The nodes, in spec order."""

    def __init__(self, name: str, args: NodePoolArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("sovereign:compute:HetznerNodes", name, {}, opts)
        spec, catalog = args["spec"], args["catalog"]
        child = pulumi.ResourceOptions(parent=self)

        key = hcloud.SshKey(f"{name}-ssh-key", name=f"{spec.name}-admin", public_key=spec.ssh.public_key, opts=child)
        network, subnet = self._private_network(name, spec, args, child)

        self.nodes = []
        for group, planned_nodes in groups_of(args["nodes"]).items():
            firewall = self._firewall(name, spec, group, child)
            for k, chunk in enumerate(chunks(planned_nodes, SPREAD_GROUP_LIMIT)):
                placement = hcloud.PlacementGroup(
                    f"{name}-{group}-spread-{k}", name=f"{spec.name}-{group}-{k}", type="spread",
                    labels={"cluster": spec.name, "group": group}, opts=child,
                )
                for planned in chunk:
                    self.nodes.append(
                        self._server(name, args, planned, key, firewall, placement, network, subnet, catalog)
                    )
        self.register_outputs({"nodeNames": [n.name for n in self.nodes]})

    def _private_network(self, name, spec, args, child):
        groups = {n.group for n in args["nodes"] if spec.node_groups[n.group].private_network}
        if not groups:
            return None, None
        settings = spec.providers.hetzner
        network = hcloud.Network(f"{name}-network", name=f"{spec.name}-private", ip_range=str(settings.network_cidr), opts=child)
        subnet = hcloud.NetworkSubnet(
            f"{name}-subnet", network_id=network.id.apply(int), type="cloud",
            network_zone=settings.network_zone, ip_range=str(settings.network_cidr), opts=child,
        )
        return network, subnet

    def _firewall(self, name, spec, group, child) -> hcloud.Firewall:
        net = spec.network
        ssh_sources = [str(c) for c in net.ssh_source_cidrs]
        rules = [
            hcloud.FirewallRuleArgs(direction="in", protocol="tcp", port="22", source_ips=ssh_sources, description="ssh"),
            hcloud.FirewallRuleArgs(direction="in", protocol="udp", port=str(net.wireguard_port), source_ips=ANYWHERE, description="wireguard mesh"),
            hcloud.FirewallRuleArgs(direction="in", protocol="icmp", source_ips=ANYWHERE, description="icmp (path MTU discovery)"),
        ]
        rules += [
            hcloud.FirewallRuleArgs(direction="in", protocol="tcp", port=str(p), source_ips=ANYWHERE, description=f"published {p}")
            for p in firewall_tcp_ports(spec, group)
        ]
        return hcloud.Firewall(f"{name}-{group}-fw", name=f"{spec.name}-{group}", rules=rules,
                               labels={"cluster": spec.name, "group": group}, opts=child)

    def _server(self, name, args, planned, key, firewall, placement, network, subnet, catalog) -> Node:
        spec = args["spec"]
        group = spec.node_groups[planned.group]
        attach_private = network is not None and group.private_network
        server = hcloud.Server(
            f"{name}-{planned.name}",
            name=server_name(spec, planned),
            server_type=planned.instance_type,
            image=group.image or spec.providers.hetzner.image,
            location=planned.region,
            ssh_keys=[key.id],
            firewall_ids=[firewall.id.apply(int)],
            placement_group_id=placement.id.apply(int),
            public_nets=[hcloud.ServerPublicNetArgs(ipv4_enabled=True, ipv6_enabled=True)],
            networks=[hcloud.ServerNetworkArgs(network_id=network.id.apply(int))] if attach_private else None,
            labels={"cluster": spec.name, "group": planned.group, "node": planned.name},
            user_data=user_data_for(spec, planned),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[subnet] if attach_private else None,
                                        ignore_changes=["user_data", "image"]),
        )
        private = server.networks.apply(lambda nets: (nets or [{}])[0].get("ip")) if attach_private else None
        return node_from_plan(
            args, planned, public_address=server.ipv4_address, resource=server,
            # Mesh packets between attached nodes ride the private network (MTU 1450).
            underlay_mtu=catalog.underlay_mtu("hetzner", planned.region, private_network=attach_private),
            private_address=private, private_network=f"hetzner:{spec.providers.hetzner.network_zone}" if attach_private else None,
        )
