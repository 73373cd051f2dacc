"""The cluster spec: one structured config object per stack."""

from __future__ import annotations

import ipaddress
import re
from typing import Literal

from pydantic import Field, PrivateAttr, field_validator

from .autoscaler import AutoscalerSpec
from .base import SpecModel
from .cost import CostSpec
from .data import DataServicesSpec
from .fleet import FleetSpec
from .kubernetes import KubernetesSpec
from .network import NetworkSpec
from .node_groups import NodeGroupSpec
from .openstack import OpenStackSpec
from .platform import AddonsSpec, StorageSpec
from .providers import ProvidersSpec, SshSpec

_VERSION = re.compile(r"^v?(?P<major>1)\.(?P<minor>\d{1,2})\.(?P<patch>\d{1,3})(?P<k3s>\+k3s\d+)?$")
_CLUSTER_NAME = re.compile(r"^[a-z]([-a-z0-9]{0,30}[a-z0-9])?$")
_GROUP_NAME = re.compile(r"^[a-z]([-a-z0-9]{0,20}[a-z0-9])?$")


class ClusterSpec(SpecModel):
    """What to build; validated once, before anything is created."""

    name: str
    distribution: Literal["k3s", "kubeadm"]
    version: str
    # Ask for an HA control plane explicitly; by default HA follows from
    # having more than one control-plane node.
    ha: bool | None = None
    network: NetworkSpec = Field(default_factory=NetworkSpec)
    kubernetes: KubernetesSpec = Field(default_factory=KubernetesSpec)
    node_groups: dict[str, NodeGroupSpec]
    ssh: SshSpec
    providers: ProvidersSpec = Field(default_factory=ProvidersSpec)
    storage: StorageSpec = Field(default_factory=StorageSpec)
    addons: AddonsSpec = Field(default_factory=AddonsSpec)
    # Geo-replicated PostgreSQL, object storage and search (components/data/).
    data_services: DataServicesSpec = Field(default_factory=DataServicesSpec)
    # OpenStack-Helm on the Rook-Ceph cluster (components/openstack/).
    openstack: OpenStackSpec = Field(default_factory=OpenStackSpec)
    cost: CostSpec = Field(default_factory=CostSpec)
    # The cluster-autoscaler of autoscaled groups (components/autoscaling/).
    autoscaler: AutoscalerSpec = Field(default_factory=AutoscalerSpec)
    # Hub and spokes of a multi-cluster fleet (components/fleet/, docs/fleet.md).
    fleet: FleetSpec | None = None
    # Mesh addresses this stack gave its existing hosts before (read from its
    # own outputs, components/topology/history.py), not part of the spec.
    _mesh_history: dict[str, ipaddress.IPv4Address] = PrivateAttr(default_factory=dict)

    def with_mesh_history(self, history: dict[str, str]) -> ClusterSpec:
        """A copy that keeps each existing host at the mesh address it had."""
        copy = self.model_copy()
        copy._mesh_history = {name: ipaddress.IPv4Address(ip) for name, ip in history.items()}
        return copy

    @property
    def mesh_history(self) -> dict[str, ipaddress.IPv4Address]:
        return dict(self._mesh_history)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _CLUSTER_NAME.match(value):
            raise ValueError(
                f"cluster name {value!r} must be 1-32 lowercase letters, digits or '-', starting with a letter"
            )
        return value

    @field_validator("version")
    @classmethod
    def _version(cls, value: str) -> str:
        match = _VERSION.match(value)
        if not match:
            raise ValueError(
                f"version {value!r} is malformed; use a Kubernetes release such as '1.31.4' "
                "(k3s also accepts 'v1.31.4+k3s1')"
            )
        return value

    @field_validator("node_groups")
    @classmethod
    def _group_names(cls, value: dict[str, NodeGroupSpec]) -> dict[str, NodeGroupSpec]:
        bad = [n for n in value if not _GROUP_NAME.match(n)]
        if bad:
            raise ValueError(f"node group name(s) {bad} must be short DNS labels (lowercase, digits, '-')")
        if not value:
            raise ValueError("at least one node group is required")
        return value

    @property
    def kubernetes_version(self) -> tuple[int, int, int]:
        m = _VERSION.match(self.version)
        assert m is not None  # validated above
        return int(m["major"]), int(m["minor"]), int(m["patch"])
