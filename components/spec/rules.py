"""Cross-field rules of the cluster spec, each returning every issue it finds."""

from __future__ import annotations

import difflib
import ipaddress
from collections import Counter
from collections.abc import Callable, Iterable

from components.remote.host_keys import HOW_TO_READ
from components.topology import addressing
from components.topology.plan import group_ranges, plan_nodes

from .platform import check_storage
from .storage import check_rook_ceph
from .data import check_data_service_addons, check_data_services
from .autoscaler import check_autoscaling
from .fleet import check_fleet, check_fleet_submariner
from .openstack import check_openstack, check_openstack_memory
from .cluster import ClusterSpec
from .errors import SpecIssue
from .inputs import reads

Rule = Callable[[ClusterSpec, object], Iterable[SpecIssue]]


def _groups_with(spec: ClusterSpec, role: str):
    return {n: g for n, g in spec.node_groups.items() if role in g.roles}


@reads("network.meshCidr", "network.podCidr", "network.serviceCidr", "providers.hetzner.networkCidr",
       "providers.scaleway.privateNetworkCidr", "nodeGroups.*.provider", "nodeGroups.*.privateNetwork", any_groups=True)
def check_cidrs(spec: ClusterSpec, catalog) -> Iterable[SpecIssue]:
    """Mesh, pod, service and provider private networks must be disjoint."""
    net = spec.network
    ranges = [
        ("network.meshCidr", net.mesh_cidr),
        ("network.podCidr", net.pod_cidr),
        ("network.serviceCidr", net.service_cidr),
    ]
    used = {g.provider for g in spec.node_groups.values() if g.private_network}
    if "hetzner" in used:
        ranges.append(("providers.hetzner.networkCidr", spec.providers.hetzner.network_cidr))
    if "scaleway" in used:
        ranges.append(("providers.scaleway.privateNetworkCidr", spec.providers.scaleway.private_network_cidr))
    for i, (path_a, a) in enumerate(ranges):
        for path_b, b in ranges[i + 1:]:
            if a.overlaps(b):
                yield SpecIssue(path_b, f"{b} overlaps {path_a} {a}", f"choose a range disjoint from {a}")


# Providers whose node pools attach ``privateNetwork`` groups to a provider
# private network (compute/hetzner.py, compute/scaleway.py).
PRIVATE_NETWORK_PROVIDERS = ("hetzner", "scaleway")
_PRIVATE_NETWORK_FIX = (
    "remove privateNetwork: the WireGuard mesh reaches these nodes over their public addresses "
    "(encrypted either way); for traffic over a provider private network use hetzner or scaleway node groups"
)


@reads("cost.catalogOverrides", "providers.hetzner.networkZone", "nodeGroups.*.provider", "nodeGroups.*.privateNetwork",
       "nodeGroups.*.instanceType", "nodeGroups.*.region", any_groups=True)
def check_private_networks(spec: ClusterSpec, catalog) -> Iterable[SpecIssue]:
    """``privateNetwork`` only where a private network is really created, never silently ignored."""
    for name, g in spec.node_groups.items():
        if not g.private_network:
            continue
        path = f"nodeGroups.{name}.privateNetwork"
        if g.provider == "hetzner":
            yield from _hetzner_network_zone(spec, name, g, catalog)
            continue
        if g.provider in PRIVATE_NETWORK_PROVIDERS:
            continue
        if g.provider == "ovh":
            itype = catalog.instance_type("ovh", g.instance_type) if g.instance_type else None
            if itype is not None and itype.product == "vps":
                message = (f"{g.instance_type} is an OVH VPS (ovh.vps.Vps), which cannot be attached to a "
                           "private network (no vRack)")
            elif itype is not None:
                message = (f"{g.instance_type} is an OVH Public Cloud instance: its private networks need the "
                           "project attached to a vRack, which this project does not manage")
            else:
                message = "OVH nodes cannot be attached to a private network here"
            yield SpecIssue(path, message, _PRIVATE_NETWORK_FIX)
        else:
            yield SpecIssue(path, f"provider {g.provider!r} has no private network to attach hosts to",
                            _PRIVATE_NETWORK_FIX)


