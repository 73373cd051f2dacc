"""Summed resource requests of everything the project installs, per node.

Read from the final values (the project's typed values with the ``values``
escape hatch merged), at each workload's ``resources`` path, so a user
override changes the sum too.

Assumptions (an upper bound per node):
- a DaemonSet counts once on every node it may run on (``all``: every node
  with a kubelet; ``workers``: worker nodes; ``gpu``: GPU nodes; narrowed
  by the workload's node groups);
- a Deployment or StatefulSet of R replicas counts ceil(R / N) on each of
  its N eligible nodes (worker nodes without a NoSchedule/NoExecute taint,
  narrowed by node groups) - as if every node hosted its share of *every*
  platform Deployment at once. On a one-node cluster that is all of them.
Memory left for workloads = node memory - kube-reserved - system-reserved -
the eviction threshold - the platform's requests.

Every container the project causes counts: the sidecars of the charts it
installs have their requests set in the values (config-reloaders, Grafana's
sidecars, MetalLB's FRR containers), and the add-ons the distribution
bundles (``BUNDLED``: CoreDNS, K3s's metrics-server), whose requests the
project does not set, count with their manifests' own requests. Init
containers and Jobs (chart hooks) are not counted: they end before the
pods' steady state.
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass

from .model import AddonPlan, NodeFacts, PlatformContext, Workload
from .values import cpu_millis, get_path, memory_mib

REPELLING = ("NoSchedule", "NoExecute")
MIN_LEFT_FOR_WORKLOADS_MIB = 1024


@dataclass(frozen=True)
class Bundled:
    """A pod the distribution deploys itself, with its manifest's requests."""

    name: str
    kind: str
    replicas: int
    cpu: str
    memory: str


# K3s: manifests/coredns.yaml and manifests/metrics-server/
# metrics-server-deployment.yaml (100m / 70Mi each; its local-path-provisioner
# sets no requests). kubeadm: the CoreDNS Deployment of its addon phase, two
# replicas of 100m / 70Mi. Control-plane static pods (kubeadm) are not
# platform pods and are left out.
BUNDLED: dict[str, tuple[Bundled, ...]] = {
    "k3s": (Bundled("coredns", "Deployment", 1, "100m", "70Mi"),
            Bundled("metrics-server", "Deployment", 1, "100m", "70Mi")),
    "kubeadm": (Bundled("coredns", "Deployment", 2, "100m", "70Mi"),),
}


@dataclass(frozen=True)
class NodeRequests:
    node: str
    group: str
    cpu_millis: int
    memory_mib: float
    workloads: tuple[str, ...]
    node_memory_mib: float | None = None
    reserved_mib: float = 0.0

    @property
    def left_for_workloads_mib(self) -> float | None:
        if self.node_memory_mib is None:
            return None
        return self.node_memory_mib - self.reserved_mib - self.memory_mib

    def to_dict(self) -> dict:
        return asdict(self) | {"left_for_workloads_mib": self.left_for_workloads_mib}


def eligible(w: Workload, nodes: tuple[NodeFacts, ...]) -> list[NodeFacts]:
    out = list(nodes)
    if w.groups:
        out = [n for n in out if n.group in w.groups]
    if w.nodes:
        out = [n for n in out if n.name in w.nodes]
    if w.placement == "gpu":
        return [n for n in out if n.is_gpu]
    if w.placement == "all":
        return out
    # "workers" and "any": schedulable workers (platform pods tolerate no taint).
    return [n for n in out if "worker" in n.roles and not any(t["effect"] in REPELLING for t in n.taints)]


def _resources(plans: list[AddonPlan], w: Workload) -> dict:
    for p in plans:
        for item in p.items:
            if item.key == w.release:
                source = item.values if hasattr(item, "values") else item.obj
                found = get_path(source, w.path)
                if not isinstance(found, dict) or "requests" not in found:
                    raise ValueError(f"{w.name}: no resources.requests at {w.path} of {w.release}")
                return found["requests"]
    raise ValueError(f"{w.name}: {w.release} is not installed")


