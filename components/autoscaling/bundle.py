"""The scripts an autoscaled server runs at first boot, as one archive.

The same files, rendered with the same parameters, as Pulumi runs on a
static node of the group (baseline, firewall, K3s install and agent, API
load balancer, WireGuard key and interface), plus the registry scripts.
Only what a server learns at boot is left to the environment
autoscale-join.sh sets: its name (``NODE_NAME``), mesh address
(``MESH_ADDRESS``) and K3s configuration (``K3S_CONFIG``, from a template
with ``@NODE_NAME@`` and ``@MESH_IP@``). The archive is byte-for-byte
reproducible, so its SHA-256 pins it in the user data.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import tarfile
from dataclasses import dataclass

from components.cluster.common.endpoint import API_PORT, LOCAL_LB_PORT
from components.cluster.common.labels import labels_of, taints_of
from components.cluster.common.local_lb import SCRIPTS as LB_SCRIPTS
from components.cluster.common.local_lb import backends
from components.cluster.k3s.cluster import SCRIPTS as K3S_SCRIPTS
from components.cluster.k3s.flags import K3sSettings, agent_flags, config_yaml
from components.compute.node import Node
from components.mesh.wireguard import INTERFACE
from components.mesh.wireguard import SCRIPTS as MESH_SCRIPTS
from components.node.baseline import NODE_PACKAGES
from components.node.baseline import SCRIPTS as NODE_SCRIPTS
from components.node.ports import POD_INTERFACES, cluster_ports
from components.remote.script import render_script
from components.spec.autoscaler import pool_name
from components.topology.plan import node_labels, node_taints

from . import registry
from .registry import SCRIPTS

SCRIPTS_DIR = "/usr/local/lib/sovereign/autoscale"
CA_FILE = "/etc/sovereign/cluster-ca.crt"
TOKEN_FILE = "/etc/sovereign/registrar.token"
K3S_TOKEN_FILE = "/etc/sovereign/k3s.token"
AUTOSCALED_LABEL = "sovereign.cloud/autoscaled"
NAME_PLACEHOLDER, IP_PLACEHOLDER = "@NODE_NAME@", "@MESH_IP@"


def template_node(spec, group: str, private_network: str) -> Node:
    """What a server of ``group`` will be, before it has a name and address.

    Its labels are the group's (as its static nodes get them) plus
    ``sovereign.cloud/autoscaled`` and the three the autoscaler's own
    template carries (node group, instance type, CSI location): the
    cluster-autoscaler's simulated node and the real one match (#171).
    """
    g = spec.node_groups[group]
    labels = node_labels(spec, group, g, g.region)
    labels.update({
        AUTOSCALED_LABEL: "true",
        "hcloud/node-group": pool_name(spec, group),
        "node.kubernetes.io/instance-type": g.instance_type,
        "csi.hetzner.cloud/location": g.region,
    })
    return Node(name=NAME_PLACEHOLDER, group=group, provider="hetzner", region=g.region,
                instance_type=g.instance_type, roles=tuple(g.roles), mesh_ip=IP_PLACEHOLDER,
                public_address=None, ssh=None, labels=labels, taints=node_taints(g),
                private_network=private_network)


def node_labels_and_taints(spec, group: str, private_network: str) -> tuple[dict[str, str], list[dict]]:
    """Kubernetes labels and taints of the group's autoscaled nodes: what the
    kubelet registers with and what the autoscaler's template declares."""
    node = template_node(spec, group, private_network)
    return labels_of(node), taints_of(node)


@dataclass(frozen=True)
class Bundle:
    files: dict[str, str]
    archive: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.archive).hexdigest()


def group_bundle(spec, group: str, *, control_planes: list[Node], mesh_mtu: int, private_network: str) -> Bundle:
    files = _files(spec, group, control_planes=control_planes, mesh_mtu=mesh_mtu, private_network=private_network)
    return Bundle(files=files, archive=_archive(files))


