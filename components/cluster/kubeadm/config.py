"""kubeadm configuration documents, as pure functions of the spec and nodes.

Secrets are never in these documents: the bootstrap token and the
certificate key appear as placeholders that the node script substitutes
from its stdin, so the YAML can be reviewed, diffed and tested in the clear.
"""

from __future__ import annotations

from dataclasses import dataclass

import yaml

from components.compute.node import Node
from components.spec import ClusterSpec
from components.spec.kubernetes import ReservedSpec

from ..contract import ETCD_METRICS_PORT
from ..common.endpoint import API_PORT, ApiEndpoints
from ..common.labels import is_hyperconverged, labels_of, taints_of

TOKEN_PLACEHOLDER = "@BOOTSTRAP_TOKEN@"
CERTIFICATE_KEY_PLACEHOLDER = "@CERTIFICATE_KEY@"
CRI_SOCKET = "unix:///run/containerd/containerd.sock"
ADMIN_KUBECONFIG = "/etc/kubernetes/admin.conf"
ETCD_CA_FILE = "/etc/kubernetes/pki/etcd/ca.crt"
ETCD_CERT_FILE = "/etc/kubernetes/pki/apiserver-etcd-client.crt"
ETCD_KEY_FILE = "/etc/kubernetes/pki/apiserver-etcd-client.key"
# Stacked etcd: kubeadm's own client certificate for etcd health checks,
# which etcdctl uses on the control plane (snapshots, operators).
STACKED_ETCD_CLIENT_CERT = "/etc/kubernetes/pki/etcd/healthcheck-client.crt"
STACKED_ETCD_CLIENT_KEY = "/etc/kubernetes/pki/etcd/healthcheck-client.key"
STACKED_ETCD_ENDPOINT = "https://127.0.0.1:2379"
ENCRYPTION_DIR = "/etc/kubernetes/enc"
ENCRYPTION_FILE = f"{ENCRYPTION_DIR}/encryption.yaml"
# Long enough for every join of one `pulumi up`; each node's
# join-credentials step (and, while a join is pending, its timer) re-creates
# or extends the token for joins that come later.
TOKEN_TTL = "2h0m0s"
TOKEN_TTL_SECONDS = 2 * 3600
# On the first control plane: pending joins, the token and the refresher.
JOIN_STATE_DIR = "/etc/kubernetes/sovereign-joins"
INIT_CONFIG_FILE = "/etc/kubernetes/kubeadm-init.yaml"
# The refresher's period, and the validity it keeps the token above: more
# than one period, so the token never lapses between two runs. Uploaded
# certificates live two hours, re-uploaded every period.
JOIN_REFRESH_SECONDS = 30 * 60
JOIN_MIN_VALID_SECONDS = 90 * 60


def kubeadm_api_version(version: tuple[int, int, int]) -> str:
    """v1beta4 from Kubernetes 1.31 (where it appeared), v1beta3 before."""
    return "kubeadm.k8s.io/v1beta4" if version >= (1, 31, 0) else "kubeadm.k8s.io/v1beta3"


@dataclass(frozen=True)
class KubeadmSettings:
    cluster_name: str
    version: tuple[int, int, int]
    pod_cidr: str
    service_cidr: str
    api_dns_name: str | None
    reserved: ReservedSpec
    external_etcd: bool
    kube_proxy: bool = True
    mesh_cidr: str = ""
    endpoints: ApiEndpoints = ApiEndpoints()

    @classmethod
    def from_spec(cls, spec: ClusterSpec, *, external_etcd: bool) -> KubeadmSettings:
        return cls(
            cluster_name=spec.name,
            version=spec.kubernetes_version,
            pod_cidr=str(spec.network.pod_cidr),
            service_cidr=str(spec.network.service_cidr),
            api_dns_name=spec.kubernetes.api_dns_name,
            reserved=spec.kubernetes.reserved,
            external_etcd=external_etcd,
            kube_proxy=spec.kubernetes.kube_proxy,
            mesh_cidr=str(spec.network.mesh_cidr),
        )

    @property
    def api_version(self) -> str:
        return kubeadm_api_version(self.version)

    @property
    def kubernetes_version(self) -> str:
        return "v{}.{}.{}".format(*self.version)

    @property
    def package_version(self) -> str:
        """Debian package version on pkgs.k8s.io, e.g. ``1.31.4-1.1``."""
        return "{}.{}.{}-1.1".format(*self.version)

    @property
    def minor(self) -> str:
        return "v{}.{}".format(*self.version[:2])

    def args(self, mapping: dict[str, str]):
        """extraArgs / kubeletExtraArgs: a list of name/value in v1beta4, a map before."""
        if self.api_version.endswith("v1beta4"):
            return [{"name": k, "value": v} for k, v in mapping.items()]
        return dict(mapping)


def node_registration(settings: KubeadmSettings, node: Node) -> dict:
    labels = labels_of(node)
    kubelet = {
        "node-ip": node.mesh_ip,
        "node-labels": ",".join(f"{k}={v}" for k, v in sorted(labels.items())),
    }
    if is_hyperconverged(node):
        r = settings.reserved
        kubelet |= {"kube-reserved": r.kube_reserved, "system-reserved": r.system_reserved, "eviction-hard": r.eviction_hard}
    taints = [{k: v for k, v in t.items() if v != ""} for t in taints_of(node)]
    return {
        "name": node.name,
        "criSocket": CRI_SOCKET,
        "kubeletExtraArgs": settings.args(kubelet),
        # Explicit, also when empty: kubeadm would otherwise taint every
        # control plane, hyperconverged ones included.
        "taints": taints,
    }