def _hetzner_network_zone(spec: ClusterSpec, name: str, g, catalog) -> Iterable[SpecIssue]:
    """The one Hetzner network has its subnet in providers.hetzner.networkZone: servers elsewhere cannot attach."""
    region = catalog.region("hetzner", g.region) if g.region else None
    wanted = spec.providers.hetzner.network_zone
    if region is not None and region.network_zone and region.network_zone != wanted:
        yield SpecIssue(
            f"nodeGroups.{name}.privateNetwork",
            f"{g.region} is in Hetzner network zone {region.network_zone}, but the private network's subnet is in "
            f"providers.hetzner.networkZone {wanted}",
            f"set providers.hetzner.networkZone to {region.network_zone} if every privateNetwork group is there, "
            "or remove privateNetwork from this group",
        )


@reads("distribution", "ha", "nodeGroups.*.provider", "nodeGroups.*.roles", "nodeGroups.*.count",
       "nodeGroups.*.minReplicas", "nodeGroups.*.hosts")
def check_control_plane(spec: ClusterSpec, catalog) -> Iterable[SpecIssue]:
    cps = _groups_with(spec, "control-plane")
    servers = sum(g.size for g in cps.values())
    if servers == 0:
        yield SpecIssue(
            "nodeGroups", "no node has the control-plane role",
            "add 'control-plane' to the roles of at least one node group with count >= 1",
        )
        return
    if spec.distribution == "k3s":
        yield from _k3s_quorum(spec, servers)
    else:
        yield from _kubeadm_etcd(spec, servers)


def _k3s_quorum(spec: ClusterSpec, servers: int) -> Iterable[SpecIssue]:
    for name, g in _groups_with(spec, "etcd").items():
        if "control-plane" not in g.roles:
            yield SpecIssue(
                f"nodeGroups.{name}.roles", "k3s embeds etcd in its servers; an etcd-only group is not possible",
                "add 'control-plane' to the roles, or use distribution 'kubeadm' for dedicated etcd nodes",
            )
    if spec.ha is False and servers > 1:
        yield SpecIssue("ha", f"ha is false but {servers} k3s servers are defined", "set ha: true or use one server")
    if (spec.ha or servers > 1) and (servers < 3 or servers % 2 == 0):
        yield SpecIssue(
            "nodeGroups", f"an HA k3s control plane with embedded etcd needs an odd number >= 3 of servers, got {servers}",
            "use 3 or 5 control-plane nodes (an even count tolerates no more failures than one less)",
        )


def _kubeadm_etcd(spec: ClusterSpec, control_planes: int) -> Iterable[SpecIssue]:
    etcd_groups = _groups_with(spec, "etcd")
    dedicated = {n: g for n, g in etcd_groups.items() if "control-plane" not in g.roles}
    stacked = {n: g for n, g in etcd_groups.items() if "control-plane" in g.roles}
    if dedicated and stacked:
        yield SpecIssue(
            f"nodeGroups.{next(iter(stacked))}.roles", "mixes stacked etcd with dedicated etcd groups",
            "give the etcd role either only to dedicated groups (external etcd) or only to control planes",
        )
    members = sum(g.size for g in dedicated.values()) if dedicated else control_planes
    where = "external etcd members" if dedicated else "stacked etcd members (control planes)"
    if members % 2 == 0:
        yield SpecIssue(
            "nodeGroups", f"{members} {where}: etcd needs an odd member count for quorum",
            "use 1, 3 or 5 etcd members",
        )
    if spec.ha and (control_planes < 2 or members < 3):
        yield SpecIssue(
            "ha", f"ha needs >= 2 control planes and >= 3 etcd members, got {control_planes} and {members}",
            "add control-plane nodes and etcd nodes, or set ha: false",
        )


