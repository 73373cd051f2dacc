"""What an add-on contributes, as plain data (built and tested without Pulumi).

An add-on module turns a ``PlatformContext`` into an ``AddonPlan``: Helm
releases (pinned charts, the project's typed values with the spec's escape
hatch merged last), the Kubernetes objects the project writes itself
(manifests, some of them custom resources of the charts' CRDs) and the
workloads whose resource requests the project sets (for the per-node sum).
``components.platform.component.Platform`` turns plans into resources.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from .charts import ChartRef

Placement = Literal["all", "gpu", "control-plane", "workers", "any"]


@dataclass(frozen=True)
class NodeFacts:
    name: str
    group: str
    roles: tuple[str, ...]
    labels: dict[str, str]
    taints: tuple[dict, ...]
    gpus: int = 0

    @property
    def is_gpu(self) -> bool:
        return self.gpus > 0


@dataclass(frozen=True)
class PlatformContext:
    """Everything the add-ons may read: the spec and facts of the cluster."""

    spec: Any  # ClusterSpec
    mesh_mtu: int
    api_host: str
    api_port: int
    kube_proxy: bool
    pod_cidr: str
    nodes: tuple[NodeFacts, ...]
    priority_classes: tuple[str, ...] = ()
    etcd_metrics: tuple[str, ...] = ()
    """Mesh IPs where etcd serves /metrics (port 2381)."""
    # Secret values (Pulumi Outputs in the program, strings in pure tests).
    secrets: dict[str, Any] = field(default_factory=dict)

    @property
    def addons(self):
        return self.spec.addons

    @property
    def profile(self) -> str:
        return self.spec.addons.profile

    def priority(self, critical: bool = False) -> str | None:
        """The cluster's PriorityClass for platform pods (None when absent)."""
        wanted = "sovereign-platform-critical" if critical else "sovereign-platform"
        return wanted if wanted in self.priority_classes else None

    @property
    def gpu_groups(self) -> list[str]:
        return sorted({n.group for n in self.nodes if n.is_gpu})

    @property
    def gpu_taints(self) -> list[dict]:
        seen: dict[tuple, dict] = {}
        for n in self.nodes:
            if n.is_gpu:
                for t in n.taints:
                    seen[(t["key"], t.get("value", ""), t["effect"])] = t
        return list(seen.values())


@dataclass
class Release:
    key: str
    chart: ChartRef
    values: dict[str, Any]
    after: list[str] = field(default_factory=list)
    """Keys of releases/manifests that must exist first."""


@dataclass
class Manifest:
    key: str
    obj: dict[str, Any]
    after: list[str] = field(default_factory=list)
    patch: bool = False
    """Someone else owns the object (e.g. Calico's ``FelixConfiguration
    default``, created by calico-node): the project server-side-applies the
    fields it sets instead of creating it (a create fails: AlreadyExists)."""


@dataclass(frozen=True)
class Workload:
    """A pod template whose requests the project sets in a release's values."""

    release: str
    name: str
    kind: Literal["DaemonSet", "Deployment", "StatefulSet"]
    path: tuple[str | int, ...]
    """Where ``resources`` sits in the release's values (or the manifest's object)."""
    replicas: int = 1
    placement: Placement = "any"
    groups: tuple[str, ...] = ()
    """Only on these node groups (empty: wherever ``placement`` allows)."""
    nodes: tuple[str, ...] = ()
    """Only on these nodes (empty: every node ``groups`` and ``placement`` allow)."""
    requests: dict[str, str] | None = None
    """Requests set where no path reaches them (a chart value holding YAML text)."""


@dataclass
class AddonPlan:
    name: str
    releases: list[Release] = field(default_factory=list)
    manifests: list[Manifest] = field(default_factory=list)
    workloads: list[Workload] = field(default_factory=list)
    secrets: list[str] = field(default_factory=list)
    """Names of secret values (random passwords) the plan needs in ``ctx.secrets``."""
    ready: str | None = None
    """Key of the item whose readiness means this add-on works (the CNI's:
    every other platform item installs after it, see ``plan.platform_plans``)."""

    @property
    def items(self) -> list[Release | Manifest]:
        """Releases then manifests: everything this plan installs."""
        return [*self.releases, *self.manifests]
