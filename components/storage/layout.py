"""Where Ceph runs, read from the topology: OSD and monitor nodes, the CRUSH
failure domain, stretch mode, and the layouts that cannot hold the replicas.

Nodes carry ``topology.kubernetes.io/region`` (their region) and
``topology.kubernetes.io/zone`` (the user's label, else the region: our
regions are datacenters; see components/cluster/common/labels.py). Rook
builds the CRUSH map from the same labels, so the failure domain chosen
here is the one Ceph enforces:

- OSDs in one zone: ``host`` (replicas on distinct machines);
- three or more zones: ``zone`` (a datacenter may go);
- exactly two data zones and a monitor node in a third zone (the arbiter):
  Ceph stretch mode - 5 monitors (2 per data zone, 1 arbiter), pools of
  size 4 with 2 replicas per zone, data zones at most 10 ms RTT apart;
- ``failureDomain`` may force host, zone or region.

Pure (no Pulumi): spec validation reads it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from components.spec.errors import SpecIssue
from components.spec.storage import BY_ID, ROOK, STRETCH_MAX_RTT_MS
from components.topology.plan import PlannedNode, plan_nodes

ZONE_LABEL = "topology.kubernetes.io/zone"
REGION_LABEL = "topology.kubernetes.io/region"
OSD_LABEL = "sovereign.cloud/ceph-osd"
MON_LABEL = "sovereign.cloud/ceph-mon"
STRETCH_SIZE = 4
STRETCH_PER_ZONE = 2
STRETCH_MONS = 5
KUBELET_ROLES = ("control-plane", "worker")


@dataclass(frozen=True)
class CephNode:
    name: str
    group: str
    region: str
    zone: str
    devices: tuple[str, ...] = ()
    device_filter: str | None = None
    osds: int = 0
    usb_as_scsi: bool = False


@dataclass(frozen=True)
class Stretch:
    data_zones: tuple[str, str]
    arbiter_zone: str


@dataclass(frozen=True)
class CephLayout:
    osd_nodes: tuple[CephNode, ...]
    mon_nodes: tuple[CephNode, ...]
    failure_domain: str
    """CRUSH bucket type the pools replicate across: host, zone or region."""
    size: int
    """Replicas of every pool."""
    mon_count: int
    stretch: Stretch | None = None

    @property
    def zones(self) -> list[str]:
        return sorted({n.zone for n in self.osd_nodes})

    @property
    def osds(self) -> int:
        return sum(n.osds for n in self.osd_nodes)

    def osds_on(self, node: str) -> int:
        return next((n.osds for n in self.osd_nodes if n.name == node), 0)


def _zone(node: PlannedNode) -> str:
    return node.labels.get(ZONE_LABEL) or node.region


def _region(node: PlannedNode) -> str:
    return node.labels.get(REGION_LABEL) or node.region


def _osd_node(node: PlannedNode, group) -> CephNode:
    devices = tuple(group.node_devices.get(node.name, group.devices))
    osds = len(devices) if devices else (group.osds_per_node if group.device_filter else 0)
    return CephNode(node.name, node.group, _region(node), _zone(node), devices,
                    group.device_filter if not devices else None, osds, group.usb_as_scsi)


def ceph_layout(spec, nodes: Iterable[PlannedNode] | None = None) -> CephLayout:
    """The layout of ``spec.storage.rookCeph`` over the planned nodes."""
    rook = spec.storage.rook_ceph
    nodes = list(nodes if nodes is not None else plan_nodes(spec))
    osd_nodes = tuple(_osd_node(n, rook.storage_groups[n.group]) for n in nodes if n.group in rook.storage_groups)
    mon_groups = set(rook.monitor_groups)
    mon_nodes = tuple(CephNode(n.name, n.group, _region(n), _zone(n)) for n in nodes if n.group in mon_groups)
    data_zones = sorted({n.zone for n in osd_nodes})
    stretch = None
    if rook.failure_domain in ("auto", "zone") and len(data_zones) == 2:
        arbiters = sorted({n.zone for n in mon_nodes} - set(data_zones))
        if arbiters:
            stretch = Stretch((data_zones[0], data_zones[1]), arbiters[0])
    if stretch is not None:
        return CephLayout(osd_nodes, mon_nodes, "zone", STRETCH_SIZE, STRETCH_MONS, stretch)
    if rook.failure_domain == "auto":
        domain = "host" if len(data_zones) <= 1 else "zone"
    else:
        domain = rook.failure_domain
    mons = 3 if len(mon_nodes) >= 3 else 1
    return CephLayout(osd_nodes, mon_nodes, domain, rook.replicas, mons)


def placement_labels(spec, group: str) -> dict[str, str]:
    """Labels the topology adds to a group's nodes for Ceph placement."""
    storage = spec.storage
    if storage is None or storage.storage_class != "rook-ceph" or storage.rook_ceph is None:
        return {}
    # A salvaged spec (another part failed validation) may hold None here.
    labels = {}
    if group in (storage.rook_ceph.storage_groups or {}):
        labels[OSD_LABEL] = "true"
    if group in (storage.rook_ceph.monitor_groups or ()):
        labels[MON_LABEL] = "true"
    return labels


# -- validation ----------------------------------------------------------------

def layout_issues(spec) -> Iterable[SpecIssue]:
    """Every reason the layout cannot work, each naming its field and fix."""
    rook = spec.storage.rook_ceph
    bad = list(_group_issues(spec))
    yield from bad
    if bad:
        return
    layout = ceph_layout(spec)
    yield from _device_issues(spec, layout)
    yield from _replica_issues(spec, layout)
    if layout.stretch is not None:
        yield from _stretch_issues(spec, layout)
    elif rook.replicas > 1 and layout.mon_count == 1 and len(layout.mon_nodes) == 2:
        yield SpecIssue(f"{ROOK}.monGroups", "2 monitor nodes: Ceph runs 1 monitor (2 would lose quorum with either node)",
                        "give monGroups 3 nodes (in 3 zones across regions) for monitors that survive a node")


