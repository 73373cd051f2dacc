"""ExternalEtcd: dedicated etcd members over the mesh, with their own PKI."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import NotRequired, TypedDict

import pulumi
import pulumi_command as command

from components.compute.node import Node
from components.remote.command import node_command
from components.remote.script import render_script
from components.spec.kubernetes import EtcdSnapshotSpec

from ..common.secrets import stdin_secrets
from .config import CLIENT_PORT, PEER_PORT, client_url, member_config
from .pki import EtcdPki
from .snapshots import DEFAULT_SNAPSHOT_DIR, etcd_snapshot_commands, per_node

SCRIPTS = Path(__file__).parent / "scripts"
DEFAULT_DATA_DIR = "/var/lib/etcd"


class ExternalEtcdArgs(TypedDict):
    nodes: list[Node]
    """The etcd members, in order: the first apply bootstraps them together,
    members added later join one at a time."""
    after: dict[str, list[pulumi.Resource]]
    """Per node name: what must be done first (its mesh is up)."""
    version: NotRequired[str]
    """Debian ``etcd-server`` version to install (default: the distribution's)."""
    data_dir: NotRequired[str]
    """etcd's data directory; ``{node}`` is replaced by the node name
    (test hosts share /var)."""
    snapshot_dir: NotRequired[str]
    """Local snapshot directory; ``{node}`` as in data_dir."""
    snapshots: NotRequired[EtcdSnapshotSpec | None]
    s3_credentials: NotRequired[tuple[pulumi.Input[str], pulumi.Input[str]] | None]
    """(access key, secret key) for ``snapshots.s3``; secrets."""
    airgap: NotRequired[bool]
    artifacts_dir: NotRequired[str]
    """Air-gap: ``<artifacts_dir>/etcd/etcd`` and ``etcdctl`` are pre-staged."""


class ExternalEtcd(pulumi.ComponentResource):
    """An etcd cluster on dedicated nodes, TLS everywhere, mesh IPs only.

    Members run one after another (each depends on its mesh and on the
    previous member), so a member added to an existing cluster joins alone
    with ``etcdctl member add``; a health gate then waits for every member.
    Deleting a member's command removes it from the cluster only if quorum
    survives.
    """

    endpoints: list[str]
    """Client URLs, ``https://<mesh_ip>:2379``."""
    ca_cert_pem: pulumi.Output[str]
    client_cert_pem: pulumi.Output[str]
    """Client certificate for kube-apiserver."""
    client_key_pem: pulumi.Output[str]
    """Its private key; a Pulumi secret."""
    members: dict[str, command.remote.Command]
    snapshots: dict[str, command.remote.Command]
    health: command.remote.Command
    ready: list[pulumi.Resource]
    """What users of etcd wait for: every member healthy."""

    def __init__(self, name: str, args: ExternalEtcdArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("sovereign:cluster:ExternalEtcd", name, {}, opts)
        nodes = list(args["nodes"])
        if not nodes:
            raise ValueError("nodeGroups: an external etcd needs at least one node with the etcd role")
        if len(nodes) % 2 == 0:
            pulumi.log.warn(f"{name}: {len(nodes)} etcd members tolerate no more failures than {len(nodes) - 1}; use an odd number")
        after = args["after"]
        self.pki = EtcdPki(name, nodes, parent=self)
        self.endpoints = [client_url(n.mesh_ip) for n in nodes]
        self.ca_cert_pem = self.pki.ca_cert_pem
        self.client_cert_pem = self.pki.clients["apiserver"].cert_pem
        self.client_key_pem = pulumi.Output.secret(self.pki.clients["apiserver"].key_pem)
        cluster = [f"{n.name} {n.mesh_ip}" for n in nodes]
        # Stable per cluster: a re-created cluster of the same name gets
        # the same token, a different component a different one.
        token = f"{name}-{hashlib.sha256(name.encode()).hexdigest()[:12]}"
        healthcheck = self.pki.clients["healthcheck"]

        self.members = {}
        previous: list[pulumi.Resource] = []
        for node in nodes:
            params = {
                "ETCD_NAME": node.name,
                "MESH_IP": node.mesh_ip,
                "CLUSTER": cluster,
                "INITIAL_CLUSTER_TOKEN": token,
                "DATA_DIR": per_node(args.get("data_dir") or DEFAULT_DATA_DIR, node),
                "CLIENT_PORT": CLIENT_PORT,
                "PEER_PORT": PEER_PORT,
            }
            script = render_script(SCRIPTS / "etcd-member.sh", {
                **params,
                "ETCD_CONFIG": member_config(node.name, node.mesh_ip, params["DATA_DIR"]),
                "ETCD_VERSION": args.get("version") or "",
                "AIRGAP": bool(args.get("airgap", False)),
                "ARTIFACTS_DIR": args.get("artifacts_dir") or "/var/lib/sovereign/airgap",
            })
            stdin = stdin_secrets({
                "CA": self.pki.ca_cert_pem,
                "SERVER_CERT": self.pki.servers[node.name].cert_pem,
                "SERVER_KEY": self.pki.servers[node.name].key_pem,
                "PEER_CERT": self.pki.peers[node.name].cert_pem,
                "PEER_KEY": self.pki.peers[node.name].key_pem,
                "CLIENT_CERT": healthcheck.cert_pem,
                "CLIENT_KEY": healthcheck.key_pem,
            })
            member = node_command(
                f"{name}-{node.name}-etcd",
                node.ssh,
                create=script,
                # Same idempotent script: certificates or config changes
                # restart the member, nothing else does.
                update=script,
                stdin=stdin,
                delete=render_script(SCRIPTS / "etcd-member-remove.sh", {
                    k: params[k] for k in ("ETCD_NAME", "MESH_IP", "CLUSTER", "DATA_DIR", "CLIENT_PORT", "PEER_PORT")
                }),
                # One member at a time: joins must never overlap.
                opts=pulumi.ResourceOptions(parent=self, depends_on=[*node.depends_on(), *after.get(node.name, []), *previous]),
            )
            self.members[node.name] = member
            previous = [member]

        health_script = render_script(SCRIPTS / "etcd-health.sh", {"ENDPOINTS": self.endpoints, "TIMEOUT": 180})
        self.health = node_command(
            f"{name}-health",
            nodes[0].ssh,
            create=health_script,
            update=health_script,
            # Deleted only with the whole cluster, before every member: it
            # marks the first member (removed last) as allowed to wipe
            # without a peer to ask (etcd-member-remove.sh).
            delete=render_script(SCRIPTS / "etcd-teardown.sh"),
            rerun_when=self.endpoints,
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(self.members.values())),
        )

        # Every member: only the leader takes the snapshot (the script checks).
        self.snapshots = etcd_snapshot_commands(
            name, nodes, args.get("snapshots"),
            after={n: [m] for n, m in self.members.items()}, parent=self,
            s3_credentials=args.get("s3_credentials"),
            snapshot_dir=args.get("snapshot_dir") or DEFAULT_SNAPSHOT_DIR,
        )

        self.ready = [self.health]
        self.register_outputs({"endpoints": self.endpoints, "caCertPem": self.ca_cert_pem,
                               "clientCertPem": self.client_cert_pem, "clientKeyPem": self.client_key_pem})
