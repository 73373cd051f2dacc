"""ClusterAutoscaler: the Hetzner cluster-autoscaler and the mesh registry.

Created after the cluster is ready (every static node joined):

1. the registry (namespace ``sovereign-mesh``): a read-only Role for every
   kubelet (group ``system:nodes``), the ``mesh-registrar`` ServiceAccount
   autoscaled servers use, the static peers ConfigMap, one script bundle
   ConfigMap per autoscaled group;
2. on every static node, the registry agent (mesh-sync.sh on a timer),
   whose delete path removes the autoscaled peers it added;
3. the K3s join token (read from the first control plane, a secret), the
   ``cluster-autoscaler-hetzner`` Secret (API token, cluster config with
   each pool's user data, labels and taints) and the pinned chart, last:
   no server is created before every static node follows the registry.
"""

from __future__ import annotations

import base64
import hashlib
from typing import TypedDict

import pulumi
import pulumi_command as command
import pulumi_hcloud as hcloud
import pulumi_kubernetes as k8s
import yaml

from components.cluster.common.access import SCRIPTS as ACCESS_SCRIPTS
from components.cluster.contract import KubernetesCluster
from components.compute.hetzner import firewall_rules
from components.compute.node import Node
from components.node.public_ports import public_ports
from components.remote.command import node_command
from components.remote.script import render_script
from components.spec.autoscaler import autoscaled_groups

from . import registry
from .bundle import group_bundle, node_labels_and_taints
from .cloud_init import render_autoscaled_user_data
from .reach import private_network_id
from .values import CONFIG_KEY, SECRET, TOKEN_KEY, chart_values, cluster_config
from .versions import CHART_NAME, CHART_REPO, CHART_VERSION, NAMESPACE as CHART_NAMESPACE

K3S_TOKEN_PATH = "/etc/rancher/k3s/cluster-token"


class ClusterAutoscalerArgs(TypedDict):
    spec: object
    nodes: list[Node]
    public_keys: dict[str, pulumi.Output[str]]
    """Mesh public key of every static node (WireGuardMesh.public_keys)."""
    mesh_mtu: int
    cluster: KubernetesCluster
    hcloud_token: pulumi.Output[str]
    """A Hetzner Cloud API token (read/write) of the project: a secret."""
    after: list[pulumi.Resource]
    """What the autoscaler's pod needs first (the platform: its CNI)."""


