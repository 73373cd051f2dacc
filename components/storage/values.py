"""Values of the rook-ceph (operator) and rook-ceph-cluster charts, and the
Ceph objects the cluster chart renders from them.

The cluster chart's defaults would build a cluster nobody asked for: every
device of every node (``useAllDevices``), 4 Gi OSDs, two managers, a
filesystem with 4 Gi metadata servers and an erasure-coded object store.
So the project sets every key it relies on: ``storage`` (listed nodes and
their by-id devices, never all devices), every ``resources`` entry (the
profile's requests and memory limits) and the three lists
(lists replace in Helm's merge: an empty list means none). The spec's
escape hatches (``storage.rookCeph.values`` / ``operatorValues``) are
merged last.
"""

from __future__ import annotations

from typing import Any

from components.platform.chart_values import RookClusterValues, RookOperatorValues, typed
from components.platform.charts import CHARTS
from components.platform.profiles import ceph_resources, replicas, requests
from components.platform.values import deep_merge
from components.topology.plan import node_taints

from .layout import MON_LABEL, OSD_LABEL, ZONE_LABEL, CephLayout, STRETCH_PER_ZONE

NAMESPACE = CHARTS["rook-ceph"].namespace
OPERATOR = "rook-ceph"
CLUSTER = "rook-ceph-cluster"
# The CephCluster is named after the release namespace (chart ``clusterName`` default).
CLUSTER_NAME = NAMESPACE
RBD_PROVISIONER = f"{NAMESPACE}.rbd.csi.ceph.com"
CEPHFS_PROVISIONER = f"{NAMESPACE}.cephfs.csi.ceph.com"
BUCKET_PROVISIONER = f"{NAMESPACE}.ceph.rook.io/bucket"
FS_NAME = "replicated-fs"
FS_DATA_POOL = "data0"
OBJECT_STORE = "replicated-objects"
DAEMONS = ("mon", "mgr", "mgr-sidecar", "osd", "prepareosd", "crashcollector", "logcollector", "cleanup", "exporter")
CONTROL_PLANE_TAINT = {"key": "node-role.kubernetes.io/control-plane", "value": "", "effect": "NoSchedule"}


def _csi_secrets(kind: str) -> dict[str, str]:
    """The CSI secrets Rook creates, named in every StorageClass of the driver."""
    return {
        "csi.storage.k8s.io/provisioner-secret-name": f"rook-csi-{kind}-provisioner",
        "csi.storage.k8s.io/provisioner-secret-namespace": NAMESPACE,
        "csi.storage.k8s.io/controller-expand-secret-name": f"rook-csi-{kind}-provisioner",
        "csi.storage.k8s.io/controller-expand-secret-namespace": NAMESPACE,
        "csi.storage.k8s.io/node-stage-secret-name": f"rook-csi-{kind}-node",
        "csi.storage.k8s.io/node-stage-secret-namespace": NAMESPACE,
    }


def mgr_count(profile: str, layout: CephLayout) -> int:
    """One manager on small nodes (a standby costs its memory for nothing), else two where they fit."""
    return 1 if profile == "small" or len(layout.mon_nodes) < 2 else 2


def tolerations(spec) -> list[dict[str, str]]:
    """Ceph pods tolerate the taints of the groups they are placed on."""
    rook = spec.storage.rook_ceph
    seen: dict[tuple, dict] = {}
    for name in {*rook.storage_groups, *rook.monitor_groups}:
        group = spec.node_groups[name]
        taints = list(node_taints(group))
        if "control-plane" in group.roles and "worker" not in group.roles:
            taints.append(CONTROL_PLANE_TAINT)
        for t in taints:
            seen[(t["key"], t.get("value", ""), t["effect"])] = t
    out = []
    for t in seen.values():
        tol = {"key": t["key"], "effect": t["effect"]}
        tol |= {"operator": "Equal", "value": t["value"]} if t.get("value") else {"operator": "Exists"}
        out.append(tol)
    return sorted(out, key=lambda t: (t["key"], t["effect"]))


def _on(label: str) -> dict[str, Any]:
    return {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
        {"matchExpressions": [{"key": label, "operator": "In", "values": ["true"]}]}]}}}


def pool_spec(layout: CephLayout) -> dict[str, Any]:
    replicated: dict[str, Any] = {"size": layout.size}
    if layout.stretch is not None:
        # 2 copies in each data zone, on distinct hosts.
        replicated |= {"replicasPerFailureDomain": STRETCH_PER_ZONE, "subFailureDomain": "host"}
    return {"failureDomain": layout.failure_domain, "replicated": replicated}


