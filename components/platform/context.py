"""The PlatformContext from the cluster contract (program) or from the spec alone (plan)."""

from __future__ import annotations

from urllib.parse import urlparse

from .model import NodeFacts, PlatformContext

DEFAULT_LOCAL_API = ("127.0.0.1", 7445)


def kube_nodes(nodes) -> tuple[NodeFacts, ...]:
    """Nodes that run a kubelet (dedicated etcd members do not)."""
    return tuple(
        NodeFacts(n.name, n.group, tuple(n.roles), dict(n.labels), tuple(n.taints), n.gpus)
        for n in nodes if "control-plane" in n.roles or "worker" in n.roles
    )


def api_host_port(cluster) -> tuple[str, int]:
    """The API as every node reaches it: the contract's node-local load
    balancer when the cluster layer provides one, else its api_endpoint."""
    host, port = getattr(cluster, "api_host", None), getattr(cluster, "api_port", None)
    if host and port:
        return str(host), int(port)
    endpoint = getattr(cluster, "api_endpoint", None)
    if isinstance(endpoint, str) and endpoint:
        parsed = urlparse(endpoint if "://" in endpoint else f"https://{endpoint}")
        if parsed.hostname:
            return parsed.hostname, parsed.port or 6443
    return DEFAULT_LOCAL_API


def context_from_cluster(spec, cluster, nodes, secrets=None) -> PlatformContext:
    host, port = api_host_port(cluster)
    return PlatformContext(
        spec=spec,
        mesh_mtu=int(cluster.mesh_mtu),
        api_host=host,
        api_port=port,
        kube_proxy=bool(getattr(cluster, "kube_proxy", spec.kubernetes.kube_proxy)),
        pod_cidr=str(cluster.pod_cidr or spec.network.pod_cidr),
        nodes=kube_nodes(nodes),
        priority_classes=tuple(getattr(cluster, "priority_classes", ()) or ()),
        secrets=dict(secrets or {}),
    )


def context_from_spec(spec) -> PlatformContext:
    """Plan-time context: the nodes the topology plans, the mesh MTU the mesh would compute."""
    from components.mesh.mtu import mesh_mtu
    from components.topology.plan import plan_nodes

    planned = plan_nodes(spec)
    override = None if spec.network.mtu == "auto" else spec.network.mtu
    underlays = [p.host.underlay_mtu if getattr(p, "host", None) else 1500 for p in planned] or [1500]
    try:
        from components.cluster.common.endpoint import LOCAL_LB_HOST, LOCAL_LB_PORT
        host, port = LOCAL_LB_HOST, LOCAL_LB_PORT
    except ImportError:  # cluster layer without a node-local load balancer
        host, port = DEFAULT_LOCAL_API
    return PlatformContext(
        spec=spec,
        mesh_mtu=mesh_mtu(underlays, override=override),
        api_host=host,
        api_port=port,
        kube_proxy=spec.kubernetes.kube_proxy,
        pod_cidr=str(spec.network.pod_cidr),
        nodes=kube_nodes(planned),
    )
