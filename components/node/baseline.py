"""NodeBaseline: OS baseline and nftables firewall on every node."""

from __future__ import annotations

from pathlib import Path
from typing import NotRequired, TypedDict

import pulumi
import pulumi_command as command

from components.compute.node import Node
from components.node.ports import POD_INTERFACES
from components.remote.command import node_command
from components.remote.script import render_script

SCRIPTS = Path(__file__).parent / "scripts"

NODE_PACKAGES = (
    "wireguard-tools",
    "nftables",
    "iproute2",
    "curl",
    "ca-certificates",
    "chrony|systemd-timesyncd",
    "unattended-upgrades",
)
"""Debian packages the node scripts need (one requirement each; ``a|b``: either
will do, ``a`` is installed when neither is). cloud-init installs them at
first boot where there is user data; the baseline installs whatever is still
missing on every node (OVH VPS and existing hosts get no user data)."""


class NodeBaselineArgs(TypedDict):
    nodes: list[Node]
    mesh_cidr: str
    mesh_interface: str
    wireguard_port: int
    ssh_source_cidrs: list[str]
    published_ports: dict[str, list[int]]
    """Per node name: TCP ports open to the internet (e.g. 80/443 on ingress nodes)."""
    api_port: NotRequired[int]
    api_source_cidrs: NotRequired[dict[str, list[str]]]
    """Per node name (control planes): who may reach the Kubernetes API over the public interface."""
    cluster_tcp_ports: list[str]
    cluster_udp_ports: list[str]
    pod_cidr: str
    published_udp_ports: NotRequired[dict[str, list[int]]]
    """Per node name: UDP ports open to the internet (a Submariner gateway's IPsec ports)."""
    connected_cidrs: NotRequired[list[str]]
    """Networks of the clusters this one is connected to (a fleet's data domain): forwarded."""
    tunnel_interfaces: NotRequired[list[str]]
    """Interfaces of cross-cluster traffic inside the cluster (vx-submariner)."""
    airgap: NotRequired[bool]
    """Install packages only from ``artifacts_dir``/node/*.deb (spec ``kubernetes.airgap``)."""
    artifacts_dir: NotRequired[str]


class NodeBaseline(pulumi.ComponentResource):
    """Packages, hardened SSH, kernel settings for Kubernetes, and the firewall.

    On the public interface only SSH (from the configured sources), the
    WireGuard port and published ports are open; cluster ports are reachable
    over the mesh interface only.
    """

    ready: dict[str, command.remote.Command]
    """Per node: the command after which the baseline and firewall are in place."""

    def __init__(self, name: str, args: NodeBaselineArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("sovereign:node:NodeBaseline", name, {}, opts)
        self.ready = {}
        for node in args["nodes"]:
            baseline_script = render_script(SCRIPTS / "baseline.sh", {
                "NODE_NAME": node.name,
                "SSH_PORT": node.ssh.port,
                "PACKAGES": list(NODE_PACKAGES),
                "AIRGAP": bool(args.get("airgap", False)),
                "ARTIFACTS_DIR": args.get("artifacts_dir") or "/var/lib/sovereign/airgap",
            })
            baseline = node_command(
                f"{name}-{node.name}-baseline",
                node.ssh,
                create=baseline_script,
                update=baseline_script,
                # destroy, or the node leaving the spec: its settings go (packages stay).
                delete=render_script(SCRIPTS / "baseline-remove.sh", {}),
                opts=pulumi.ResourceOptions(parent=self, depends_on=node.depends_on()),
            )
            firewall_script = render_script(SCRIPTS / "firewall.sh", {
                "MESH_INTERFACE": args["mesh_interface"],
                "MESH_CIDR": args["mesh_cidr"],
                "WG_PORT": args["wireguard_port"],
                "SSH_PORT": node.ssh.port,
                "SSH_SOURCE_CIDRS": args["ssh_source_cidrs"],
                "PUBLISHED_TCP_PORTS": [str(p) for p in args["published_ports"].get(node.name, [])],
                "API_PORT": args.get("api_port", 6443),
                "API_SOURCE_CIDRS": args.get("api_source_cidrs", {}).get(node.name, []),
                "CLUSTER_TCP_PORTS": args["cluster_tcp_ports"],
                "CLUSTER_UDP_PORTS": args["cluster_udp_ports"],
                "POD_CIDR": args["pod_cidr"],
                "POD_INTERFACES": POD_INTERFACES,
                "PUBLISHED_UDP_PORTS": [str(p) for p in args.get("published_udp_ports", {}).get(node.name, [])],
                "CONNECTED_CIDRS": args.get("connected_cidrs", []),
                "TUNNEL_INTERFACES": args.get("tunnel_interfaces", []),
            })
            self.ready[node.name] = node_command(
                f"{name}-{node.name}-firewall",
                node.ssh,
                create=firewall_script,
                update=firewall_script,
                delete=render_script(SCRIPTS / "firewall-remove.sh", {}),
                opts=pulumi.ResourceOptions(parent=self, depends_on=[baseline]),
            )
        self.register_outputs({})