def cert_sans(settings: KubeadmSettings, control_planes: list[Node], public_addresses: list[str] = ()) -> list[str]:
    sans = [settings.endpoints.local_host, "localhost", *[n.mesh_ip for n in control_planes]]
    if settings.api_dns_name:
        sans.append(settings.api_dns_name)
    return sans + [a for a in public_addresses if a and a not in sans]


def cluster_configuration(settings: KubeadmSettings, control_planes: list[Node], *,
                          etcd_endpoints: list[str], public_addresses: list[str] = ()) -> dict:
    if settings.external_etcd:
        etcd = {"external": {
            "endpoints": list(etcd_endpoints),
            "caFile": ETCD_CA_FILE,
            "certFile": ETCD_CERT_FILE,
            "keyFile": ETCD_KEY_FILE,
        }}
    else:
        mesh_ips = [n.mesh_ip for n in control_planes]
        # Metrics beyond 127.0.0.1 (kubeadm's default) so Prometheus can
        # scrape them over the mesh; the firewall keeps 2381 off the public side.
        etcd = {"local": {"serverCertSANs": mesh_ips, "peerCertSANs": mesh_ips,
                          "extraArgs": settings.args({"listen-metrics-urls": f"http://0.0.0.0:{ETCD_METRICS_PORT}"})}}
    return {
        "apiVersion": settings.api_version,
        "kind": "ClusterConfiguration",
        "clusterName": settings.cluster_name,
        "kubernetesVersion": settings.kubernetes_version,
        # Every node's local load balancer: never one server's address.
        "controlPlaneEndpoint": settings.endpoints.host_port,
        "networking": {
            "podSubnet": settings.pod_cidr,
            "serviceSubnet": settings.service_cidr,
            "dnsDomain": "cluster.local",
        },
        "apiServer": {
            "certSANs": cert_sans(settings, control_planes, public_addresses),
            "extraArgs": settings.args({"encryption-provider-config": ENCRYPTION_FILE}),
            "extraVolumes": [{
                "name": "encryption-config", "hostPath": ENCRYPTION_DIR, "mountPath": ENCRYPTION_DIR,
                "readOnly": True, "pathType": "DirectoryOrCreate",
            }],
        },
        "etcd": etcd,
    }


def init_configuration(settings: KubeadmSettings, node: Node) -> dict:
    doc = {
        "apiVersion": settings.api_version,
        "kind": "InitConfiguration",
        "bootstrapTokens": [{
            "token": TOKEN_PLACEHOLDER,
            "ttl": TOKEN_TTL,
            "usages": ["signing", "authentication"],
            "groups": ["system:bootstrappers:kubeadm:default-node-token"],
            "description": "sovereign-cloud joins",
        }],
        "certificateKey": CERTIFICATE_KEY_PLACEHOLDER,
        "localAPIEndpoint": {"advertiseAddress": node.mesh_ip, "bindPort": API_PORT},
        "nodeRegistration": node_registration(settings, node),
    }
    if not settings.kube_proxy:
        doc["skipPhases"] = ["addon/kube-proxy"]
    return doc


def kubelet_configuration() -> dict:
    return {
        "apiVersion": "kubelet.config.k8s.io/v1beta1",
        "kind": "KubeletConfiguration",
        "cgroupDriver": "systemd",
    }


def kube_proxy_configuration(settings: KubeadmSettings) -> dict:
    """NodePorts on mesh addresses only: kube-proxy DNATs them before the
    firewall's input chain sees the packet, so on a public address they
    would bypass it."""
    return {
        "apiVersion": "kubeproxy.config.k8s.io/v1alpha1",
        "kind": "KubeProxyConfiguration",
        "nodePortAddresses": [settings.mesh_cidr],
    }


def join_configuration(settings: KubeadmSettings, node: Node, *, ca_cert_hash: str, control_plane: bool) -> dict:
    doc = {
        "apiVersion": settings.api_version,
        "kind": "JoinConfiguration",
        "discovery": {"bootstrapToken": {
            "apiServerEndpoint": settings.endpoints.host_port,
            "token": TOKEN_PLACEHOLDER,
            "caCertHashes": [ca_cert_hash],
        }},
        "nodeRegistration": node_registration(settings, node),
    }
    if control_plane:
        doc["controlPlane"] = {
            "localAPIEndpoint": {"advertiseAddress": node.mesh_ip, "bindPort": API_PORT},
            "certificateKey": CERTIFICATE_KEY_PLACEHOLDER,
        }
    return doc


def encryption_configuration(key_b64: str) -> str:
    """EncryptionConfiguration: Secrets encrypted at rest (secretbox)."""
    return yaml.safe_dump({
        "apiVersion": "apiserver.config.k8s.io/v1",
        "kind": "EncryptionConfiguration",
        "resources": [{
            "resources": ["secrets"],
            "providers": [{"secretbox": {"keys": [{"name": "key1", "secret": key_b64}]}}, {"identity": {}}],
        }],
    }, sort_keys=False)


def render(*documents: dict) -> str:
    return yaml.safe_dump_all(documents, sort_keys=False, default_flow_style=False)


def stacked_etcdctl_env() -> str:
    """/etc/etcd/etcdctl.env of a control plane with stacked etcd: its own
    member on 127.0.0.1 with kubeadm's etcd CA and health-check client."""
    return "\n".join([
        "ETCDCTL_API=3",
        f"ETCDCTL_ENDPOINTS={STACKED_ETCD_ENDPOINT}",
        f"ETCDCTL_CACERT={ETCD_CA_FILE}",
        f"ETCDCTL_CERT={STACKED_ETCD_CLIENT_CERT}",
        f"ETCDCTL_KEY={STACKED_ETCD_CLIENT_KEY}",
    ])
