"""Resource profiles: the requests the project sets on every pod it installs.

``small`` is for 4 GB nodes (seed 001: old ThinkCentres with K3s): every
summed request on a node must leave at least 1 GB for workloads after the
kubelet reservations - the sum counting every container the project causes
(sidecars, FRR, Keycloak's PostgreSQL, the distribution's CoreDNS and
metrics-server, see ``sizing.py``), which is why its figures are trimmed
to near the idle footprint of each component. ``standard`` follows the charts' usual sizing.
Requests only (no CPU limits; memory limits are left to the charts), since
the scheduler places pods on requests.
"""

from __future__ import annotations

from .values import Resources

# workload id -> (cpu, memory) requests.
PROFILES: dict[str, dict[str, tuple[str, str]]] = {
    "small": {
        "cilium-agent": ("50m", "160Mi"),
        "cilium-operator": ("25m", "64Mi"),
        "hubble-relay": ("10m", "32Mi"),
        "tigera-operator": ("25m", "64Mi"),
        "calico-node": ("100m", "128Mi"),
        "calico-typha": ("25m", "64Mi"),
        "calico-kube-controllers": ("10m", "48Mi"),
        "calico-apiserver": ("10m", "48Mi"),
        "cert-manager": ("10m", "24Mi"),
        "ingress-nginx": ("50m", "80Mi"),
        "metallb-controller": ("10m", "24Mi"),
        "metallb-speaker": ("10m", "40Mi"),
        "metallb-frr": ("10m", "24Mi"),
        "metallb-frr-reloader": ("5m", "8Mi"),
        "metallb-frr-metrics": ("5m", "12Mi"),
        "prometheus": ("100m", "256Mi"),
        "prometheus-operator": ("20m", "40Mi"),
        "prometheus-config-reloader": ("5m", "12Mi"),
        "alertmanager": ("10m", "24Mi"),
        "grafana": ("25m", "64Mi"),
        "grafana-sidecar": ("5m", "24Mi"),
        "node-exporter": ("10m", "16Mi"),
        "kube-state-metrics": ("10m", "32Mi"),
        "goldpinger": ("5m", "16Mi"),
        "wireguard-exporter": ("5m", "12Mi"),
        "argocd-controller": ("100m", "256Mi"),
        "argocd-repo-server": ("25m", "96Mi"),
        "argocd-server": ("25m", "64Mi"),
        "argocd-redis": ("10m", "32Mi"),
        "argocd-applicationset": ("10m", "32Mi"),
        "flux-controller": ("25m", "64Mi"),
        "vault": ("50m", "128Mi"),
        "vault-injector": ("10m", "32Mi"),
        "keycloak": ("100m", "448Mi"),
        "cnpg-operator": ("10m", "32Mi"),
        "keycloak-postgres": ("25m", "64Mi"),
        # dataServices (components/data/): each region's PostgreSQL, Elasticsearch, ECK.
        "geo-postgres": ("25m", "128Mi"),
        "elasticsearch": ("100m", "1Gi"),
        "eck-operator": ("10m", "64Mi"),
        # PostgreSQL backups: the Barman Cloud plugin and its sidecar in every instance pod.
        "barman-cloud-plugin": ("10m", "32Mi"),
        "barman-cloud-sidecar": ("10m", "32Mi"),
        # objectStore engine minio: each tenant server, the operator, the site-replication Job.
        "minio": ("100m", "256Mi"),
        "minio-operator": ("10m", "64Mi"),
        "minio-replication": ("10m", "32Mi"),
        "local-path-provisioner": ("5m", "16Mi"),
        "nvidia-device-plugin": ("10m", "32Mi"),
        "gpu-operator": ("50m", "128Mi"),
        "rook-operator": ("50m", "96Mi"),
        "csi-rbd-nodeplugin": ("20m", "64Mi"),
        "csi-rbd-provisioner": ("20m", "96Mi"),
        "csi-cephfs-nodeplugin": ("20m", "64Mi"),
        "csi-cephfs-provisioner": ("20m", "96Mi"),
        # fleet (components/fleet/): OCM's operators, hub controllers and agent; Submariner's operator.
        "ocm-operator": ("5m", "24Mi"),
        "ocm-hub-controller": ("10m", "48Mi"),
        "ocm-klusterlet-agent": ("10m", "48Mi"),
        "submariner-operator": ("10m", "48Mi"),
    },
    "standard": {
        "cilium-agent": ("100m", "384Mi"),
        "cilium-operator": ("50m", "128Mi"),
        "hubble-relay": ("50m", "64Mi"),
        "tigera-operator": ("50m", "128Mi"),
        "calico-node": ("250m", "256Mi"),
        "calico-typha": ("100m", "128Mi"),
        "calico-kube-controllers": ("50m", "64Mi"),
        "calico-apiserver": ("50m", "64Mi"),
        "cert-manager": ("25m", "64Mi"),
        "ingress-nginx": ("100m", "128Mi"),
        "metallb-controller": ("25m", "64Mi"),
        "metallb-speaker": ("25m", "64Mi"),
        "metallb-frr": ("25m", "64Mi"),
        "metallb-frr-reloader": ("10m", "16Mi"),
        "metallb-frr-metrics": ("10m", "32Mi"),
        "prometheus": ("250m", "1Gi"),
        "prometheus-operator": ("50m", "128Mi"),
        "prometheus-config-reloader": ("10m", "32Mi"),
        "alertmanager": ("25m", "64Mi"),
        "grafana": ("100m", "256Mi"),
        "grafana-sidecar": ("10m", "64Mi"),
        "node-exporter": ("25m", "32Mi"),
        "kube-state-metrics": ("25m", "64Mi"),
        "goldpinger": ("10m", "32Mi"),
        "wireguard-exporter": ("10m", "32Mi"),
        "argocd-controller": ("250m", "512Mi"),
        "argocd-repo-server": ("100m", "256Mi"),
        "argocd-server": ("50m", "128Mi"),
        "argocd-redis": ("50m", "64Mi"),
        "argocd-applicationset": ("25m", "64Mi"),
        "flux-controller": ("50m", "128Mi"),
        "vault": ("250m", "256Mi"),
        "vault-injector": ("25m", "64Mi"),
        "keycloak": ("500m", "1Gi"),
        "cnpg-operator": ("50m", "128Mi"),
        "keycloak-postgres": ("100m", "256Mi"),
        "geo-postgres": ("250m", "512Mi"),
        "elasticsearch": ("500m", "2Gi"),
        "eck-operator": ("50m", "150Mi"),
        "barman-cloud-plugin": ("50m", "64Mi"),
        "barman-cloud-sidecar": ("50m", "64Mi"),
        "minio": ("250m", "1Gi"),
        "minio-operator": ("100m", "128Mi"),
        "minio-replication": ("10m", "32Mi"),
        "local-path-provisioner": ("10m", "32Mi"),
        "nvidia-device-plugin": ("25m", "64Mi"),
        "gpu-operator": ("100m", "256Mi"),
        "rook-operator": ("100m", "128Mi"),
        "csi-rbd-nodeplugin": ("50m", "128Mi"),
        "csi-rbd-provisioner": ("100m", "256Mi"),
        "csi-cephfs-nodeplugin": ("50m", "128Mi"),
        "csi-cephfs-provisioner": ("100m", "256Mi"),
        "ocm-operator": ("10m", "64Mi"),
        "ocm-hub-controller": ("50m", "128Mi"),
        "ocm-klusterlet-agent": ("50m", "128Mi"),
        "submariner-operator": ("50m", "128Mi"),
    },
}

