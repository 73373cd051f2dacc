"""K3s command lines, as pure functions of the spec and the nodes.

The flags are the reviewed, tested artefact; the node receives them as
K3s's own configuration file (/etc/rancher/k3s/config.yaml, one key per
flag name), which keeps them off the process list and out of unit files.
"""

from __future__ import annotations

from dataclasses import dataclass

import yaml

from components.compute.node import Node
from components.mesh.wireguard import INTERFACE
from components.spec import ClusterSpec
from components.spec.kubernetes import EtcdSnapshotSpec, ReservedSpec

from ..common.endpoint import ApiEndpoints
from ..common.labels import is_hyperconverged, label_args, labels_of, taint_arg, taints_of

K3S_BIN = "/usr/local/bin/k3s"
TOKEN_FILE = "/etc/rancher/k3s/cluster-token"
KUBECONFIG = "/etc/rancher/k3s/k3s.yaml"
# Flags that may repeat; in config.yaml they are lists.
REPEATABLE = frozenset({"tls-san", "node-label", "node-taint", "kubelet-arg", "disable", "kube-apiserver-arg", "kube-proxy-arg"})
# CNIs that bring their own data plane and network policy.
OWN_CNI = frozenset({"cilium", "calico"})


def k3s_version(version: str) -> str:
    """``v1.31.4+k3s1`` from either ``1.31.4`` or ``v1.31.4+k3s1``."""
    v = version if version.startswith("v") else f"v{version}"
    return v if "+k3s" in v else f"{v}+k3s1"


@dataclass(frozen=True)
class K3sSettings:
    """What the flags depend on, resolved once from the spec."""

    version: str
    cni: str
    pod_cidr: str
    service_cidr: str
    disable: tuple[str, ...]
    api_dns_name: str | None
    reserved: ReservedSpec
    snapshots: EtcdSnapshotSpec
    kube_proxy: bool = True
    mesh_cidr: str = ""
    endpoints: ApiEndpoints = ApiEndpoints()

    @classmethod
    def from_spec(cls, spec: ClusterSpec) -> K3sSettings:
        disable = []
        # Only these two fields are read: the platform spec is another
        # layer's and may grow.
        if spec.addons.ingress_nginx.enabled:
            disable.append("traefik")
        if spec.addons.metallb.enabled:
            disable.append("servicelb")
        return cls(
            version=k3s_version(spec.version),
            cni=spec.network.cni,
            pod_cidr=str(spec.network.pod_cidr),
            service_cidr=str(spec.network.service_cidr),
            disable=tuple(disable),
            api_dns_name=spec.kubernetes.api_dns_name,
            reserved=spec.kubernetes.reserved,
            snapshots=spec.kubernetes.etcd_snapshots,
            kube_proxy=spec.kubernetes.kube_proxy,
            mesh_cidr=str(spec.network.mesh_cidr),
        )


def _kube_proxy_flags(settings: K3sSettings) -> list[str]:
    """No kube-proxy (the CNI replaces it), or NodePorts on mesh addresses
    only: kube-proxy DNATs them before the firewall's input chain."""
    if not settings.kube_proxy:
        return ["--disable-kube-proxy"]
    return [f"--kube-proxy-arg=nodeport-addresses={settings.mesh_cidr}"]


def _node_flags(node: Node) -> list[str]:
    return [f"--node-name={node.name}", f"--node-ip={node.mesh_ip}"]


def _placement_flags(node: Node) -> list[str]:
    flags = [f"--node-label={item}" for item in label_args(labels_of(node))]
    flags += [f"--node-taint={taint_arg(t)}" for t in taints_of(node)]
    return flags


def _cni_flags(settings: K3sSettings) -> list[str]:
    if settings.cni in OWN_CNI:
        return ["--flannel-backend=none", "--disable-network-policy"]
    return [f"--flannel-iface={INTERFACE}"]


def _reserved_flags(settings: K3sSettings, node: Node) -> list[str]:
    if not is_hyperconverged(node):
        return []
    r = settings.reserved
    return [
        f"--kubelet-arg=kube-reserved={r.kube_reserved}",
        f"--kubelet-arg=system-reserved={r.system_reserved}",
        f"--kubelet-arg=eviction-hard={r.eviction_hard}",
    ]