def _files(spec, group: str, *, control_planes: list[Node], mesh_mtu: int, private_network: str) -> dict[str, str]:
    airgap = spec.kubernetes.airgap
    settings = K3sSettings.from_spec(spec)
    tcp, udp = cluster_ports(spec)
    published = [str(p) for p in sorted(set(spec.node_groups[group].published_ports))]
    kubectl = registry.K3S_KUBECTL
    sync = registry.sync_script(spec, kubectl=kubectl, kubeconfig=registry.REGISTRAR_KUBECONFIG,
                                private_network=private_network, static_configmap=registry.STATIC_CONFIGMAP)
    register = registry.register_script(spec, group, kubectl=kubectl, private_network=private_network)
    return {
        # NODE_NAME: from autoscale-join.sh.
        "baseline.sh": render_script(NODE_SCRIPTS / "baseline.sh", {
            "SSH_PORT": 22, "PACKAGES": list(NODE_PACKAGES), "AIRGAP": airgap.enabled,
            "ARTIFACTS_DIR": airgap.artifacts_dir}),
        "firewall.sh": render_script(NODE_SCRIPTS / "firewall.sh", {
            "MESH_INTERFACE": INTERFACE, "MESH_CIDR": str(spec.network.mesh_cidr),
            "WG_PORT": spec.network.wireguard_port, "SSH_PORT": 22,
            "SSH_SOURCE_CIDRS": [str(c) for c in spec.network.ssh_source_cidrs],
            "PUBLISHED_TCP_PORTS": published, "API_PORT": API_PORT, "API_SOURCE_CIDRS": [],
            "CLUSTER_TCP_PORTS": tcp, "CLUSTER_UDP_PORTS": udp, "POD_CIDR": str(spec.network.pod_cidr),
            "POD_INTERFACES": POD_INTERFACES}),
        "k3s-install.sh": render_script(K3S_SCRIPTS / "k3s-install.sh", {
            "K3S_VERSION": settings.version, "AIRGAP": airgap.enabled, "ARTIFACTS_DIR": airgap.artifacts_dir}),
        # K3S_CONFIG: the template below, completed at boot.
        "k3s-node.sh": render_script(K3S_SCRIPTS / "k3s-node.sh", {
            "K3S_ROLE": "agent", "FIRST_SERVER": False, "OTHER_SERVERS": [],
            "JOIN_SERVER": settings.endpoints.in_cluster, "K3S_VERSION": settings.version}),
        "api-lb.sh": render_script(LB_SCRIPTS / "api-lb.sh", {
            "LB_PORT": LOCAL_LB_PORT, "BACKENDS": backends(control_planes), "HEALTH_CHECK": "tcp",
            "AIRGAP": airgap.enabled, "ARTIFACTS_DIR": airgap.artifacts_dir}),
        "wg-keys.sh": render_script(MESH_SCRIPTS / "wg-keys.sh", {"WG_INTERFACE": INTERFACE}),
        # MESH_ADDRESS: the claimed one. No peers: mesh-sync.sh adds them all.
        "wg-apply.sh": render_script(MESH_SCRIPTS / "wg-apply.sh", {
            "WG_INTERFACE": INTERFACE, "LISTEN_PORT": spec.network.wireguard_port, "MTU": mesh_mtu,
            "PEERS": [], "RELAY": False,
            "PRUNE_SCRIPT": render_script(MESH_SCRIPTS / "wg-prune.sh", {"WG_INTERFACE": INTERFACE})}),
        "mesh-register.sh": register,
        "mesh-sync.sh": sync,
        "mesh-agent-install.sh": registry.agent_install_script(
            sync, register=register, leave=registry.leave_script(kubectl=kubectl)),
        "autoscale-join.sh": render_script(SCRIPTS / "autoscale-join.sh", {
            "SCRIPTS_DIR": SCRIPTS_DIR, "API_PORT": API_PORT,
            "LOCAL_API": settings.endpoints.in_cluster, "CA_FILE": CA_FILE, "TOKEN_FILE": TOKEN_FILE,
            "K3S_TOKEN_FILE": K3S_TOKEN_FILE,
            "K3S_CONFIG_TEMPLATE": config_yaml(agent_flags(settings, template_node(spec, group, private_network))),
            "MESH_PREFIX": spec.network.mesh_cidr.prefixlen, "KUBECONFIG": registry.REGISTRAR_KUBECONFIG,
            "NODE_ENV_FILE": registry.NODE_ENV_FILE}),
    }


def _archive(files: dict[str, str]) -> bytes:
    """A tar.gz with fixed owners, modes and times: same files, same bytes."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for name in sorted(files):
            data = files[name].encode()
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime, info.uid, info.gid = len(data), 0o700, 0, 0, 0
            tar.addfile(info, io.BytesIO(data))
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb", mtime=0) as gz:
        gz.write(raw.getvalue())
    return out.getvalue()
