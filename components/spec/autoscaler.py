"""Autoscaled node groups (seed 003 ``minReplicas``/``maxReplicas``).

A group whose ``maxReplicas`` exceeds its ``minReplicas`` is autoscaled:
Pulumi keeps ``minReplicas`` static nodes (the floor, fully managed like a
counted group) and the Kubernetes cluster-autoscaler adds and removes up to
``maxReplicas - minReplicas`` more (components/autoscaling/). Only Hetzner
Cloud can do that here; ``check_autoscaling`` (one of the spec's ``RULES``)
refuses the rest with what is offered instead.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from pydantic import Field, field_validator

from .base import SpecModel
from .errors import SpecIssue
from .inputs import reads

# cluster-autoscaler durations (Go time.ParseDuration, as its flags take them).
_DURATION = re.compile(r"^([0-9]+(ms|s|m|h))+$")
# Hetzner server names are host names (63 characters); the autoscaler names
# its servers "<pool>-<up to 16 hex digits>" (hetzner_node_group.go newNodeName).
SERVER_SUFFIX = 17
MAX_SERVER_NAME = 63

NOT_OFFERED = {
    "ovh": ("OVHcloud's cluster-autoscaler provider (ovhcloud) only scales the node pools of an OVHcloud "
            "Managed Kubernetes cluster, not VPS or Public Cloud instances of a cluster built here"),
    "scaleway": ("Scaleway's cluster-autoscaler provider only scales the pools of a Kapsule (managed "
                 "Kubernetes) cluster, not Instances of a cluster built here"),
    "existing": "existing machines cannot be created or removed on demand",
}
OFFERED = ("give the group a fixed count (scale it with `pulumi up`), or move the elastic part to a hetzner "
           "group with minReplicas/maxReplicas (Hetzner Cloud is the provider whose servers the "
           "cluster-autoscaler creates here)")


class AutoscalerSpec(SpecModel):
    """How the cluster-autoscaler runs when some group is autoscaled."""

    # How long a node must be unneeded before it is removed, and how long
    # after a scale-up no scale-down is considered (--scale-down-* flags).
    scale_down_unneeded_time: str = "10m"
    scale_down_delay_after_add: str = "10m"
    # Ceiling of what the autoscaled groups may cost per month at their
    # maxReplicas (EUR, list prices of the catalog or a group's monthlyCost).
    max_monthly_cost: Decimal | None = Field(default=None, gt=0)
    # Escape hatch: merged last into the cluster-autoscaler chart values.
    values: dict[str, Any] = Field(default_factory=dict)

    @field_validator("scale_down_unneeded_time", "scale_down_delay_after_add")
    @classmethod
    def _duration(cls, value: str) -> str:
        if not _DURATION.match(value):
            raise ValueError(f"{value!r} is not a duration; use e.g. '10m', '90s' or '1h30m'")
        return value


def is_autoscaled(group) -> bool:
    """More nodes allowed than the static floor: the autoscaler owns the rest."""
    return group.max_replicas is not None and group.max_replicas > group.size


def autoscaled_groups(spec) -> dict[str, Any]:
    return {name: g for name, g in spec.node_groups.items() if is_autoscaled(g)}


def pool_name(spec, group: str) -> str:
    """The cluster-autoscaler node group (and Hetzner server name prefix)."""
    return f"{spec.name}-{group}"


@reads("name", "distribution", "version", "network.meshCidr", "autoscaler.maxMonthlyCost", "cost.catalogOverrides",
       *(f"nodeGroups.*.{key}" for key in ("provider", "region", "instanceType", "count", "minReplicas", "maxReplicas",
                                           "roles", "gpus", "privateNetwork", "monthlyCost", "publishedPorts",
                                           "meshBlock", "hosts")))
def check_autoscaling(spec, catalog) -> Iterable[SpecIssue]:
    """Autoscaling only where an autoscaler can create the servers and the
    new servers can join; the ceiling within ``autoscaler.maxMonthlyCost``."""
    scaled = {}
    for name, g in spec.node_groups.items():
        path = f"nodeGroups.{name}"
        if g.max_replicas is None or g.provider == "existing":
            continue  # existing groups: check_groups refuses the fields themselves
        if g.provider != "hetzner":
            if is_autoscaled(g):
                yield SpecIssue(f"{path}.maxReplicas", f"{NOT_OFFERED[g.provider]}: {g.provider} groups cannot "
                                "be autoscaled", OFFERED)
            continue
        if is_autoscaled(g):
            scaled[name] = g
    for name, g in scaled.items():
        yield from _hetzner_group(spec, name, g)
    ports = {name: sorted(set(g.published_ports)) for name, g in scaled.items()}
    if len({tuple(p) for p in ports.values()}) > 1:
        yield SpecIssue(f"nodeGroups.{list(scaled)[1]}.publishedPorts", f"autoscaled groups publish different ports "
                        f"({ports}), but the autoscaler gives all its servers one firewall",
                        "publish the same ports on every autoscaled group")
    if scaled:
        yield from _control_plane_reach(spec, scaled)
        yield from _ceiling(spec, scaled, catalog)
        yield from _pinned_image(spec)


def _pinned_image(spec) -> Iterable[SpecIssue]:
    # Imported here: the autoscaling package builds on the spec.
    from components.autoscaling.versions import IMAGE_TAGS, image_tag

    if image_tag(spec.kubernetes_version) is None:
        pinned = ", ".join(f"{a}.{b}" for a, b in sorted(IMAGE_TAGS))
        yield SpecIssue("version", f"no cluster-autoscaler image is pinned for Kubernetes "
                        f"{'.'.join(map(str, spec.kubernetes_version[:2]))} (its scheduler simulation must match "
                        f"the cluster's minor); pinned: {pinned}",
                        "use one of those minors, or pin the image in components/autoscaling/versions.py")


def _hetzner_group(spec, name: str, g) -> Iterable[SpecIssue]:
    path = f"nodeGroups.{name}"
    if g.roles != ["worker"]:
        yield SpecIssue(f"{path}.roles", f"an autoscaled group adds and removes nodes on demand; roles {g.roles} "
                        "would change the control plane or etcd membership with load",
                        "give the autoscaled group roles [worker] and keep control planes in counted groups")
    if spec.distribution != "k3s":
        yield SpecIssue(f"{path}.maxReplicas", "autoscaled nodes join with the K3s agent token; kubeadm joins "
                        "need short-lived bootstrap tokens that a server created hours later cannot hold",
                        "use distribution k3s, or a fixed count for this group")
    if not g.private_network:
        yield SpecIssue(f"{path}.privateNetwork", "an autoscaled server registers in the mesh through the "
                        "Kubernetes API over the Hetzner private network (it is not in the mesh yet)",
                        "set privateNetwork: true on this group")
    from components.autoscaling.slots import dynamic_slots

    if g.max_replicas is not None and g.region and len(dynamic_slots(spec, name)) < g.max_replicas - g.size:
        yield SpecIssue(f"{path}.maxReplicas", f"{g.max_replicas} nodes do not fit the mesh blocks of the group "
                        "(offsets .0 and .255 are never used)", "lower maxReplicas by 2, or below 254 per block")
    if len(pool_name(spec, name)) + SERVER_SUFFIX > MAX_SERVER_NAME:
        yield SpecIssue(path, f"the autoscaler names servers '{pool_name(spec, name)}-<16 hex digits>', longer "
                        f"than the {MAX_SERVER_NAME} characters of a host name",
                        "shorten the cluster name or the group name")


def _control_plane_reach(spec, scaled) -> Iterable[SpecIssue]:
    reachable = [n for n, g in spec.node_groups.items()
                 if "control-plane" in g.roles and g.provider == "hetzner" and g.private_network and g.size > 0]
    if not reachable:
        first = next(iter(scaled))
        yield SpecIssue(f"nodeGroups.{first}.privateNetwork",
                        "no control plane is on the Hetzner private network, so a new autoscaled server cannot "
                        "reach the Kubernetes API to register in the mesh",
                        "put at least one control-plane group on hetzner with privateNetwork: true")


def monthly_price(group, catalog) -> Decimal | None:
    if group.monthly_cost is not None:
        return group.monthly_cost
    itype = catalog.instance_type(group.provider, group.instance_type) if group.instance_type else None
    if itype is None:
        return None  # check_groups reports the unknown type
    return itype.region_prices.get(group.region, itype.monthly_price)


def ceiling(spec, catalog) -> Decimal:
    """Monthly cost of every autoscaled group at maxReplicas."""
    total = Decimal(0)
    for g in autoscaled_groups(spec).values():
        price = monthly_price(g, catalog)
        total += (price or Decimal(0)) * g.max_replicas
    return total


def _ceiling(spec, scaled, catalog) -> Iterable[SpecIssue]:
    limit = spec.autoscaler.max_monthly_cost
    if limit is None:
        return
    total = ceiling(spec, catalog)
    if total > limit:
        parts = ", ".join(f"{n} {g.max_replicas} x {monthly_price(g, catalog)}" for n, g in scaled.items())
        yield SpecIssue("autoscaler.maxMonthlyCost",
                        f"the autoscaled groups at maxReplicas cost {total} per month ({parts}), over {limit}",
                        "lower maxReplicas or raise autoscaler.maxMonthlyCost")
