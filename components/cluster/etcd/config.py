"""etcd's configuration file for one member (the static part).

The ``initial-*`` settings are decided on the node at first start (new
cluster or join) and appended by etcd-member.sh; everything else is here,
so the exact flags are reviewable and tested.
"""

from __future__ import annotations

import yaml

from ..contract import ETCD_METRICS_PORT

PKI_DIR = "/etc/etcd/pki"
CLIENT_PORT = 2379
PEER_PORT = 2380


def client_url(ip: str) -> str:
    return f"https://{ip}:{CLIENT_PORT}"


def peer_url(ip: str) -> str:
    return f"https://{ip}:{PEER_PORT}"


def member_config(name: str, mesh_ip: str, data_dir: str) -> str:
    """Listen on the mesh IP only, TLS with client certificates for both
    clients and peers (an unknown certificate or none is refused)."""
    config = {
        "name": name,
        "data-dir": data_dir,
        "listen-client-urls": client_url(mesh_ip),
        "advertise-client-urls": client_url(mesh_ip),
        "listen-peer-urls": peer_url(mesh_ip),
        # /metrics and /health only, for Prometheus over the mesh.
        "listen-metrics-urls": f"http://{mesh_ip}:{ETCD_METRICS_PORT}",
        "initial-advertise-peer-urls": peer_url(mesh_ip),
        "client-transport-security": {
            "cert-file": f"{PKI_DIR}/server.crt",
            "key-file": f"{PKI_DIR}/server.key",
            "trusted-ca-file": f"{PKI_DIR}/ca.crt",
            "client-cert-auth": True,
        },
        "peer-transport-security": {
            "cert-file": f"{PKI_DIR}/peer.crt",
            "key-file": f"{PKI_DIR}/peer.key",
            "trusted-ca-file": f"{PKI_DIR}/ca.crt",
            "client-cert-auth": True,
        },
        # Refuse membership changes that would lose quorum.
        "strict-reconfig-check": True,
        # Old revisions are compacted hourly (kube-apiserver also compacts).
        "auto-compaction-mode": "periodic",
        "auto-compaction-retention": "1",
    }
    header = "# Written by etcd-member.sh (sovereign-cloud); changes restart the member.\n"
    return header + yaml.safe_dump(config, sort_keys=False)
