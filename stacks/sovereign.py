"""The composition: spec -> node pools -> (mesh -> cluster -> platform)."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from components.autoscaling.reach import api_join_sources
from components.compute.existing import ExistingNodes
from components.compute.hetzner import HetznerNodes
from components.compute.node import Node
from components.fleet.ports import connected_cidrs, gateway_udp_ports, tunnel_interfaces
from components.compute.ovh import OvhNodes
from components.compute.scaleway import ScalewayNodes
from components.cluster.common.endpoint import API_PORT
from components.cluster.contract import KubernetesCluster
from components.mesh.wireguard import INTERFACE, WireGuardMesh
from components.node.baseline import NodeBaseline
from components.node.ports import cluster_ports
from components.platform import Platform
from components.spec import ClusterSpec
from components.topology.plan import plan_nodes

POOLS = {
    "hetzner": HetznerNodes,
    "ovh": OvhNodes,
    "scaleway": ScalewayNodes,
    "existing": ExistingNodes,
}


@dataclass
class Cloud:
    spec: ClusterSpec
    nodes: list[Node]
    baseline: NodeBaseline
    mesh: WireGuardMesh

    def node_table(self) -> list[dict]:
        """Plain (non-secret) facts about every node, for outputs and the plan."""
        return [
            {
                "name": n.name,
                "provider": n.provider,
                "region": n.region,
                "instance_type": n.instance_type,
                "roles": list(n.roles),
                "mesh_ip": n.mesh_ip,
                "public_address": n.public_address,
                "gpus": n.gpus,
            }
            for n in self.nodes
        ]


def build_cloud(spec: ClusterSpec, *, ssh_private_key: pulumi.Output[str], catalog) -> Cloud:
    planned = plan_nodes(spec)
    nodes_by_name: dict[str, Node] = {}
    for provider, pool_class in POOLS.items():
        mine = [p for p in planned if p.provider == provider]
        if not mine:
            continue
        pool = pool_class(
            f"{spec.name}-{provider}",
            {"spec": spec, "nodes": mine, "ssh_private_key": ssh_private_key, "catalog": catalog},
        )
        nodes_by_name.update({n.name: n for n in pool.nodes})
    # Keep the spec's order, whatever order the pools were built in.
    nodes = [nodes_by_name[p.name] for p in planned]
    baseline = build_baseline(spec, nodes)
    mesh = WireGuardMesh(f"{spec.name}-mesh", {
        "nodes": nodes,
        "mesh_prefix": spec.network.mesh_cidr.prefixlen,
        "listen_port": spec.network.wireguard_port,
        "mtu": None if spec.network.mtu == "auto" else spec.network.mtu,
        "after": {name: [cmd] for name, cmd in baseline.ready.items()},
    })
    return Cloud(spec=spec, nodes=nodes, baseline=baseline, mesh=mesh)


def build_baseline(spec: ClusterSpec, nodes: list[Node]) -> NodeBaseline:
    tcp, udp = cluster_ports(spec)
    published = {n.name: spec.node_groups[n.group].published_ports for n in nodes}
    return NodeBaseline(f"{spec.name}-baseline", {
        "nodes": nodes,
        "mesh_cidr": str(spec.network.mesh_cidr),
        "mesh_interface": INTERFACE,
        "wireguard_port": spec.network.wireguard_port,
        "ssh_source_cidrs": [str(c) for c in spec.network.ssh_source_cidrs],
        "airgap": spec.kubernetes.airgap.enabled,
        "artifacts_dir": spec.kubernetes.airgap.artifacts_dir,
        "published_ports": published,
        # The API for operators and CI outside the mesh: control planes only.
        "api_port": API_PORT,
        "api_source_cidrs": {n.name: [str(c) for c in spec.kubernetes.api_source_cidrs] + api_join_sources(spec, n)
                             for n in nodes if n.is_control_plane},
        "cluster_tcp_ports": tcp,
        "cluster_udp_ports": udp,
        "pod_cidr": str(spec.network.pod_cidr),
        # A fleet member's Submariner gateway and connected clusters (components/fleet/ports.py).
        "published_udp_ports": {n.name: gateway_udp_ports(spec, n.group) for n in nodes},
        "connected_cidrs": connected_cidrs(spec),
        "tunnel_interfaces": tunnel_interfaces(spec),
    })


def build_cluster(
    spec: ClusterSpec,
    cloud: Cloud,
    *,
    etcd_s3_credentials: tuple[pulumi.Output[str], pulumi.Output[str]] | None = None,
) -> KubernetesCluster:
    """Kubernetes over the mesh: every node's cluster commands wait for its mesh."""
    after = {name: [cmd] for name, cmd in cloud.mesh.ready.items()}
    if spec.distribution == "k3s":
        from components.cluster.k3s import K3sCluster

        return K3sCluster(f"{spec.name}", {
            "spec": spec, "nodes": cloud.nodes, "after": after, "mesh_mtu": cloud.mesh.mtu,
            "etcd_s3_credentials": etcd_s3_credentials,
        }).cluster
    from components.cluster.kubeadm import KubeadmCluster

    etcd = None
    etcd_nodes = [n for n in cloud.nodes if n.is_etcd and not n.is_control_plane]
    if etcd_nodes:
        # Dedicated etcd members (seed 000): their own PKI and TLS, before
        # any control plane.
        from components.cluster.etcd import ExternalEtcd

        etcd = ExternalEtcd(f"{spec.name}-etcd", {
            "nodes": etcd_nodes, "after": {n.name: after[n.name] for n in etcd_nodes},
            "snapshots": spec.kubernetes.etcd_snapshots,
            "s3_credentials": etcd_s3_credentials,
            "airgap": spec.kubernetes.airgap.enabled,
            "artifacts_dir": spec.kubernetes.airgap.artifacts_dir,
        })
    return KubeadmCluster(f"{spec.name}", {
        "spec": spec, "nodes": cloud.nodes, "after": after, "mesh_mtu": cloud.mesh.mtu, "etcd": etcd,
        # Stacked etcd: the control planes snapshot it (spec.kubernetes.etcdSnapshots).
        "etcd_s3_credentials": etcd_s3_credentials,
    }).cluster