SNAPSHOT_SCHEDULE = "kubernetes.etcdSnapshots.schedule"


@reads("distribution", "kubernetes.etcdSnapshots.enabled", SNAPSHOT_SCHEDULE, "nodeGroups.*.roles", any_groups=True)
def check_etcd_snapshot_schedule(spec: ClusterSpec, catalog) -> Iterable[SpecIssue]:
    """kubeadm's etcd members (dedicated, or stacked on the control planes)
    snapshot from a systemd timer or a loop, which need the schedule as a
    fixed period: only the forms
    ``components.cluster.etcd.schedule.interval_seconds`` converts are usable.
    K3s takes any cron schedule (it parses it itself): not checked here."""
    if spec.distribution != "kubeadm":
        return
    snapshots = spec.kubernetes.etcd_snapshots
    if not snapshots.enabled:
        return
    dedicated = [n for n, g in _groups_with(spec, "etcd").items() if "control-plane" not in g.roles]
    members = dedicated or list(_groups_with(spec, "control-plane"))
    where = "dedicated etcd members'" if dedicated else "control planes' (stacked etcd)"
    if not members:
        return
    # Imported here: the etcd package brings the Pulumi SDK, which spec
    # validation otherwise does without.
    from components.cluster.etcd.schedule import interval_seconds

    try:
        interval_seconds(snapshots.schedule)
    except ValueError as err:
        detail = str(err).removeprefix(f"{SNAPSHOT_SCHEDULE} {snapshots.schedule!r}: ")
        yield SpecIssue(
            SNAPSHOT_SCHEDULE,
            f"{snapshots.schedule!r} cannot be run by the {where} snapshot scheduler "
            f"(nodeGroups {', '.join(members)}): {detail}",
            "use '*/M * * * *' (every M minutes), 'M */H * * *' (every H hours) or 'M H * * *' (daily), "
            "e.g. '0 */6 * * *'; or set kubernetes.etcdSnapshots.enabled: false",
        )


@reads("providers.ovh.cloudProject", "cost.catalogOverrides", *(f"nodeGroups.*.{key}" for key in (
    "provider", "region", "instanceType", "count", "minReplicas", "maxReplicas", "roles", "gpus", "hosts", "sshUser")),
    any_groups=True)
def check_groups(spec: ClusterSpec, catalog) -> Iterable[SpecIssue]:
    for name, g in spec.node_groups.items():
        path = f"nodeGroups.{name}"
        if g.gpus and "worker" not in g.roles:
            yield SpecIssue(f"{path}.gpus", "GPUs on a group without the worker role", "add 'worker' to roles or remove gpus")
        if g.is_existing:
            yield from _existing_group(path, g)
        else:
            yield from _cloud_group(spec, path, g, catalog)


def _existing_group(path: str, g) -> Iterable[SpecIssue]:
    for field in ("instance_type", "count", "min_replicas", "max_replicas"):
        if getattr(g, field) is not None:
            camel = {"instance_type": "instanceType", "min_replicas": "minReplicas", "max_replicas": "maxReplicas"}.get(field, field)
            if field in ("min_replicas", "max_replicas"):
                # No autoscaler can order a machine of ours: say what is offered.
                yield SpecIssue(f"{path}.{camel}", "existing hosts cannot be autoscaled: no autoscaler can add a "
                                "machine that is not rented through an API",
                                "list the machines under hosts (add one and run pulumi up to scale), or put the "
                                "elastic part in a Hetzner group with minReplicas/maxReplicas")
            else:
                yield SpecIssue(f"{path}.{camel}", "does not apply to existing hosts", "list the machines under hosts instead")
    if not g.hosts:
        yield SpecIssue(f"{path}.hosts", "an existing group needs at least one host", "add hosts with name, address and sshUser")
    for i, host in enumerate(g.hosts):
        if not host.address:
            yield SpecIssue(f"{path}.hosts.{i}.address", f"host {host.name} has no address", "give the address Pulumi reaches it on over SSH")
        if not (host.ssh_user or g.ssh_user):
            yield SpecIssue(f"{path}.hosts.{i}.sshUser", f"host {host.name} has no SSH user", "set sshUser on the host or on the group")
        if not host.host_key:
            yield SpecIssue(f"{path}.hosts.{i}.hostKey",
                            f"host {host.name} has no SSH host key: sessions carrying cluster secrets would trust any machine at its address",
                            f"set hostKey to {HOW_TO_READ}")


