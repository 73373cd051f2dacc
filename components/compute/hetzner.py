"""Hetzner Cloud servers: SSH key, firewall, spread placement, private network.

Names of servers, SSH keys, firewalls and placement groups are unique in a
Hetzner project, and so are SSH key fingerprints.
"""

from __future__ import annotations

import pulumi
import pulumi_hcloud as hcloud

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

# Hetzner allows at most 10 servers in one spread placement group.
SPREAD_GROUP_LIMIT = 10
# Inputs only read when a server is created, all ForceNew in the provider
# (terraform-provider-hcloud internal/server/resource.go): changing one
# would replace the server. Pulumi property names (see images.py).
INSTALL_TIME = ["image", "userData", "sshKeys"]


class HetznerNodes(pulumi.ComponentResource):
    """All Hetzner Cloud nodes of a cluster."""

    nodes: list[Node]
    """The nodes, in spec order."""

    def __init__(self, name: str, args: NodePoolArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("sovereign:compute:HetznerNodes", name, {}, opts)
        spec, catalog = args["spec"], args["catalog"]
        child = pulumi.ResourceOptions(parent=self)

        key_id = self._admin_key(name, spec)
        network, subnet = self._private_network(name, spec, args, child)
        self.rebuilding = rebuild_nodes(spec)

        self.nodes = []
        for group, planned_nodes in groups_of(args["nodes"]).items():
            firewalls = self._firewalls(name, spec, group, planned_nodes, child)
            for k, chunk in enumerate(chunks(planned_nodes, SPREAD_GROUP_LIMIT)):
                placement = hcloud.PlacementGroup(
                    f"{name}-{group}-spread-{k}", name=f"{spec.name}-{group}-{k}", type="spread",
                    labels={"cluster": spec.name, "group": group}, opts=child,
                )
                for planned in chunk:
                    firewall = firewalls[planned.is_control_plane]
                    self.nodes.append(
                        self._server(name, args, planned, key_id, firewall, placement, network, subnet, catalog)
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

    def _admin_key(self, name, spec) -> pulumi.Output[str]:
        """Id of the SSH key installed on new servers: the project's key named
        ``providers.hetzner.sshKeyName``, or ssh.publicKey uploaded as
        "<cluster>-admin" unless the project already holds it (Hetzner would
        refuse the duplicate fingerprint)."""
        settings = spec.providers.hetzner
        keys = hcloud.get_ssh_keys_output(opts=pulumi.InvokeOutputOptions(parent=self)).ssh_keys
        if settings.ssh_key_name:
            return keys.apply(lambda ks: existing_key_id(ks, settings.ssh_key_name))
        own = f"{spec.name}-admin"
        key = hcloud.SshKey(
            f"{name}-ssh-key", name=own,
            public_key=keys.apply(lambda ks: not_uploaded_elsewhere(ks, spec.ssh.public_key, own)),
            # Unique names: a replacement (new public key) must free the name first.
            opts=pulumi.ResourceOptions(parent=self, delete_before_replace=True),
        )
        return key.id

    def _firewalls(self, name, spec, group, planned_nodes, child) -> dict[bool, hcloud.Firewall]:
        """One firewall per group, per control-plane role if a group ever mixed
        roles (the API is open on control planes only)."""
        roles = sorted({p.is_control_plane for p in planned_nodes})
        firewalls = {}
        for control_plane in roles:
            suffix = "" if len(roles) == 1 else ("-control-plane" if control_plane else "-others")
            firewalls[control_plane] = hcloud.Firewall(
                f"{name}-{group}{suffix}-fw", name=f"{spec.name}-{group}{suffix}",
                rules=firewall_rules(public_ports(spec, group, control_plane=control_plane)),
                labels={"cluster": spec.name, "group": group}, opts=child)
        return firewalls

    def _server(self, name, args, planned, key_id, firewall, placement, network, subnet, catalog) -> Node:
        spec = args["spec"]
        group = spec.node_groups[planned.group]
        attach_private = network is not None and group.private_network
        host_key = new_host_key(name, planned.name, self)
        image = group.image or spec.providers.hetzner.image
        server = hcloud.Server(
            f"{name}-{planned.name}",
            name=server_name(spec, planned),
            server_type=planned.instance_type,
            image=image,
            location=planned.region,
            ssh_keys=[key_id],
            firewall_ids=[firewall.id.apply(int)],
            placement_group_id=placement.id.apply(int),
            public_nets=[hcloud.ServerPublicNetArgs(ipv4_enabled=True, ipv6_enabled=True)],
            networks=[hcloud.ServerNetworkArgs(network_id=network.id.apply(int))] if attach_private else None,
            labels={"cluster": spec.name, "group": planned.group, "node": planned.name},
            user_data=user_data_for(spec, planned, host_key),
            opts=server_options(self, INSTALL_TIME, rebuilding=planned.name in self.rebuilding,
                                depends_on=[subnet] if attach_private else None,
                                # Unique names: create-before-delete would collide.
                                delete_before_replace=True),
        )
        report_image(server, node=planned.name, field=f"nodeGroups.{planned.group}.image" if group.image
                     else "providers.hetzner.image", wanted=image, deployed=server.image,
                     rebuilding=planned.name in self.rebuilding)
        private = server.networks.apply(lambda nets: (nets or [{}])[0].get("ip")) if attach_private else None
        return node_from_plan(
            args, planned, public_address=server.ipv4_address, resource=server, host_key=host_key.public,
            # Mesh packets between attached nodes ride the private network (MTU 1450).
            underlay_mtu=catalog.underlay_mtu("hetzner", planned.region, private_network=attach_private),
            private_address=private, private_network=f"hetzner:{spec.providers.hetzner.network_zone}" if attach_private else None,
        )


def firewall_rules(ports: list[PublicPort]) -> list[hcloud.FirewallRuleArgs]:
    """Inbound rules of an ``hcloud.Firewall`` (one rule takes a list of sources)."""
    return [hcloud.FirewallRuleArgs(direction="in", protocol=p.protocol, port=None if p.port is None else str(p.port),
                                    source_ips=list(p.sources), description=p.description) for p in ports]


def _key_body(public_key: str) -> str:
    """"ssh-ed25519 AAAA..." without the comment: what the fingerprint covers."""
    return " ".join(public_key.split()[:2])


def existing_key_id(keys, key_name: str) -> str:
    for key in keys:
        if key.name == key_name:
            return str(int(key.id))
    names = sorted(k.name for k in keys)
    raise ValueError(f"providers.hetzner.sshKeyName: the Hetzner project has no SSH key named {key_name!r} "
                     f"(it has {names or 'none'}); fix: give the name `hcloud ssh-key list` shows, or remove "
                     "sshKeyName to upload ssh.publicKey")


def not_uploaded_elsewhere(keys, public_key: str, own_name: str) -> str:
    """``public_key``, unless the project holds it under another name."""
    for key in keys:
        if key.name != own_name and _key_body(key.public_key) == _key_body(public_key):
            raise ValueError(
                f"ssh.publicKey has the same fingerprint as SSH key {key.name!r} already in the Hetzner project, "
                f"so uploading it as {own_name!r} would fail (Hetzner keeps fingerprints unique); fix: set "
                f"providers.hetzner.sshKeyName: {key.name} to install that key")
    return public_key