def storage_nodes(layout: CephLayout) -> list[dict[str, Any]]:
    out = []
    for n in layout.osd_nodes:
        entry: dict[str, Any] = {"name": n.name}
        if n.devices:
            entry["devices"] = [{"name": d} for d in n.devices]
        else:
            entry["deviceFilter"] = n.device_filter
        out.append(entry)
    return out


def cluster_spec(spec, layout: CephLayout, profile: str) -> dict[str, Any]:
    rook = spec.storage.rook_ceph
    small = profile == "small"
    mon: dict[str, Any] = {"count": layout.mon_count, "allowMultiplePerNode": False}
    if layout.stretch is not None:
        s = layout.stretch
        mon["stretchCluster"] = {"failureDomainLabel": ZONE_LABEL, "subFailureDomain": "host", "zones": [
            {"name": s.arbiter_zone, "arbiter": True}, {"name": s.data_zones[0]}, {"name": s.data_zones[1]}]}
    placement: dict[str, Any] = {"mon": _on(MON_LABEL), "mgr": _on(MON_LABEL), "osd": _on(OSD_LABEL),
                                 "prepareosd": _on(OSD_LABEL)}
    tols = tolerations(spec)
    if tols:
        placement["all"] = {"tolerations": tols}
    return {
        "mon": mon,
        "mgr": {"count": mgr_count(profile, layout), "allowMultiplePerNode": False,
                "modules": [{"name": "pg_autoscaler", "enabled": True}]},
        "dashboard": {"enabled": rook.dashboard, "ssl": True},
        # Small nodes: no crash collector or log collector pods beside every daemon.
        "crashCollector": {"disable": small},
        "logCollector": {"enabled": not small},
        "resources": {d: ceph_resources(profile, d) for d in DAEMONS},
        "placement": placement,
        "storage": {"useAllNodes": False, "useAllDevices": False, "nodes": storage_nodes(layout)},
    }


def block_pool(spec, layout: CephLayout) -> dict[str, Any]:
    rook = spec.storage.rook_ceph
    return {"name": rook.class_name, "spec": pool_spec(layout), "storageClass": {
        "enabled": True, "name": rook.class_name, "isDefault": spec.storage.default, "reclaimPolicy": "Delete",
        "allowVolumeExpansion": True, "volumeBindingMode": "Immediate",
        "parameters": {"imageFormat": "2", "imageFeatures": "layering", **_csi_secrets("rbd"),
                       # ext4: xfs can deadlock where a volume is mounted beside its OSDs.
                       "csi.storage.k8s.io/fstype": "ext4"}}}


def filesystem(spec, layout: CephLayout, profile: str) -> dict[str, Any]:
    rook = spec.storage.rook_ceph
    pool = pool_spec(layout)
    return {"name": FS_NAME, "spec": {
        "metadataPool": pool,
        "dataPools": [{"name": FS_DATA_POOL, **pool}],
        "preserveFilesystemOnDelete": True,
        "metadataServer": {"activeCount": 1, "activeStandby": profile != "small",
                           "resources": ceph_resources(profile, "mds")},
    }, "storageClass": {"enabled": True, "name": rook.filesystem.class_name, "isDefault": False,
                        "pool": FS_DATA_POOL, "reclaimPolicy": "Delete", "allowVolumeExpansion": True,
                        "parameters": _csi_secrets("cephfs")}}


def object_store(spec, layout: CephLayout, profile: str) -> dict[str, Any]:
    rook = spec.storage.rook_ceph
    pool = pool_spec(layout)
    return {"name": OBJECT_STORE, "spec": {
        # Replicated like everything else (erasure coding needs k+m failure domains).
        "metadataPool": pool, "dataPool": pool, "preservePoolsOnDelete": True,
        "gateway": {"port": 80, "instances": 1, "resources": ceph_resources(profile, "rgw")},
    }, "storageClass": {"enabled": True, "name": rook.object_store.class_name, "reclaimPolicy": "Delete",
                        "parameters": {"region": spec.name}}}


