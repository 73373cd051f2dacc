"""The Rook-Ceph add-on as data: its namespace, the operator and cluster
releases, and every Ceph pod for the per-node memory table.

Order: the namespace waits for the CNI (as every add-on) and, with
monitoring, for kube-prometheus-stack (the cluster chart writes a
ServiceMonitor and PrometheusRules); the cluster release waits for the
operator (its CRDs). Claims of the block class wait for the cluster
release (``components.platform.addons.storage.volume_after``). The
``RookCeph`` component creates these items (and the udev rule of USB-stick
nodes before the cluster release).
"""

from __future__ import annotations

from components.platform.charts import CHARTS
from components.platform.model import AddonPlan, PlatformContext, Release, Workload
from components.platform.objects import namespace
from components.platform.profiles import requests

from .layout import ceph_layout
from .values import CLUSTER, OPERATOR, cluster_values, csi_provisioners, mgr_count, operator_values

NAME = "rook-ceph"
RESOURCES = ("cephClusterSpec", "resources")


def enabled(spec) -> bool:
    return spec.storage.storage_class == "rook-ceph" and spec.storage.rook_ceph is not None


def _planned(ctx: PlatformContext):
    """The topology's planned nodes of the context's kubelet nodes."""
    from components.topology.plan import plan_nodes

    names = {n.name for n in ctx.nodes}
    return [p for p in plan_nodes(ctx.spec) if p.name in names]


def usb_nodes(spec) -> list[str]:
    """Nodes of the storage groups with ``usbAsScsi`` (the udev rule)."""
    if not enabled(spec):
        return []
    return [n.name for n in ceph_layout(spec).osd_nodes if n.usb_as_scsi]


def plan(ctx: PlatformContext) -> AddonPlan:
    spec = ctx.spec
    rook = spec.storage.rook_ceph
    layout = ceph_layout(spec, _planned(ctx))
    monitoring = ctx.addons.monitoring.enabled
    # OSDs are privileged pods with the host's /dev.
    ns = namespace(CHARTS[OPERATOR].namespace, labels={"pod-security.kubernetes.io/enforce": "privileged"})
    ns.after.extend(["kube-prometheus-stack"] if monitoring else [])
    operator = Release(OPERATOR, CHARTS[OPERATOR],
                       operator_values(spec, profile=ctx.profile, monitoring=monitoring,
                                       priority=ctx.priority(critical=True)),
                       after=[ns.key])
    cluster = Release(CLUSTER, CHARTS[CLUSTER],
                      cluster_values(spec, layout, profile=ctx.profile, monitoring=monitoring),
                      after=[ns.key, OPERATOR])
    return AddonPlan(NAME, releases=[operator, cluster], manifests=[ns], workloads=workloads(ctx, layout, cluster))


def workloads(ctx: PlatformContext, layout, cluster: Release) -> list[Workload]:
    rook = ctx.spec.storage.rook_ceph
    values = cluster.values["cephClusterSpec"]
    mon_groups = tuple(rook.monitor_groups)
    osd_groups = tuple(rook.storage_groups)
    ceph_nodes = tuple(sorted({n.name for n in (*layout.osd_nodes, *layout.mon_nodes)}))
    mgrs = values["mgr"]["count"] if "count" in values.get("mgr", {}) else mgr_count(ctx.profile, layout)
    out = [
        Workload(OPERATOR, "rook-ceph-operator", "Deployment", ("resources",)),
        # CSI pods (ceph-csi-operator): their requests are the chart's; the
        # profile's figure stands for their steady state.
        Workload(OPERATOR, "csi-rbdplugin", "DaemonSet", (), placement="workers",
                 requests=requests(ctx.profile, "csi-rbd-nodeplugin")["requests"]),
        Workload(OPERATOR, "csi-rbdplugin-provisioner", "Deployment", (), replicas=csi_provisioners(ctx.profile),
                 requests=requests(ctx.profile, "csi-rbd-provisioner")["requests"]),
        Workload(CLUSTER, "ceph-mon", "Deployment", (*RESOURCES, "mon"), replicas=values["mon"]["count"],
                 placement="all", groups=mon_groups),
        Workload(CLUSTER, "ceph-mgr", "Deployment", (*RESOURCES, "mgr"), replicas=mgrs, placement="all",
                 groups=mon_groups),
        Workload(CLUSTER, "ceph-mgr-sidecar", "Deployment", (*RESOURCES, "mgr-sidecar"), replicas=mgrs,
                 placement="all", groups=mon_groups),
        # ceph-exporter: one per node running Ceph daemons.
        Workload(CLUSTER, "ceph-exporter", "DaemonSet", (*RESOURCES, "exporter"), placement="all", nodes=ceph_nodes),
    ]
    # One OSD pod per device: slot k counts on the nodes holding more than k OSDs.
    for k in range(max((n.osds for n in layout.osd_nodes), default=0)):
        holders = tuple(n.name for n in layout.osd_nodes if n.osds > k)
        out.append(Workload(CLUSTER, "ceph-osd", "DaemonSet", (*RESOURCES, "osd"), placement="all",
                            groups=osd_groups, nodes=holders))
    if not values.get("crashCollector", {}).get("disable", False):
        out.append(Workload(CLUSTER, "ceph-crashcollector", "DaemonSet", (*RESOURCES, "crashcollector"),
                            placement="all", nodes=ceph_nodes))
    if rook.filesystem.enabled:
        fs = cluster.values["cephFileSystems"][0]["spec"]["metadataServer"]
        out += [
            Workload(OPERATOR, "csi-cephfsplugin", "DaemonSet", (), placement="workers",
                     requests=requests(ctx.profile, "csi-cephfs-nodeplugin")["requests"]),
            Workload(OPERATOR, "csi-cephfsplugin-provisioner", "Deployment", (),
                     replicas=csi_provisioners(ctx.profile),
                     requests=requests(ctx.profile, "csi-cephfs-provisioner")["requests"]),
            Workload(CLUSTER, "ceph-mds", "Deployment", ("cephFileSystems", 0, "spec", "metadataServer", "resources"),
                     replicas=fs["activeCount"] * (2 if fs.get("activeStandby") else 1)),
        ]
    if rook.object_store.enabled:
        out.append(Workload(CLUSTER, "ceph-rgw", "Deployment",
                            ("cephObjectStores", 0, "spec", "gateway", "resources"),
                            replicas=cluster.values["cephObjectStores"][0]["spec"]["gateway"]["instances"]))
    return out
