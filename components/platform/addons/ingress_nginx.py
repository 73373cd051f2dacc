"""ingress-nginx: a DaemonSet on the nodes' ports 80/443 (nodes publish them) or a
Deployment behind a LoadBalancer Service (MetalLB).

The DaemonSet takes the ports through hostPorts with Calico (portmap: DNAT on
every address) and on the host network with Cilium, whose hostPorts answer
on the mesh interface only (``components.node.ports.ingress_on_host_network``).
"""

from __future__ import annotations

from typing import Any

from ...node.ports import ingress_on_host_network
from ..chart_values import IngressNginxValues, typed
from ..charts import CHARTS
from ..model import AddonPlan, PlatformContext, Release, Workload
from ..objects import namespace
from ..profiles import replicas, requests
from ..values import deep_merge

GROUP_LABEL = "sovereign.cloud/node-group"


def values(ctx: PlatformContext) -> dict[str, Any]:
    spec = ctx.addons.ingress_nginx
    daemonset = spec.kind == "DaemonSet"
    host_network = ingress_on_host_network(ctx.spec)
    controller: dict[str, Any] = {
        "kind": spec.kind,
        "ingressClassResource": {"name": spec.class_name, "default": True},
        "ingressClass": spec.class_name,
        "hostPort": {"enabled": daemonset and not host_network},
        "service": {"type": "LoadBalancer" if ctx.addons.metallb.enabled else ("ClusterIP" if daemonset else "NodePort")},
        "resources": requests(ctx.profile, "ingress-nginx"),
        "metrics": {"enabled": ctx.addons.monitoring.enabled,
                    "serviceMonitor": {"enabled": ctx.addons.monitoring.enabled}},
    }
    if host_network:
        # Cluster DNS still answers the controller (the chart's own advice with hostNetwork).
        controller |= {"hostNetwork": True, "dnsPolicy": "ClusterFirstWithHostNet"}
    if not daemonset:
        controller["replicaCount"] = replicas(ctx.profile, spec.replicas)
    if spec.node_groups:
        controller["affinity"] = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
            "nodeSelectorTerms": [{"matchExpressions": [
                {"key": GROUP_LABEL, "operator": "In", "values": list(spec.node_groups)}]}]}}}
    if ctx.priority(critical=True):
        controller["priorityClassName"] = ctx.priority(critical=True)
    return typed(IngressNginxValues, {"controller": controller})


def plan(ctx: PlatformContext) -> AddonPlan:
    unknown = [g for g in ctx.addons.ingress_nginx.node_groups if g not in ctx.spec.node_groups]
    if unknown:
        raise ValueError(f"addons.ingressNginx.nodeGroups: unknown node group(s) {unknown}; "
                         f"known: {sorted(ctx.spec.node_groups)}")
    chart = CHARTS["ingress-nginx"]
    v = deep_merge(values(ctx), ctx.addons.ingress_nginx.values)
    ns = namespace(chart.namespace)
    after = [ns.key] + (["kube-prometheus-stack"] if ctx.addons.monitoring.enabled else [])
    kind = v["controller"]["kind"]
    workload = Workload("ingress-nginx", "ingress-nginx-controller", kind, ("controller", "resources"),
                        replicas=v["controller"].get("replicaCount", 1),
                        placement="workers" if kind == "DaemonSet" else "any",
                        groups=tuple(ctx.addons.ingress_nginx.node_groups))
    return AddonPlan("ingressNginx", releases=[Release("ingress-nginx", chart, v, after=after)],
                     manifests=[ns], workloads=[workload])