def cluster_values(spec, layout: CephLayout, *, profile: str, monitoring: bool) -> dict[str, Any]:
    rook = spec.storage.rook_ceph
    out = {
        "operatorNamespace": NAMESPACE,
        "toolbox": {"enabled": False},
        # The mgr's ServiceMonitor and the chart's Ceph alert rules (HEALTH_WARN/ERR,
        # OSD down, near-full...), picked up by kube-prometheus-stack.
        "monitoring": {"enabled": monitoring, "createPrometheusRules": monitoring},
        "cephClusterSpec": cluster_spec(spec, layout, profile),
        "cephBlockPools": [block_pool(spec, layout)],
        "cephFileSystems": [filesystem(spec, layout, profile)] if rook.filesystem.enabled else [],
        "cephObjectStores": [object_store(spec, layout, profile)] if rook.object_store.enabled else [],
    }
    return deep_merge(typed(RookClusterValues, out), rook.values)


def csi_provisioners(profile: str) -> int:
    return replicas(profile, 2)


def operator_values(spec, *, profile: str, monitoring: bool, priority: str | None) -> dict[str, Any]:
    rook = spec.storage.rook_ceph
    csi: dict[str, Any] = {
        "enableRbdDriver": True,
        "enableCephfsDriver": rook.filesystem.enabled,
        "provisionerReplicas": csi_provisioners(profile),
        "serviceMonitor": {"enabled": monitoring},
    }
    out: dict[str, Any] = {
        "crds": {"enabled": True},
        "resources": requests(profile, "rook-operator"),
        "monitoring": {"enabled": monitoring},
        # The discovery DaemonSet only serves useAllDevices-style discovery; devices are listed here.
        "enableDiscoveryDaemon": False,
        "csi": csi,
    }
    if priority:
        out["priorityClassName"] = priority
    return deep_merge(typed(RookOperatorValues, out), rook.operator_values)


# -- what the cluster chart renders -------------------------------------------

def ceph_objects(values: dict[str, Any]) -> list[dict[str, Any]]:
    """The CephCluster, pools, filesystems, object stores and their
    StorageClasses as rook-ceph-cluster's templates write them from
    ``values`` (for schema validation and inspection)."""
    def obj(api: str, kind: str, name: str, spec: dict, namespaced: bool = True) -> dict:
        meta = {"name": name, "namespace": NAMESPACE} if namespaced else {"name": name}
        return {"apiVersion": api, "kind": kind, "metadata": meta, "spec": spec}

    values = _without_nulls(values)
    cluster_spec_ = dict(values["cephClusterSpec"])
    cluster_spec_["monitoring"] = {"enabled": bool(values.get("monitoring", {}).get("enabled"))}
    out = [obj("ceph.rook.io/v1", "CephCluster", CLUSTER_NAME, cluster_spec_)]
    for pool in values.get("cephBlockPools") or []:
        out.append(obj("ceph.rook.io/v1", "CephBlockPool", pool["name"], pool["spec"]))
        if pool["storageClass"].get("enabled"):
            out.append(_storage_class(pool["storageClass"], RBD_PROVISIONER,
                                      {"clusterID": NAMESPACE, "pool": pool["name"]}))
    for fs in values.get("cephFileSystems") or []:
        out.append(obj("ceph.rook.io/v1", "CephFilesystem", fs["name"], fs["spec"]))
        if fs["storageClass"].get("enabled"):
            out.append(_storage_class(fs["storageClass"], CEPHFS_PROVISIONER, {
                "clusterID": NAMESPACE, "fsName": fs["name"],
                "pool": f"{fs['name']}-{fs['storageClass'].get('pool', FS_DATA_POOL)}"}))
    for store in values.get("cephObjectStores") or []:
        out.append(obj("ceph.rook.io/v1", "CephObjectStore", store["name"], store["spec"]))
        if store["storageClass"].get("enabled"):
            out.append(_storage_class(store["storageClass"], BUCKET_PROVISIONER, {
                "objectStoreName": store["name"], "objectStoreNamespace": NAMESPACE}))
    return out


def _without_nulls(value):
    """Helm's merge: a null deletes the key (the chart default it overrides)."""
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value


def _storage_class(sc: dict[str, Any], provisioner: str, fixed: dict[str, str]) -> dict[str, Any]:
    annotations = {"storageclass.kubernetes.io/is-default-class": "true"} if sc.get("isDefault") else {}
    out: dict[str, Any] = {
        "apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
        "metadata": {"name": sc["name"], **({"annotations": annotations} if annotations else {})},
        "provisioner": provisioner,
        "parameters": {**fixed, **sc.get("parameters", {})},
        "reclaimPolicy": sc.get("reclaimPolicy", "Delete"),
    }
    if "allowVolumeExpansion" in sc:
        out["allowVolumeExpansion"] = sc["allowVolumeExpansion"]
    if "volumeBindingMode" in sc:
        out["volumeBindingMode"] = sc["volumeBindingMode"]
    return out