def _cloud_group(spec: ClusterSpec, path: str, g, catalog) -> Iterable[SpecIssue]:
    if g.hosts:
        yield SpecIssue(f"{path}.hosts", f"hosts only apply to provider 'existing', not {g.provider}", "remove hosts or set provider: existing")
    if g.count is None and g.min_replicas is None:
        yield SpecIssue(f"{path}.count", "neither count nor minReplicas is set", "set count (or minReplicas/maxReplicas)")
    if g.count is not None and (g.min_replicas is not None or g.max_replicas is not None):
        yield SpecIssue(f"{path}.count", "count and minReplicas/maxReplicas are exclusive", "keep one of them")
    if not g.region:
        yield SpecIssue(f"{path}.region", "is required for a cloud provider", _one_of(r.name for r in catalog.regions(g.provider)))
    elif catalog.region(g.provider, g.region) is None:
        yield SpecIssue(f"{path}.region", f"unknown {g.provider} region {g.region!r}", _suggest(g.region, [r.name for r in catalog.regions(g.provider)]))
    if not g.instance_type:
        yield SpecIssue(f"{path}.instanceType", "is required for a cloud provider", "set an instance type of the provider")
        return
    itype = catalog.instance_type(g.provider, g.instance_type)
    if itype is None:
        yield SpecIssue(f"{path}.instanceType", f"unknown {g.provider} instance type {g.instance_type!r}",
                        _suggest(g.instance_type, [t.name for t in catalog.instance_types(g.provider)]))
        return
    if g.region and catalog.region(g.provider, g.region) and not catalog.offered_in(itype, g.region):
        yield SpecIssue(f"{path}.region", f"{g.instance_type} is not offered in {g.region}", _one_of(catalog.region_names_for(itype)))
    if g.gpus and not itype.gpus:
        yield SpecIssue(f"{path}.gpus", f"{g.instance_type} has no GPU", "choose a GPU instance type or remove gpus")
    if g.provider == "ovh" and itype.product == "public-cloud" and not spec.providers.ovh.cloud_project:
        yield SpecIssue("providers.ovh.cloudProject", f"{g.instance_type} is a Public Cloud flavor and needs a project",
                        "set the OVH Public Cloud project id (serviceName)")


