"""The per-node memory table: every pod the cluster runs, placed node by node.

``platform.sizing`` sums an upper bound (each platform Deployment counted on
every node it may land on); with OpenStack on 4 GB nodes that bound says
nothing fits, although a placement exists. This table places instead:

- DaemonSets on every node they may run on (``sizing.eligible``), the
  OpenStack agents on the nodes of their role (``labels.py``);
- on compute nodes, the instances' memory (``openstack.compute.vmMemory``)
  as a placeholder pod that requests it (``plan.vm_reservation``): the
  scheduler counts it, so pods never take the instances' memory;
- every Deployment/StatefulSet replica (platform, Ceph, OpenStack, the
  distribution's CoreDNS and metrics-server), the most constrained first
  (fewest eligible nodes), then the largest, on the eligible node with the
  most memory left, replicas of one workload on distinct nodes (worst-fit
  decreasing: it spreads the headroom).

A node's capacity is its memory minus kube-reserved, system-reserved and
the eviction threshold. The spec is refused when a replica fits nowhere or
a node keeps less than ``HEADROOM_MIB`` (room for OpenStack-Helm's jobs and
spikes). The scheduler will not reproduce this exact placement, but it
never overcommits requests: the table proves a placement exists in which
every node keeps its headroom.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from components.platform.model import AddonPlan, NodeFacts, Workload
from components.platform.values import cpu_millis, memory_mib

HEADROOM_MIB = 128
SPREAD_KINDS = ("Deployment", "StatefulSet")


@dataclass
class NodeRow:
    node: str
    group: str
    capacity_mib: float | None
    """Node memory minus the kubelet reservations (None: memory unknown)."""
    memory_mib: float = 0.0
    cpu_millis: int = 0
    pods: list[str] = field(default_factory=list)

    @property
    def left_mib(self) -> float | None:
        return None if self.capacity_mib is None else self.capacity_mib - self.memory_mib

    def add(self, name: str, requests: dict) -> None:
        self.memory_mib += memory_mib(requests.get("memory"))
        self.cpu_millis += cpu_millis(requests.get("cpu"))
        self.pods.append(name)

    def to_dict(self) -> dict:
        return {"node": self.node, "group": self.group, "capacity_mib": self.capacity_mib,
                "memory_mib": round(self.memory_mib, 1), "cpu_millis": self.cpu_millis,
                "left_mib": None if self.left_mib is None else round(self.left_mib, 1), "pods": list(self.pods)}


@dataclass
class MemoryTable:
    rows: list[NodeRow]
    unplaced: list[tuple[str, float]]
    """(workload, memory MiB) of every replica that fits on no node."""

    def row(self, node: str) -> NodeRow:
        return next(r for r in self.rows if r.node == node)

    @property
    def short(self) -> list[NodeRow]:
        """Nodes keeping less than the headroom."""
        return [r for r in self.rows if r.left_mib is not None and r.left_mib < HEADROOM_MIB]


def place(nodes: tuple[NodeFacts, ...], plans: list[AddonPlan], capacity: dict[str, float],
          requests_of) -> MemoryTable:
    """Place every workload of ``plans`` (``requests_of(plans, w)``: its requests)."""
    from components.platform.sizing import eligible

    rows = {n.name: NodeRow(n.name, n.group, capacity.get(n.group)) for n in nodes}
    replicas: list[tuple[Workload, dict, int]] = []
    for w in (w for p in plans for w in p.workloads):
        where = eligible(w, nodes)
        req = w.requests if w.requests is not None else requests_of(plans, w)
        if w.kind == "DaemonSet":
            for n in where:
                rows[n.name].add(w.name, req)
        else:
            replicas += [(w, req, i) for i in range(w.replicas)]
    unplaced = []
    # The most constrained first (fewest eligible nodes: an API pinned to
    # the control planes before a Deployment that may go anywhere), then the
    # largest; ties in plan order (stable sort).
    replicas.sort(key=lambda item: (len(eligible(item[0], nodes)), -memory_mib(item[1].get("memory"))))
    taken: dict[str, set[str]] = {}
    for w, req, _ in replicas:
        need = memory_mib(req.get("memory"))
        used = taken.setdefault(f"{w.release}/{w.name}", set())
        candidates = [rows[n.name] for n in eligible(w, nodes) if n.name not in used]
        fitting = [r for r in candidates if r.left_mib is None or r.left_mib >= need]
        if not fitting:
            unplaced.append((w.name, need))
            continue
        best = max(fitting, key=lambda r: float("inf") if r.left_mib is None else r.left_mib)
        best.add(w.name, req)
        used.add(best.node)
    return MemoryTable([rows[n.name] for n in nodes], unplaced)


def format_table(table: MemoryTable) -> str:
    """One line per node group (the node with the least left shown)."""
    from stacks.plan.report import format_table as text_table

    worst: dict[str, NodeRow] = {}
    for r in table.rows:
        if r.group not in worst or (r.left_mib or 0) < (worst[r.group].left_mib or 0):
            worst[r.group] = r
    lines = []
    for group, r in worst.items():
        left = "?" if r.left_mib is None else f"{r.left_mib:.0f}Mi" + (" (short!)" if r.left_mib < HEADROOM_MIB else "")
        lines.append({"group": group, "requests": f"{r.memory_mib:.0f}Mi", "cpu": f"{r.cpu_millis}m",
                      "capacity": "?" if r.capacity_mib is None else f"{r.capacity_mib:.0f}Mi",
                      "left": left, "pods": len(r.pods)})
    out = text_table(lines, ("group", "requests", "cpu", "capacity", "left", "pods"))
    if table.unplaced:
        out.append("does not fit: " + ", ".join(f"{name} ({mib:.0f}Mi)" for name, mib in table.unplaced))
    return "\n".join(out)
