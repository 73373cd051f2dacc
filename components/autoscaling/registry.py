"""The mesh registry of autoscaled nodes, and the agent scripts that use it.

Pulumi cannot list a server the cluster-autoscaler creates, so such a node
registers itself in the cluster: one ``coordination.k8s.io/v1`` Lease per
mesh address in ``NAMESPACE`` (created atomically: the address claim), its
annotations holding the node's WireGuard public key and endpoints, renewed
every ``RENEW_SECONDS``. Every node runs ``mesh-sync.sh`` every
``SYNC_SECONDS`` and keeps one peer per live Lease; a Lease that expires
(the server was deleted) or is released at shutdown drops the peer.

Credentials, least privilege: static nodes read the registry with their
kubelet's identity (group ``system:nodes``, a read-only Role in
``NAMESPACE``); autoscaled nodes use the ``registrar`` ServiceAccount
(create/update/delete Leases and read the ConfigMaps of ``NAMESPACE`` only).
"""

from __future__ import annotations

from pathlib import Path

from components.mesh.peers import KEEPALIVE_SECONDS
from components.remote.script import render_script
from components.spec.autoscaler import autoscaled_groups

from .slots import dynamic_slots

SCRIPTS = Path(__file__).parent / "scripts"
NAMESPACE = "sovereign-mesh"
PEER_LABEL = "sovereign.cloud/mesh-peer"
STATIC_CONFIGMAP = "mesh-static-peers"
REGISTRAR = "mesh-registrar"
LEASE_SECONDS = 60
RENEW_SECONDS = 20  # a third of the lease: two renewals may fail
SYNC_SECONDS = 15
# What K3s gives every node (servers and agents): its kubectl and the
# kubelet's own credentials (CN system:node:<name>, O system:nodes).
K3S_KUBECTL = "/usr/local/bin/k3s kubectl"
K3S_KUBELET_KUBECONFIG = "/var/lib/rancher/k3s/agent/kubelet.kubeconfig"
# On autoscaled nodes (written at boot by autoscale-join.sh).
REGISTRAR_KUBECONFIG = "/etc/sovereign/registrar.kubeconfig"
NODE_ENV_FILE = "/etc/sovereign/node.env"
STATE_DIR = "/var/lib/sovereign/mesh"


def slot_lines(spec) -> list[str]:
    """``address group`` of every autoscaled slot of the cluster."""
    return [f"{ip} {name}" for name in autoscaled_groups(spec) for ip in dynamic_slots(spec, name)]


def static_peer_line(name: str, mesh_ip: str, public_key: str, public_address: str | None,
                     private_address: str | None, private_network: str | None) -> str:
    """One static node in the ConfigMap autoscaled nodes read (no public
    address: behind NAT, it dials them)."""
    return "|".join([name, mesh_ip, public_key.strip(), public_address or "", private_address or "",
                     private_network or ""])


def sync_script(spec, *, kubectl: str, kubeconfig: str, private_network: str | None,
                static_configmap: str = "") -> str:
    return render_script(SCRIPTS / "mesh-sync.sh", {
        "WG_INTERFACE": "wg0",
        "LISTEN_PORT": spec.network.wireguard_port,
        "SLOTS": slot_lines(spec),
        "NAMESPACE": NAMESPACE,
        "PEER_LABEL": PEER_LABEL,
        "STATIC_CONFIGMAP": static_configmap,
        "PRIVATE_NETWORK": private_network or "",
        "KEEPALIVE": KEEPALIVE_SECONDS,
        "KUBECTL": kubectl,
        "KUBECONFIG": kubeconfig,
    })


def register_script(spec, group: str, *, kubectl: str, private_network: str | None) -> str:
    """mesh-register.sh of an autoscaled node; its name and addresses come
    from NODE_ENV_FILE, written at boot."""
    return render_script(SCRIPTS / "mesh-register.sh", {
        "NODE_ENV_FILE": NODE_ENV_FILE,
        "NODE_GROUP": group,
        "SLOTS": [str(ip) for ip in dynamic_slots(spec, group)],
        "NAMESPACE": NAMESPACE,
        "PEER_LABEL": PEER_LABEL,
        "LEASE_SECONDS": LEASE_SECONDS,
        "PRIVATE_NETWORK": private_network or "",
        "KUBECTL": kubectl,
        "KUBECONFIG": REGISTRAR_KUBECONFIG,
        "STATE_DIR": STATE_DIR,
    })


def leave_script(*, kubectl: str) -> str:
    return render_script(SCRIPTS / "mesh-leave.sh", {
        "NODE_ENV_FILE": NODE_ENV_FILE,
        "NAMESPACE": NAMESPACE,
        "KUBECTL": kubectl,
        "KUBECONFIG": REGISTRAR_KUBECONFIG,
        "STATE_DIR": STATE_DIR,
    })


def agent_install_script(sync: str, *, register: str = "", leave: str = "") -> str:
    return render_script(SCRIPTS / "mesh-agent-install.sh", {
        "SYNC_SCRIPT": sync,
        "REGISTER_SCRIPT": register,
        "LEAVE_SCRIPT": leave,
        "SYNC_SECONDS": SYNC_SECONDS,
        "RENEW_SECONDS": RENEW_SECONDS,
    })


def agent_remove_script() -> str:
    return render_script(SCRIPTS / "mesh-agent-remove.sh", {"WG_INTERFACE": "wg0"})
