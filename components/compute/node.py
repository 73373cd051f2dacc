"""The one contract between compute and every layer above it."""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_command as command


@dataclass(frozen=True)
class SshConnection:
    """How Pulumi reaches a node; the private key is a Pulumi secret.

    ``host_key`` ("ssh-ed25519 AAAA...") is pinned: pulumi-command refuses a
    server presenting another key (without one it would trust anybody).
    """

    host: pulumi.Input[str]
    user: str
    private_key: pulumi.Output[str]
    host_key: pulumi.Input[str]
    port: int = 22

    def remote(self) -> command.remote.ConnectionArgs:
        return command.remote.ConnectionArgs(
            host=self.host,
            user=self.user,
            port=self.port,
            private_key=self.private_key,
            host_key=self.host_key,
            # Fresh VPS boot while Pulumi already dials: keep trying.
            dial_error_limit=30,
        )


@dataclass(frozen=True)
class Node:
    """A machine of the cluster, whatever created it.

    A new provider only has to produce these. ``resource`` is what commands
    on the node must wait for (the server), absent for existing hosts.
    """

    name: str
    group: str
    provider: str
    region: str
    instance_type: str
    roles: tuple[str, ...]
    mesh_ip: str
    public_address: pulumi.Output[str]
    ssh: SshConnection
    labels: dict[str, str] = field(default_factory=dict)
    taints: tuple[dict, ...] = ()
    gpus: int = 0
    private_address: pulumi.Output[str] | None = None
    # Nodes sharing this key can talk over the provider's private network.
    private_network: str | None = None
    # MTU under the mesh: the public interface's, or the smaller private
    # network's when the node is attached to one (see Catalog.underlay_mtu).
    underlay_mtu: int = 1500
    # IP version of ``public_address`` as known before deployment: 4 or 6 for
    # an IP literal, None for a DNS name (it may resolve to either). Cloud
    # pools publish the IPv4 address; existing hosts may give anything.
    public_ip_version: int | None = 4
    behind_nat: bool = False
    resource: pulumi.Resource | None = None

    @property
    def is_control_plane(self) -> bool:
        return "control-plane" in self.roles

    @property
    def is_etcd(self) -> bool:
        return "etcd" in self.roles

    @property
    def is_worker(self) -> bool:
        return "worker" in self.roles

    def depends_on(self) -> list[pulumi.Resource]:
        return [self.resource] if self.resource is not None else []