def _snapshot_flags(settings: K3sSettings) -> list[str]:
    s = settings.snapshots
    if not s.enabled:
        return ["--etcd-disable-snapshots"]
    flags = [f"--etcd-snapshot-schedule-cron={s.schedule}", f"--etcd-snapshot-retention={s.retention}"]
    if s.s3 is not None:
        # Credentials are not flags: they come from a 0600 drop-in file
        # written from the script's stdin.
        flags += [
            "--etcd-s3",
            f"--etcd-s3-endpoint={s.s3.endpoint}",
            f"--etcd-s3-bucket={s.s3.bucket}",
            f"--etcd-s3-region={s.s3.region}",
            f"--etcd-s3-folder={s.s3.folder}",
        ]
        if s.s3.skip_ssl_verify:
            flags.append("--etcd-s3-skip-ssl-verify")
    return flags


def tls_sans(settings: K3sSettings, servers: list[Node], public_addresses: list[str] = ()) -> list[str]:
    """Every server's mesh IP, the DNS name, and the public addresses the
    kubeconfig may fall back to (127.0.0.1 is always in K3s's SANs)."""
    sans = [n.mesh_ip for n in servers]
    if settings.api_dns_name:
        sans.append(settings.api_dns_name)
    sans += [a for a in public_addresses if a and a not in sans]
    return sans


def server_flags(settings: K3sSettings, node: Node, servers: list[Node], *, first: bool,
                 public_addresses: list[str] = ()) -> list[str]:
    """``k3s server`` flags. Only the first server ever gets --cluster-init;
    the others join through the node-local API load balancer."""
    join = ["--cluster-init"] if first else [f"--server={settings.endpoints.in_cluster}"]
    return [
        *_node_flags(node),
        f"--advertise-address={node.mesh_ip}",
        *join,
        f"--token-file={TOKEN_FILE}",
        *[f"--tls-san={san}" for san in tls_sans(settings, servers, public_addresses)],
        f"--cluster-cidr={settings.pod_cidr}",
        f"--service-cidr={settings.service_cidr}",
        *_cni_flags(settings),
        *[f"--disable={component}" for component in settings.disable],
        *_kube_proxy_flags(settings),
        "--secrets-encryption",
        # etcd metrics on :2381 for Prometheus (the firewall keeps it mesh-only).
        "--etcd-expose-metrics",
        "--write-kubeconfig-mode=0600",
        *_reserved_flags(settings, node),
        *_placement_flags(node),
        *_snapshot_flags(settings),
    ]


def agent_flags(settings: K3sSettings, node: Node) -> list[str]:
    """``k3s agent`` flags: registration through the local load balancer."""
    flannel = [] if settings.cni in OWN_CNI else [f"--flannel-iface={INTERFACE}"]
    return [
        *_node_flags(node),
        f"--server={settings.endpoints.in_cluster}",
        f"--token-file={TOKEN_FILE}",
        *flannel,
        # kube-proxy runs on agents too (--disable-kube-proxy is the servers').
        *([f"--kube-proxy-arg=nodeport-addresses={settings.mesh_cidr}"] if settings.kube_proxy else []),
        *_reserved_flags(settings, node),
        *_placement_flags(node),
    ]


def to_config(flags: list[str]) -> dict:
    """K3s config-file form of ``flags``: ``--a=b`` -> ``a: b``; a bare flag
    -> ``true``; repeatable flags -> lists (order kept)."""
    config: dict = {}
    for flag in flags:
        if not flag.startswith("--"):
            raise ValueError(f"not a long flag: {flag!r}")
        key, sep, value = flag[2:].partition("=")
        if key in REPEATABLE:
            config.setdefault(key, []).append(value)
        elif key in config:
            raise ValueError(f"flag --{key} given twice")
        else:
            config[key] = value if sep else True
    return config


def config_yaml(flags: list[str]) -> str:
    return yaml.safe_dump(to_config(flags), sort_keys=False, default_flow_style=False)