def build_platform(
    spec: ClusterSpec,
    cluster: KubernetesCluster,
    nodes: list[Node],
    *,
    gitops_repo_ssh_key: pulumi.Output[str] | None = None,
    data_secrets: dict[str, pulumi.Output[str]] | None = None,
    fleet_secrets: dict[str, pulumi.Output[str]] | None = None,
) -> Platform:
    """CNI and the enabled add-ons, through the cluster's provider, after it
    is ready. ``data_secrets``: the data services' credentials by platform
    secret name (``components/data/secrets.py``)."""
    from components.platform import build_platform as platform_for
    from components.platform.addons.gitops import REPO_SSH_KEY

    secrets = {} if gitops_repo_ssh_key is None else {REPO_SSH_KEY: gitops_repo_ssh_key}
    secrets |= data_secrets or {}
    # A spoke's: what the fleet hub's stack exported (stacks/fleet.py).
    secrets |= fleet_secrets or {}
    return platform_for(spec, cluster, nodes, secrets=secrets)


def build_autoscaler(spec: ClusterSpec, cloud: Cloud, cluster: KubernetesCluster, *,
                     hcloud_token: pulumi.Output[str] | None, after: list[pulumi.Resource]):
    """The Hetzner cluster-autoscaler and the mesh registry of its servers
    (components/autoscaling/), or None when no group is autoscaled."""
    if hcloud_token is None:
        return None
    from components.autoscaling.component import ClusterAutoscaler

    return ClusterAutoscaler(f"{spec.name}-autoscaler", {
        "spec": spec, "nodes": cloud.nodes, "public_keys": cloud.mesh.public_keys, "mesh_mtu": cloud.mesh.mtu,
        "cluster": cluster, "hcloud_token": hcloud_token, "after": after,
    })


def build_openstack(spec: ClusterSpec, cluster: KubernetesCluster, nodes: list[Node], platform: Platform, *,
                    catalog):
    """OpenStack-Helm on the platform's Rook-Ceph (components/openstack/),
    after the whole platform, or None when ``openstack`` is off."""
    if not spec.openstack.enabled:
        return None
    from components.openstack.component import OpenStackHelm

    return OpenStackHelm(f"{spec.name}-openstack", {
        "spec": spec, "provider": cluster.provider, "nodes": list(nodes), "platform": platform,
        "catalog": catalog, "after": [*cluster.ready, platform],
    })