class ClusterAutoscaler(pulumi.ComponentResource):
    release: k8s.helm.v3.Release
    agents: dict[str, pulumi.Resource]
    """Per static node: its registry agent (mesh-sync timer)."""
    bundles: dict[str, str]
    """Per autoscaled group: the SHA-256 of its script bundle."""

    def __init__(self, name: str, args: ClusterAutoscalerArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("sovereign:autoscaling:ClusterAutoscaler", name, {}, opts)
        spec, nodes, cluster = args["spec"], args["nodes"], args["cluster"]
        groups = autoscaled_groups(spec)
        network_id = private_network_id(spec)
        k8s_opts = pulumi.ResourceOptions(parent=self, provider=cluster.provider, depends_on=list(cluster.ready))
        control_planes = [n for n in nodes if n.is_control_plane]
        reachable = [n for n in control_planes if n.private_network == network_id]

        namespace = k8s.core.v1.Namespace(f"{name}-namespace", metadata={"name": registry.NAMESPACE}, opts=k8s_opts)
        in_ns = pulumi.ResourceOptions.merge(k8s_opts, pulumi.ResourceOptions(depends_on=[namespace]))
        readers = self._role(name, "mesh-peers-read", [
            {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "verbs": ["get", "list", "watch"]},
            {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"]},
        ], {"kind": "Group", "name": "system:nodes", "apiGroup": "rbac.authorization.k8s.io"}, in_ns)
        account = k8s.core.v1.ServiceAccount(f"{name}-registrar", metadata=_meta(registry.REGISTRAR), opts=in_ns)
        registrar = self._role(name, registry.REGISTRAR, [
            {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"],
             "verbs": ["get", "list", "watch", "create", "update", "delete"]},
            {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"]},
        ], {"kind": "ServiceAccount", "name": registry.REGISTRAR, "namespace": registry.NAMESPACE}, in_ns)
        # Filled by the token controller; pulumi-kubernetes waits for it
        # (pulumi/pulumi-kubernetes#2048). A long-lived token: the servers of
        # months from now join with it (rotation: replace this Secret).
        token_secret = k8s.core.v1.Secret(
            f"{name}-registrar-token", type="kubernetes.io/service-account-token",
            metadata=_meta(f"{registry.REGISTRAR}-token",
                           annotations={"kubernetes.io/service-account.name": registry.REGISTRAR}),
            opts=pulumi.ResourceOptions.merge(in_ns, pulumi.ResourceOptions(depends_on=[account])))
        registrar_token = pulumi.Output.secret(token_secret.data.apply(
            lambda d: base64.b64decode((d or {}).get("token", "")).decode()))

        static_peers = k8s.core.v1.ConfigMap(
            f"{name}-static-peers", metadata=_meta(registry.STATIC_CONFIGMAP),
            data={"peers": _static_peers(nodes, args["public_keys"])}, opts=in_ns)

        # 2. Every static node follows the registry before any server appears.
        self.agents = {}
        for node in nodes:
            sync = registry.sync_script(spec, kubectl=registry.K3S_KUBECTL, kubeconfig=registry.K3S_KUBELET_KUBECONFIG,
                                        private_network=node.private_network)
            self.agents[node.name] = node_command(
                f"{name}-{node.name}-mesh-agent", node.ssh,
                create=registry.agent_install_script(sync), update=registry.agent_install_script(sync),
                delete=registry.agent_remove_script(),
                opts=pulumi.ResourceOptions(parent=self, depends_on=list(cluster.ready) + [readers]))

        # 3. Each pool's user data, then the autoscaler.
        k3s_token = node_command(
            f"{name}-k3s-token", control_planes[0].ssh,
            # Prints one file, like the kubeconfig it was written for.
            create=render_script(ACCESS_SCRIPTS / "read-kubeconfig.sh", {"KUBECONFIG_PATH": K3S_TOKEN_PATH}),
            logging=command.remote.Logging.NONE, add_previous_output_in_env=False,
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(cluster.ready),
                                        additional_secret_outputs=["stdout"]))
        ca_pem = cluster.kubeconfig.apply(_ca_pem)
        cps = pulumi.Output.all(*[pulumi.Output.all(n.private_address, n.mesh_ip) for n in reachable])
        self.bundles, bundle_maps, pools = {}, [], {}
        for group in groups:
            bundle = group_bundle(spec, group, control_planes=control_planes, mesh_mtu=args["mesh_mtu"],
                                  private_network=network_id)
            self.bundles[group] = bundle.sha256
            configmap = f"autoscale-{group}"
            bundle_maps.append(k8s.core.v1.ConfigMap(
                f"{name}-{group}-bundle", metadata=_meta(configmap),
                binary_data={"bundle.tar.gz": base64.b64encode(bundle.archive).decode()}, opts=in_ns))
            labels, taints = node_labels_and_taints(spec, group, network_id)
            user_data = pulumi.Output.all(cps, ca_pem, registrar_token, k3s_token.stdout).apply(
                lambda v, configmap=configmap, sha=bundle.sha256: render_autoscaled_user_data(
                    control_planes=[(p, m) for p, m in v[0]], ca_pem=v[1], registrar_token=v[2],
                    k3s_token=v[3].strip(), bundle=configmap, bundle_sha256=sha, ssh_public_key=spec.ssh.public_key))
            pools[group] = pulumi.Output.all(user_data, labels, taints).apply(
                lambda v: {"cloudInit": v[0], "labels": v[1], "taints": v[2]})
        config = pulumi.Output.secret(pulumi.Output.all(**pools).apply(lambda p: cluster_config(spec, p)))
        secret = k8s.core.v1.Secret(
            f"{name}-hcloud", metadata={"name": SECRET, "namespace": CHART_NAMESPACE},
            string_data={TOKEN_KEY: args["hcloud_token"], CONFIG_KEY: config}, opts=k8s_opts)

        firewall = self._firewall(name, spec, groups)
        values = pulumi.Output.all(config, firewall.name).apply(lambda v: chart_values(
            spec, network=f"{spec.name}-private", firewall=v[1], ssh_key=_ssh_key_name(spec),
            config_sha256=hashlib.sha256(v[0].encode()).hexdigest()))
        self.release = k8s.helm.v3.Release(
            f"{name}-release", name=CHART_NAME, chart=CHART_NAME, version=CHART_VERSION,
            repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=CHART_REPO), namespace=CHART_NAMESPACE,
            create_namespace=False, values=values, atomic=True, cleanup_on_fail=True, timeout=600,
            opts=pulumi.ResourceOptions.merge(k8s_opts, pulumi.ResourceOptions(
                depends_on=[secret, static_peers, registrar, *bundle_maps, *self.agents.values(),
                            *args.get("after", [])])))
        self.register_outputs({"bundles": self.bundles})

    def _role(self, name, role, rules, subject, opts) -> k8s.rbac.v1.RoleBinding:
        created = k8s.rbac.v1.Role(f"{name}-{role}-role", metadata=_meta(role), rules=rules, opts=opts)
        return k8s.rbac.v1.RoleBinding(
            f"{name}-{role}-binding", metadata=_meta(role), subjects=[subject],
            role_ref={"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": role},
            opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=[created])))

    def _firewall(self, name, spec, groups) -> hcloud.Firewall:
        """The one firewall the autoscaler gives its servers (HCLOUD_FIREWALL):
        the public openings of a worker of the group (check_autoscaling makes
        every autoscaled group publish the same ports)."""
        first = next(iter(groups))
        return hcloud.Firewall(
            f"{name}-firewall", name=f"{spec.name}-autoscaled",
            rules=firewall_rules(public_ports(spec, first, control_plane=False)),
            labels={"cluster": spec.name, "group": "autoscaled"}, opts=pulumi.ResourceOptions(parent=self))


def _meta(name: str, **extra) -> dict:
    return {"name": name, "namespace": registry.NAMESPACE, **extra}


def _ssh_key_name(spec) -> str:
    """The key compute/hetzner.py installs on every Hetzner server."""
    return spec.providers.hetzner.ssh_key_name or f"{spec.name}-admin"


def _static_peers(nodes: list[Node], keys: dict[str, pulumi.Output[str]]) -> pulumi.Output[str]:
    rows = [pulumi.Output.all(keys[n.name], n.public_address,
                              n.private_address if n.private_address is not None else None)
            .apply(lambda v, n=n: registry.static_peer_line(n.name, n.mesh_ip, v[0], None if n.behind_nat else v[1],
                                                            v[2], n.private_network))
            for n in nodes]
    return pulumi.Output.all(*rows).apply(lambda lines: "\n".join(lines) + "\n")


def _ca_pem(kubeconfig: str) -> str:
    config = yaml.safe_load(kubeconfig)
    data = config["clusters"][0]["cluster"].get("certificate-authority-data")
    if not data:
        raise ValueError("the cluster's kubeconfig has no certificate-authority-data: autoscaled servers could "
                         "not verify the API server")
    return base64.b64decode(data).decode()