def reserved_mib(spec) -> float:
    """kube-reserved + system-reserved + the hard eviction threshold (memory)."""
    total = 0.0
    reserved = spec.kubernetes.reserved
    for text in (reserved.kube_reserved, reserved.system_reserved):
        m = re.search(r"memory=([0-9.]+[A-Za-z]*)", text)
        total += memory_mib(m.group(1)) if m else 0
    m = re.search(r"memory\.available<([0-9.]+[A-Za-z]*)", reserved.eviction_hard)
    if m and not m.group(1).endswith("%"):
        total += memory_mib(m.group(1))
    return total


def requests_per_node(ctx: PlatformContext, plans: list[AddonPlan],
                      node_memory_mib: dict[str, float] | None = None) -> list[NodeRequests]:
    """Summed requests per node (``node_memory_mib``: group -> memory, when known)."""
    cpu = {n.name: 0 for n in ctx.nodes}
    mem = {n.name: 0.0 for n in ctx.nodes}
    names: dict[str, list[str]] = {n.name: [] for n in ctx.nodes}
    bundled = {b.name: {"cpu": b.cpu, "memory": b.memory} for b in BUNDLED.get(ctx.spec.distribution, ())}
    counted = [w for p in plans for w in p.workloads]
    counted += [Workload("", b.name, b.kind, (), replicas=b.replicas) for b in BUNDLED.get(ctx.spec.distribution, ())]
    for w in counted:
        where = eligible(w, ctx.nodes)
        if not where:
            continue
        req = w.requests if w.requests is not None else bundled[w.name] if not w.release else _resources(plans, w)
        per_node = 1 if w.kind == "DaemonSet" else math.ceil(w.replicas / len(where))
        for n in where:
            cpu[n.name] += cpu_millis(req.get("cpu")) * per_node
            mem[n.name] += memory_mib(req.get("memory")) * per_node
            names[n.name].append(w.name if per_node == 1 else f"{w.name}x{per_node}")
    reserved = reserved_mib(ctx.spec)
    memory = node_memory_mib or {}
    return [NodeRequests(n.name, n.group, cpu[n.name], round(mem[n.name], 1), tuple(names[n.name]),
                         memory.get(n.group), reserved) for n in ctx.nodes]


def group_memory_from_catalog(spec, catalog) -> dict[str, float]:
    out = {}
    for name, group in spec.node_groups.items():
        it = catalog.instance_type(group.provider, group.instance_type) if group.instance_type and not group.is_existing else None
        if it is not None:
            out[name] = it.memory_gb * 1024
        elif group.is_existing and group.memory_gb is not None:
            # Existing hosts: the memory the spec declares (nodeGroups.*.memoryGb).
            out[name] = group.memory_gb * 1024
    return out


def format_requests(rows: list[NodeRequests]) -> str:
    """One line per node group (its nodes are identical), worst node shown."""
    from stacks.plan.report import format_table

    by_group: dict[str, NodeRequests] = {}
    for r in rows:
        if r.group not in by_group or r.memory_mib > by_group[r.group].memory_mib:
            by_group[r.group] = r
    table = []
    for g, r in by_group.items():
        left = r.left_for_workloads_mib
        table.append({
            "group": g, "cpu": f"{r.cpu_millis}m", "memory": f"{r.memory_mib:.0f}Mi",
            "node_memory": "?" if r.node_memory_mib is None else f"{r.node_memory_mib:.0f}Mi",
            "reserved": f"{r.reserved_mib:.0f}Mi",
            "left": "?" if left is None else f"{left:.0f}Mi" + ("" if left >= MIN_LEFT_FOR_WORKLOADS_MIB else " (< 1Gi!)"),
            "pods": len(r.workloads),
        })
    cols = ("group", "cpu", "memory", "node_memory", "reserved", "left", "pods")
    return "\n".join(format_table(table, cols))


def resources_per_node(spec, catalog=None) -> list[NodeRequests]:
    """Plan-time sum for a spec (no cluster needed): the nodes the topology
    plans, node memory from the catalog where the instance type is known."""
    from .context import context_from_spec
    from .plan import platform_plans

    ctx = context_from_spec(spec)
    memory = group_memory_from_catalog(spec, catalog) if catalog is not None else {}
    return requests_per_node(ctx, platform_plans(ctx), memory)