# Ceph daemons (CephCluster ``resources`` keys, CephFilesystem MDS, object
# gateway): (cpu request, memory request, memory limit or None). Memory
# limits matter here: Rook hands the OSD's limit to Ceph, whose
# osd_memory_target becomes 0.8 x the limit (osd_memory_target_cgroup_limit_ratio),
# and Ceph's floor for that target is 896 MiB - hence 1152Mi on small nodes
# (target ~922 MiB), requested in full so the per-node sum is what the OSD
# will really hold. Jobs (prepareosd, cleanup) get no limit: a one-off
# burst must not be OOM-killed. No CPU limits of the project's own.
CEPH: dict[str, dict[str, tuple[str, str, str | None]]] = {
    "small": {
        "mon": ("100m", "512Mi", "512Mi"),
        "mgr": ("100m", "384Mi", "512Mi"),
        "mgr-sidecar": ("10m", "32Mi", "64Mi"),
        "osd": ("250m", "1152Mi", "1152Mi"),
        "prepareosd": ("100m", "50Mi", None),
        "crashcollector": ("10m", "32Mi", "64Mi"),
        "logcollector": ("10m", "32Mi", "128Mi"),
        "cleanup": ("100m", "64Mi", None),
        "exporter": ("10m", "32Mi", "64Mi"),
        "mds": ("100m", "512Mi", "512Mi"),
        "rgw": ("100m", "256Mi", "512Mi"),
    },
    "standard": {
        "mon": ("500m", "1Gi", "2Gi"),
        "mgr": ("250m", "512Mi", "1Gi"),
        "mgr-sidecar": ("50m", "40Mi", "100Mi"),
        "osd": ("500m", "4Gi", "4Gi"),
        "prepareosd": ("250m", "50Mi", None),
        "crashcollector": ("50m", "60Mi", "60Mi"),
        "logcollector": ("50m", "100Mi", "1Gi"),
        "cleanup": ("250m", "100Mi", None),
        "exporter": ("50m", "64Mi", "128Mi"),
        "mds": ("500m", "2Gi", "4Gi"),
        "rgw": ("500m", "1Gi", "2Gi"),
    },
}


def ceph_resources(profile: str, daemon: str) -> dict:
    """A Ceph daemon's ``resources``: requests and a memory limit (none for
    jobs). A chart default's CPU limit stays: Pulumi drops null values from
    a release's values, so Helm never sees a deletion."""
    cpu, memory, limit = CEPH[profile][daemon]
    out: dict = {"requests": {"cpu": cpu, "memory": memory}}
    if limit:
        out["limits"] = {"memory": limit}
    return out


def requests(profile: str, workload: str) -> Resources:
    """The ``resources`` block for a workload under a profile."""
    cpu, memory = PROFILES[profile][workload]
    return {"requests": {"cpu": cpu, "memory": memory}}


def replicas(profile: str, wanted: int) -> int:
    """Replica count of platform Deployments: one on small machines."""
    return 1 if profile == "small" else wanted
