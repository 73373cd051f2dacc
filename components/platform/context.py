"""The PlatformContext from the cluster contract (program) or from the spec alone (plan)."""

from __future__ import annotations

from components.cluster.common.endpoint import LOCAL_LB_HOST, LOCAL_LB_PORT
from components.cluster.contract import KubernetesCluster

from .model import NodeFacts, PlatformContext


def kube_nodes(nodes) -> tuple[NodeFacts, ...]:
    """Nodes that run a kubelet (dedicated etcd members do not)."""
    return tuple(
        NodeFacts(n.name, n.group, tuple(n.roles), dict(n.labels), tuple(n.taints), n.gpus)
        for n in nodes if "control-plane" in n.roles or "worker" in n.roles
    )


def context_from_cluster(spec, cluster: KubernetesCluster, nodes, secrets=None) -> PlatformContext:
    return PlatformContext(
        spec=spec,
        mesh_mtu=int(cluster.mesh_mtu),
        # The API as every node reaches it: the cluster's node-local balancer.
        api_host=cluster.api_host,
        api_port=cluster.api_port,
        kube_proxy=cluster.kube_proxy,
        pod_cidr=cluster.pod_cidr,
        nodes=kube_nodes(nodes),
        priority_classes=cluster.priority_classes,
        etcd_metrics=cluster.etcd_metrics,
        secrets=dict(secrets or {}),
    )


def context_from_spec(spec) -> PlatformContext:
    """Plan-time context: the nodes the topology plans, the mesh MTU the mesh would compute."""
    from components.mesh.mtu import mesh_mtu
    from components.topology.plan import plan_nodes

    planned = plan_nodes(spec)
    override = None if spec.network.mtu == "auto" else spec.network.mtu
    underlays = [p.host.underlay_mtu if getattr(p, "host", None) else 1500 for p in planned] or [1500]
    return PlatformContext(
        spec=spec,
        mesh_mtu=mesh_mtu(underlays, override=override),
        api_host=LOCAL_LB_HOST,
        api_port=LOCAL_LB_PORT,
        kube_proxy=spec.kubernetes.kube_proxy,
        pod_cidr=str(spec.network.pod_cidr),
        nodes=kube_nodes(planned),
    )
