"""Every Helm chart the platform installs, pinned in one table.

Bump a version here (and only here) deliberately: the tests assert these
exact versions reach the Helm releases.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ChartRef:
    chart: str
    repo: str
    version: str
    namespace: str


CHARTS: dict[str, ChartRef] = {
    "cilium": ChartRef("cilium", "https://helm.cilium.io", "1.18.1", "kube-system"),
    "tigera-operator": ChartRef("tigera-operator", "https://docs.tigera.io/calico/charts", "v3.30.3", "tigera-operator"),
    "cert-manager": ChartRef("cert-manager", "https://charts.jetstack.io", "v1.18.2", "cert-manager"),
    "ingress-nginx": ChartRef("ingress-nginx", "https://kubernetes.github.io/ingress-nginx", "4.13.2", "ingress-nginx"),
    "metallb": ChartRef("metallb", "https://metallb.github.io/metallb", "0.15.2", "metallb-system"),
    "kube-prometheus-stack": ChartRef(
        "kube-prometheus-stack", "https://prometheus-community.github.io/helm-charts", "77.5.0", "monitoring"),
    "goldpinger": ChartRef("goldpinger", "https://bloomberg.github.io/goldpinger", "1.0.1", "monitoring"),
    "argo-cd": ChartRef("argo-cd", "https://argoproj.github.io/argo-helm", "8.3.5", "argocd"),
    "flux2": ChartRef("flux2", "https://fluxcd-community.github.io/helm-charts", "2.16.4", "flux-system"),
    "vault": ChartRef("vault", "https://helm.releases.hashicorp.com", "0.30.1", "vault"),
    "keycloakx": ChartRef("keycloakx", "https://codecentric.github.io/helm-charts", "7.1.1", "keycloak"),
    # Keycloak's PostgreSQL: the CloudNativePG operator (0.26.0 = operator
    # 1.27.0, images from ghcr.io/cloudnative-pg) and a ``Cluster`` the
    # project writes. Not the bitnami chart: its images left docker.io/bitnami
    # in August 2025 (bitnamilegacy is frozen, unpatched).
    "cloudnative-pg": ChartRef("cloudnative-pg", "https://cloudnative-pg.github.io/charts", "0.26.0", "cnpg-system"),
    # kubeadm has no StorageClass: rancher's provisioner (chart-releaser index
    # of github.com/rancher/local-path-provisioner, deploy/chart).
    "local-path-provisioner": ChartRef(
        "local-path-provisioner", "https://rancher.github.io/local-path-provisioner", "0.0.33", "local-path-storage"),
    # storage.class rook-ceph (components/storage/): the operator (CRDs, CSI
    # through its ceph-csi-operator subchart) and the cluster chart rendering
    # the CephCluster, pools and StorageClasses. The v1.19 line: v1.20 moved
    # the CSI drivers to a third chart (ceph-csi-drivers); 1.19.9 carries the
    # fix of Ceph CVE-2025-30156.
    "rook-ceph": ChartRef("rook-ceph", "https://charts.rook.io/release", "v1.19.9", "rook-ceph"),
    "rook-ceph-cluster": ChartRef("rook-ceph-cluster", "https://charts.rook.io/release", "v1.19.9", "rook-ceph"),
    # dataServices.search (components/data/): Elastic's operator (ECK 3.3.2,
    # the 3.3 line's patch release; Elastic License 2.0; Elasticsearch itself
    # is AGPL/SSPL/ELv2 since 8.16).
    "eck-operator": ChartRef("eck-operator", "https://helm.elastic.co", "3.3.2", "elastic-system"),
    # dataServices.postgres.backups: the Barman Cloud plugin of CloudNativePG
    # (chart 0.4.0 = plugin v0.10.0; needs CloudNativePG >= 1.26 and cert-manager),
    # in the operator's namespace as the plugin requires.
    "plugin-barman-cloud": ChartRef(
        "plugin-barman-cloud", "https://cloudnative-pg.github.io/charts", "0.4.0", "cnpg-system"),
    # dataServices.objectStore engine minio (explicit choice only): the
    # operator's final chart; the minio/operator repository is archived.
    "minio-operator": ChartRef("operator", "https://operator.min.io", "7.1.1", "minio-operator"),
    "nvidia-device-plugin": ChartRef(
        "nvidia-device-plugin", "https://nvidia.github.io/k8s-device-plugin", "0.17.4", "nvidia-device-plugin"),
    "gpu-operator": ChartRef("gpu-operator", "https://helm.ngc.nvidia.com/nvidia", "v25.3.2", "gpu-operator"),
    # fleet (components/fleet/, docs/fleet.md): Open Cluster Management 1.3.1
    # (hub: cluster-manager; spokes: klusterlet; both operators in one
    # namespace) and Submariner 0.24.1 (a broker per data domain on the hub,
    # whose namespace the release sets; the operator on each spoke, in the
    # namespace its chart's Submariner CR names).
    "cluster-manager": ChartRef(
        "cluster-manager", "https://open-cluster-management.io/helm-charts", "1.3.1", "open-cluster-management"),
    "klusterlet": ChartRef(
        "klusterlet", "https://open-cluster-management.io/helm-charts", "1.3.1", "open-cluster-management"),
    "submariner-k8s-broker": ChartRef(
        "submariner-k8s-broker", "https://submariner-io.github.io/submariner-charts/charts", "0.24.1",
        "submariner-k8s-broker"),
    "submariner-operator": ChartRef(
        "submariner-operator", "https://submariner-io.github.io/submariner-charts/charts", "0.24.1",
        "submariner-operator"),
}
