"""Memory of the Ceph daemons on their nodes (seed 001: 4 GB machines).

Rook passes an OSD's memory limit to Ceph, which sets osd_memory_target to
0.8 x the limit (``osd_memory_target_cgroup_limit_ratio``); below Ceph's
896 MiB floor the OSD thrashes its caches. The checks here run on the final
chart values (escape hatch included), so neither a user override nor the
chart's own 4 Gi OSD default can land on a node that cannot hold it.
"""

from __future__ import annotations

from collections.abc import Iterable

from components.spec.errors import SpecIssue
from components.spec.storage import ROOK

OSD_MEMORY_TARGET_FLOOR_MIB = 896
CGROUP_LIMIT_RATIO = 0.8


def osd_memory_target_mib(osd_resources: dict) -> float | None:
    """What Ceph will target for an OSD with these resources (None: no limit,
    Ceph's own 4 GiB default target applies)."""
    from components.platform.values import memory_mib

    limit = ((osd_resources or {}).get("limits") or {}).get("memory")
    return memory_mib(limit) * CGROUP_LIMIT_RATIO if limit else None


def _daemon_mib(resources: dict, daemon: str) -> float:
    """Memory a daemon may hold: its limit, else its request."""
    from components.platform.values import memory_mib

    r = resources.get(daemon) or {}
    return memory_mib(((r.get("limits") or {}).get("memory")) or (r.get("requests") or {}).get("memory"))


def memory_issues(spec, catalog) -> Iterable[SpecIssue]:
    from components.platform.sizing import group_memory_from_catalog, reserved_mib

    from .layout import ceph_layout
    from .values import cluster_values

    layout = ceph_layout(spec)
    values = cluster_values(spec, layout, profile=spec.addons.profile, monitoring=spec.addons.monitoring.enabled)
    resources = values["cephClusterSpec"]["resources"]
    where = f"{ROOK}.values" if "cephClusterSpec" in spec.storage.rook_ceph.values else "addons.profile"
    target = osd_memory_target_mib(resources.get("osd"))
    if target is None:
        yield SpecIssue(where, "the OSDs have no memory limit: Ceph would target 4 GiB per OSD whatever the node holds",
                        "keep the profile's OSD limit (addons.profile small: 1152Mi) or set "
                        "cephClusterSpec.resources.osd.limits.memory")
    elif target < OSD_MEMORY_TARGET_FLOOR_MIB:
        yield SpecIssue(where, f"OSD memory limit gives osd_memory_target {target:.0f} MiB (0.8 x the limit), below "
                        f"Ceph's {OSD_MEMORY_TARGET_FLOOR_MIB} MiB floor",
                        f"set the OSD limit >= {OSD_MEMORY_TARGET_FLOOR_MIB / CGROUP_LIMIT_RATIO:.0f}Mi")
    if catalog is None:
        return
    memory = group_memory_from_catalog(spec, catalog)
    allocatable = {g: m - reserved_mib(spec) for g, m in memory.items()}
    osd = _daemon_mib(resources, "osd")
    mon_mgr = _daemon_mib(resources, "mon") + _daemon_mib(resources, "mgr")
    mons = {n.name for n in layout.mon_nodes}
    seen: set[str] = set()
    for node in layout.osd_nodes:
        if node.group not in allocatable or node.group in seen:
            continue
        need = node.osds * osd + (mon_mgr if node.name in mons else 0)
        if need > allocatable[node.group]:
            seen.add(node.group)
            extra = " plus a monitor and a manager" if node.name in mons else ""
            yield SpecIssue(
                where,
                f"{node.osds} OSD(s) of {osd:.0f} MiB{extra} need {need:.0f} MiB on {node.name} "
                f"(group {node.group}: {memory[node.group]:.0f} MiB, {allocatable[node.group]:.0f} MiB after the "
                "kubelet reservations)",
                "use addons.profile: small on nodes of 4-8 GB (OSDs of 1152Mi), fewer devices per node, "
                "monitors on other nodes (storage.rookCeph.monGroups) or a larger instance type")