def _group_issues(spec) -> Iterable[SpecIssue]:
    rook = spec.storage.rook_ceph
    groups = spec.node_groups
    for field, names in (("groups", list(rook.storage_groups)), ("monGroups", rook.monitor_groups)):
        for name in names:
            path = f"{ROOK}.{field}" + (f".{name}" if field == "groups" else "")
            group = groups.get(name)
            if group is None:
                yield SpecIssue(path, f"node group {name!r} does not exist",
                                f"use one of: {', '.join(sorted(groups))}")
            elif not set(group.roles) & set(KUBELET_ROLES):
                yield SpecIssue(path, f"node group {name!r} runs no kubelet (roles {group.roles}): Ceph pods cannot run there",
                                "give the group the worker role, or choose another group")
            elif group.size == 0:
                yield SpecIssue(path, f"node group {name!r} has no node", "give it count >= 1 (or hosts)")


def _device_issues(spec, layout: CephLayout) -> Iterable[SpecIssue]:
    rook = spec.storage.rook_ceph
    names = {n.name for n in layout.osd_nodes}
    for gname, group in rook.storage_groups.items():
        for node in group.node_devices:
            if node not in names or next(n for n in layout.osd_nodes if n.name == node).group != gname:
                members = sorted(n.name for n in layout.osd_nodes if n.group == gname)
                yield SpecIssue(f"{ROOK}.groups.{gname}.nodeDevices.{node}", f"{node!r} is not a node of group {gname!r}",
                                f"use its node names: {', '.join(members)}")
    for node in layout.osd_nodes:
        if node.osds == 0:
            yield SpecIssue(f"{ROOK}.groups.{node.group}.nodeDevices", f"node {node.name} has no device",
                            f"list its {BY_ID}... paths under nodeDevices.{node.name}, or set devices for the whole group")


def _replica_issues(spec, layout: CephLayout) -> Iterable[SpecIssue]:
    rook = spec.storage.rook_ceph
    if layout.stretch is not None:
        if rook.replicas not in (3, STRETCH_SIZE):
            yield SpecIssue(f"{ROOK}.replicas", f"{rook.replicas} replicas: a stretch cluster keeps {STRETCH_SIZE} "
                            f"({STRETCH_PER_ZONE} per data zone)", "remove replicas (stretch mode sets 4)")
        return
    hosts = [n for n in layout.osd_nodes if n.osds > 0]
    domains = {"host": {n.name for n in hosts}, "zone": {n.zone for n in hosts},
               "region": {n.region for n in hosts}}[layout.failure_domain]
    if len(domains) >= layout.size:
        return
    zones = sorted({n.zone for n in hosts})
    where = f"{len(domains)} {layout.failure_domain}(s) with OSDs ({', '.join(sorted(domains))})"
    if layout.failure_domain == "zone" and len(zones) == 2:
        fix = ("add a monitor node in a third zone (storage.rookCeph.monGroups: a small group in another region) "
               "for a stretch cluster across the two data zones, or OSD nodes in a third zone, "
               "or failureDomain: host (no zone-loss protection)")
    elif layout.failure_domain == "host":
        fix = f"add OSD nodes to storage.rookCeph.groups (>= {layout.size} hosts) or lower storage.rookCeph.replicas"
    else:
        fix = (f"spread OSD nodes over >= {layout.size} {layout.failure_domain}s, set failureDomain: host, "
               "or lower storage.rookCeph.replicas")
    yield SpecIssue(f"{ROOK}.replicas",
                    f"{layout.size} replicas with failure domain {layout.failure_domain} need {layout.size} distinct "
                    f"{layout.failure_domain}s, the layout has {where}: Ceph could never place every replica "
                    "(placement groups stay undersized)", fix)


def _stretch_issues(spec, layout: CephLayout) -> Iterable[SpecIssue]:
    stretch = layout.stretch
    for zone in stretch.data_zones:
        hosts = {n.name for n in layout.osd_nodes if n.zone == zone and n.osds > 0}
        if len(hosts) < STRETCH_PER_ZONE:
            yield SpecIssue(f"{ROOK}.groups", f"stretch mode keeps {STRETCH_PER_ZONE} replicas in zone {zone} on distinct "
                            f"hosts, but it has {len(hosts)} OSD host(s)",
                            f"give zone {zone} >= {STRETCH_PER_ZONE} OSD nodes")
        mons = [n for n in layout.mon_nodes if n.zone == zone]
        if len(mons) < 2:
            yield SpecIssue(f"{ROOK}.monGroups", f"stretch mode runs 2 monitors in data zone {zone}, which has "
                            f"{len(mons)} monitor node(s)", f"add monitor nodes in zone {zone} (monGroups)")
    regions = {zone: next(n.region for n in layout.osd_nodes if n.zone == zone) for zone in stretch.data_zones}
    a, b = (regions[z] for z in stretch.data_zones)
    if a == b:
        return
    for lat in spec.network.latencies:
        if {lat.from_region, lat.to_region} == {a, b} and lat.ms > STRETCH_MAX_RTT_MS:
            yield SpecIssue(
                f"{ROOK}.groups",
                f"stretch mode across {a} and {b}, {lat.ms:g} ms apart (network.latencies): every write waits for "
                f"both data zones, Ceph's stretch mode wants <= {STRETCH_MAX_RTT_MS:g} ms RTT",
                "put both data zones in sites <= 10 ms apart, or set failureDomain: host and keep OSDs in one region")
