"""The nodes a spec describes, with names, roles, labels and mesh IPs."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from components.spec.cluster import ClusterSpec
from components.spec.node_groups import HostSpec, NodeGroupSpec

from . import addressing


@dataclass(frozen=True)
class PlannedNode:
    """A machine to create (or adopt), before any cloud resource exists."""

    name: str
    group: str
    ordinal: int
    provider: str
    region: str
    instance_type: str
    roles: tuple[str, ...]
    mesh_ip: ipaddress.IPv4Address
    labels: dict[str, str] = field(default_factory=dict)
    taints: tuple[dict, ...] = ()
    gpus: int = 0
    host: HostSpec | None = None  # for existing machines

    @property
    def is_control_plane(self) -> bool:
        return "control-plane" in self.roles


def group_ranges(spec: ClusterSpec) -> dict[str, addressing.GroupRange]:
    mesh = spec.network.mesh_cidr
    ranges = {}
    for name, group in spec.node_groups.items():
        start = group.mesh_block if group.mesh_block is not None else addressing.default_start_block(name, mesh)
        blocks = 1 if group.is_existing else addressing.blocks_needed(group.capacity)
        ranges[name] = addressing.GroupRange(name, start, blocks)
    return ranges


def node_labels(spec: ClusterSpec, group_name: str, group: NodeGroupSpec, region: str) -> dict[str, str]:
    """Well-known topology labels first, the user's labels last (they win)."""
    labels = {
        "sovereign.cloud/node-group": group_name,
        "sovereign.cloud/provider": group.provider,
        "topology.kubernetes.io/region": region,
    }
    if group.is_on_prem:
        labels["sovereign.cloud/on-prem"] = "true"
    if group.gpus:
        labels["sovereign.cloud/gpu"] = "true"
    # Ceph placement (storage.rookCeph): OSD and monitor nodes.
    from components.storage.layout import placement_labels

    labels.update(placement_labels(spec, group_name))
    labels.update(group.labels)
    return labels


def node_taints(group: NodeGroupSpec) -> tuple[dict, ...]:
    taints = [t.model_dump() for t in group.taints]
    # GPU nodes repel ordinary pods unless the user chose otherwise.
    if group.gpus and not any(t["key"] == "nvidia.com/gpu" for t in taints):
        taints.append({"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"})
    return tuple(taints)


def explicit_mesh_ips(spec: ClusterSpec) -> set[ipaddress.IPv4Address]:
    """Every ``meshIp`` the spec sets: no allocated host may take one."""
    return {h.mesh_ip for g in spec.node_groups.values() if g.is_existing for h in g.hosts if h.mesh_ip}


def plan_nodes(spec: ClusterSpec) -> list[PlannedNode]:
    """Every node of the spec, in group order then ordinal order."""
    mesh = spec.network.mesh_cidr
    ranges = group_ranges(spec)
    reserved = explicit_mesh_ips(spec)
    nodes = []
    for gname, group in spec.node_groups.items():
        region = group.region or "on-prem"
        common = dict(
            group=gname,
            provider=group.provider,
            region=region,
            instance_type=group.instance_type or "existing",
            roles=tuple(group.roles),
            labels=node_labels(spec, gname, group, region),
            taints=node_taints(group),
            gpus=group.gpu_count,
        )
        if group.is_existing:
            allocated = addressing.allocate_host_addresses(
                mesh, ranges[gname], [h.name for h in group.hosts if h.mesh_ip is None],
                reserved=reserved, history=spec.mesh_history)
            for ordinal, host in enumerate(group.hosts, start=1):
                # A host left out has no free address: its first choice
                # collides, which check_names_and_addresses reports.
                ip = host.mesh_ip or allocated.get(host.name) or addressing.host_address(mesh, ranges[gname], host.name)
                nodes.append(PlannedNode(name=host.name, ordinal=ordinal, mesh_ip=ip, host=host, **common))
        else:
            for ordinal in range(1, group.size + 1):
                ip = addressing.ordinal_address(mesh, ranges[gname], ordinal)
                nodes.append(PlannedNode(name=f"{gname}-{ordinal}", ordinal=ordinal, mesh_ip=ip, **common))
    return nodes
