"""Node groups: homogeneous machines of one provider, region and type."""

from __future__ import annotations

import ipaddress
import re
from decimal import Decimal
from typing import Literal

from pydantic import Field, field_validator, model_validator

from components.remote.host_keys import HOW_TO_READ, normalize_host_key

from .base import SpecModel

Provider = Literal["hetzner", "ovh", "scaleway", "existing"]
Role = Literal["control-plane", "etcd", "worker"]

_LABEL_KEY = re.compile(r"^([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$")
_NODE_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")


class Taint(SpecModel):
    key: str
    value: str = ""
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"]


class GpuSpec(SpecModel):
    """GPUs of each node of the group, e.g. ``nvidia.com/AD102GL_L40S``."""

    name: str
    count: int = Field(default=1, ge=1)


class HostSpec(SpecModel):
    """An existing (on-prem or otherwise rented) machine reached over SSH."""

    name: str
    address: str | None = None
    ssh_user: str | None = None
    ssh_port: int = Field(default=22, ge=1, le=65535)
    # No public address reachable from the other nodes (behind NAT).
    behind_nat: bool = False
    underlay_mtu: int = Field(default=1500, ge=1280, le=9000)
    mesh_ip: ipaddress.IPv4Address | None = None
    # Its SSH host public key, pinned by every session (required; see
    # check_groups): "ssh-ed25519 AAAA...".
    host_key: str | None = None

    @field_validator("host_key")
    @classmethod
    def _host_key(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            return normalize_host_key(value)
        except ValueError as err:
            raise ValueError(f"{err}; give {HOW_TO_READ}") from None

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _NODE_NAME.match(value):
            raise ValueError(f"host name {value!r} must be a DNS label (lowercase letters, digits, '-')")
        return value


class NodeGroupSpec(SpecModel):
    """A homogeneous group (the Hikube ``nodeGroups`` entry, extended)."""

    provider: Provider
    region: str | None = None
    instance_type: str | None = None
    count: int | None = Field(default=None, ge=0)
    min_replicas: int | None = Field(default=None, ge=0)
    max_replicas: int | None = Field(default=None, ge=1)
    roles: list[Role] = Field(default_factory=lambda: ["worker"])
    gpus: list[GpuSpec] = Field(default_factory=list)
    labels: dict[str, str] = Field(default_factory=dict)
    taints: list[Taint] = Field(default_factory=list)
    hosts: list[HostSpec] = Field(default_factory=list)
    ssh_user: str | None = None
    image: str | None = None
    # /24 block of the mesh CIDR used by this group; derived from the group
    # name when absent. Set it to resolve a collision between two groups.
    mesh_block: int | None = Field(default=None, ge=1)
    # Monthly price of one node, for existing hosts or negotiated rates.
    monthly_cost: Decimal | None = Field(default=None, ge=0)
    # Memory of each machine of an existing group, in GB (the catalog knows
    # cloud instance types): sizes the per-node memory tables and checks.
    memory_gb: float | None = Field(default=None, gt=0, le=4096)
    # Attach the nodes to the provider's private network (hetzner, scaleway:
    # one per region); mesh peers on the same network dial it instead of the
    # public addresses. Rejected where no private network is created.
    private_network: bool = False
    # TCP ports opened to the internet on these nodes (e.g. 80/443 on ingress nodes).
    published_ports: list[int] = Field(default_factory=list)
    # The machines stand on the user's premises (label sovereign.cloud/on-prem).
    # Default: true for existing hosts, false for cloud groups; set false for
    # an existing machine rented elsewhere (seed 000's Houston GPU server).
    on_prem: bool | None = None

    @field_validator("roles")
    @classmethod
    def _roles(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("a node group needs at least one role (control-plane, etcd, worker)")
        if len(set(value)) != len(value):
            raise ValueError("roles must not repeat")
        return value

    @field_validator("labels")
    @classmethod
    def _labels(cls, value: dict[str, str]) -> dict[str, str]:
        bad = [k for k in value if not _LABEL_KEY.match(k)]
        if bad:
            raise ValueError(f"invalid Kubernetes label key(s) {bad}")
        return value

    @model_validator(mode="after")
    def _scaling(self):
        if self.min_replicas is not None and self.max_replicas is not None:
            if self.min_replicas > self.max_replicas:
                raise ValueError("minReplicas must not exceed maxReplicas")
        return self

    @model_validator(mode="after")
    def _on_prem(self):
        if self.on_prem and not self.is_existing:
            raise ValueError(f"onPrem: a {self.provider} group runs in the provider's data centre; "
                             "only provider 'existing' machines can be on-prem")
        return self

    @model_validator(mode="after")
    def _memory(self):
        if self.memory_gb is not None and not self.is_existing:
            raise ValueError(f"memoryGb: the catalog gives the memory of {self.provider} instance types; "
                             "memoryGb is for existing hosts only")
        return self

    @property
    def is_existing(self) -> bool:
        return self.provider == "existing"

    @property
    def is_on_prem(self) -> bool:
        return self.is_existing if self.on_prem is None else self.on_prem

    @property
    def size(self) -> int:
        """Nodes created now: hosts for existing groups, else count or minReplicas."""
        if self.is_existing:
            return len(self.hosts)
        if self.count is not None:
            return self.count
        return self.min_replicas or 0

    @property
    def capacity(self) -> int:
        """Most nodes the group may ever hold (reserves its mesh addresses)."""
        if self.is_existing:
            return max(len(self.hosts), 1)
        return max(self.max_replicas or 0, self.size, 1)

    @property
    def gpu_count(self) -> int:
        return sum(g.count for g in self.gpus)