@reads("network.meshCidr", "network.podCidr", "network.serviceCidr", "nodeGroups.*", any_groups=True)
def check_names_and_addresses(spec: ClusterSpec, catalog) -> Iterable[SpecIssue]:
    mesh = spec.network.mesh_cidr
    ranges = group_ranges(spec)
    names = list(ranges)
    total = addressing.block_count(mesh)
    for i, a in enumerate(names):
        ra = ranges[a]
        if ra.end_block > total:
            yield SpecIssue(f"nodeGroups.{a}.meshBlock", f"blocks {ra.start_block}..{ra.end_block - 1} exceed the {total} /24 blocks of {mesh}",
                            "choose a lower meshBlock or a larger network.meshCidr")
        for b in names[i + 1:]:
            if ra.overlaps(ranges[b]):
                free = _free_block(ranges, ranges[b].blocks, total)
                yield SpecIssue(f"nodeGroups.{b}.meshBlock", f"mesh addresses of groups {a} and {b} collide",
                                f"set nodeGroups.{b}.meshBlock to a free block, e.g. {free}")
    for gname, group in spec.node_groups.items():
        if group.is_existing and len(group.hosts) > addressing.HOSTS_PER_BLOCK:
            yield SpecIssue(f"nodeGroups.{gname}.hosts", f"{len(group.hosts)} hosts do not fit the "
                            f"{addressing.HOSTS_PER_BLOCK} mesh addresses of one group's /24 block",
                            "split the hosts into several node groups")
    nodes = plan_nodes(spec)
    for name, n in Counter(n.name for n in nodes).items():
        if n > 1:
            yield SpecIssue("nodeGroups", f"node name {name!r} is used {n} times", "rename hosts or groups so node names are unique")
    by_ip: dict = {}
    for node in nodes:
        if node.mesh_ip not in mesh or node.mesh_ip in (mesh.network_address, mesh.broadcast_address):
            yield SpecIssue(f"nodeGroups.{node.group}", f"node {node.name} mesh IP {node.mesh_ip} is not a host address of {mesh}", "fix meshIp")
        elif node.mesh_ip in by_ip:
            yield SpecIssue(f"nodeGroups.{node.group}", f"nodes {by_ip[node.mesh_ip]} and {node.name} get the same mesh IP {node.mesh_ip}",
                            f"give hosts {by_ip[node.mesh_ip]} and {node.name} different meshIp values, or remove "
                            "meshIp from one of them to have it allocated")
        by_ip.setdefault(node.mesh_ip, node.name)
        if node.host and node.host.address:
            yield from _host_address_outside(spec, node)


def _host_address_outside(spec: ClusterSpec, node) -> Iterable[SpecIssue]:
    try:
        addr = ipaddress.ip_address(node.host.address)
    except ValueError:
        return  # a DNS name
    for label, cidr in (("meshCidr", spec.network.mesh_cidr), ("podCidr", spec.network.pod_cidr), ("serviceCidr", spec.network.service_cidr)):
        if addr in cidr:
            yield SpecIssue(f"nodeGroups.{node.group}.hosts.{node.ordinal - 1}.address",
                            f"{addr} lies inside network.{label} {cidr}", f"change network.{label} or the host address")


def _free_block(ranges, blocks: int, total: int) -> int:
    taken = set()
    for r in ranges.values():
        taken.update(range(r.start_block, r.end_block))
    for start in range(addressing.RESERVED_BLOCKS, total - blocks + 1):
        if not taken.intersection(range(start, start + blocks)):
            return start
    return -1


@reads("kubernetes.kubeProxy", "network.cni")
def check_kube_proxy(spec: ClusterSpec, catalog) -> Iterable[SpecIssue]:
    """Without kube-proxy something else must implement Services: Cilium does
    (kube-proxy replacement), Calico's iptables data plane (the one the
    platform installs) does not, so ClusterIPs and NodePorts would not work."""
    if not spec.kubernetes.kube_proxy and spec.network.cni == "calico":
        yield SpecIssue(
            "kubernetes.kubeProxy",
            "is false, but network.cni 'calico' (iptables data plane) does not replace kube-proxy: "
            "no Service would work",
            "set kubernetes.kubeProxy: true (the default: kube-proxy beside Calico) or network.cni: cilium, "
            "which replaces kube-proxy",
        )


def _suggest(value: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(value, choices, n=3)
    hint = f"did you mean {', '.join(close)}? " if close else ""
    return hint + _one_of(choices)


def _one_of(choices) -> str:
    choices = sorted(choices)
    shown = ", ".join(choices[:12]) + (" ..." if len(choices) > 12 else "")
    return f"use one of: {shown}"


RULES: tuple[Rule, ...] = (
    check_cidrs, check_private_networks, check_control_plane, check_etcd_snapshot_schedule, check_groups,
    check_names_and_addresses, check_kube_proxy, check_storage, check_rook_ceph,
    check_data_services, check_data_service_addons, check_autoscaling, check_fleet, check_fleet_submariner,
    check_openstack,
    check_openstack_memory,
)
