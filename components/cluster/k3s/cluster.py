"""K3sCluster: embedded-etcd HA K3s over the WireGuard mesh."""

from __future__ import annotations

from pathlib import Path
from typing import NotRequired, TypedDict

import pulumi
import pulumi_command as command

from components.compute.node import Node
from components.remote.command import node_command
from components.remote.script import render_script
from components.spec import ClusterSpec

from ..common.access import cluster_contract
from ..common.gpu_runtime import before_join, gpu_runtime_commands
from ..common.local_lb import api_load_balancers
from ..common.placement import placement_commands
from ..common.secrets import k3s_token, stdin_secrets
from ..contract import KubernetesCluster
from ..upgrade import NodeUpgrade, rolling_upgrade
from ..upgrade.chain import SCRIPTS as UPGRADE_SCRIPTS
from .flags import K3S_BIN, KUBECONFIG, K3sSettings, agent_flags, config_yaml, server_flags

SCRIPTS = Path(__file__).parent / "scripts"


class K3sClusterArgs(TypedDict):
    spec: ClusterSpec
    nodes: list[Node]
    after: dict[str, list[pulumi.Resource]]
    """Per node name: what must be done first (the node's mesh)."""
    mesh_mtu: int
    etcd_s3_credentials: NotRequired[tuple[pulumi.Output[str], pulumi.Output[str]] | None]
    """(access key, secret key) for spec.kubernetes.etcdSnapshots.s3."""


class K3sCluster(pulumi.ComponentResource):
    """K3s with embedded etcd.

    Order (the dependency graph, which is also the removal order):
    every node installs the binary and its local API load balancer in
    parallel after its mesh; the first server bootstraps (--cluster-init);
    the other servers join one after another, each after the previous one
    is registered; agents join in parallel, each depending on the first
    server only. The kubeconfig is read from the first server.
    """

    cluster: KubernetesCluster
    servers: dict[str, command.remote.Command]
    agents: dict[str, command.remote.Command]
    members: dict[str, command.remote.Command]
    """Per joined node: the command on the first server that waits for its
    registration and, on delete, removes it safely (etcd first)."""
    placements: dict[str, command.remote.Command]
    """Per node, on the first server: its labels and taints, set in place
    (K3s applies --node-taint at registration only, and never removes a label)."""
    upgrades: dict[str, NodeUpgrade]
    """Per node: its step of the rolling upgrade (servers first, one node at
    a time), which its install waits for (components/cluster/upgrade)."""

    def __init__(self, name: str, args: K3sClusterArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("sovereign:cluster:K3sCluster", name, {}, opts)
        spec, nodes, after = args["spec"], args["nodes"], args["after"]
        servers = [n for n in nodes if n.is_control_plane]
        agents = [n for n in nodes if not n.is_control_plane]
        if not servers:
            raise ValueError("nodeGroups: a K3s cluster needs at least one node with the control-plane role")
        first = servers[0]
        settings = K3sSettings.from_spec(spec)
        airgap = spec.kubernetes.airgap
        child = pulumi.ResourceOptions(parent=self)

        token = k3s_token(f"{name}-token", child)
        server_stdin = stdin_secrets({"K3S_TOKEN": token, **_s3_secrets(spec, args.get("etcd_s3_credentials"))})
        agent_stdin = stdin_secrets({"K3S_TOKEN": token})

        # TCP checks: K3s runs kube-apiserver with --anonymous-auth=false, so
        # an anonymous /readyz answers 401 whatever the server's state.
        lbs = api_load_balancers(name, nodes, servers, health_check="tcp", airgap=airgap.enabled,
                                 artifacts_dir=airgap.artifacts_dir, after=after, parent=self)
        install_params = {"K3S_VERSION": settings.version, "AIRGAP": airgap.enabled,
                          "ARTIFACTS_DIR": airgap.artifacts_dir}
        install_script = render_script(SCRIPTS / "k3s-install.sh", install_params)
        # A version change: every node upgraded in place, one at a time,
        # before its install step (which then finds the version installed).
        upgrade_install = render_script(SCRIPTS / "k3s-install.sh", {**install_params, "UPGRADE": True})
        self.upgrades = rolling_upgrade(
            name, first, nodes, target=settings.version, kubectl=f"{K3S_BIN} kubectl", kubeconfig=KUBECONFIG,
            node_script=lambda n: render_script(UPGRADE_SCRIPTS / "k3s-upgrade.sh", {
                "K3S_VERSION": settings.version, "K3S_ROLE": "server" if n.is_control_plane else "agent",
                "INSTALL_SCRIPT": upgrade_install}),
            after=after, parent=self)
        installs = {
            n.name: node_command(
                f"{name}-{n.name}-k3s-install", n.ssh, create=install_script, update=install_script,
                opts=pulumi.ResourceOptions(parent=self, depends_on=[*after.get(n.name, []),
                                                                     self.upgrades[n.name].uncordon]),
            )
            for n in nodes
        }
        # GPU nodes: the NVIDIA toolkit before K3s starts (K3s adds the
        # nvidia runtime to its containerd only if it finds it at start).
        gpu = gpu_runtime_commands(name, nodes, spec=spec, runtime="k3s", after=after, parent=self)
        public_addresses = pulumi.Output.all(*[s.public_address for s in servers])

        self.servers, self.agents, self.members = {}, {}, {}
        previous: pulumi.Resource | None = None
        for index, server in enumerate(servers):
            is_first = index == 0
            script = public_addresses.apply(lambda pubs, server=server, is_first=is_first: _node_script(
                "server", config_yaml(server_flags(settings, server, servers, first=is_first, public_addresses=pubs)),
                first=is_first, others=[s.mesh_ip for s in servers if s is not server], settings=settings,
            ))
            deps = [installs[server.name], lbs[server.name], *before_join(gpu, server)] + (
                [previous] if previous is not None else [])
            # The first server leaves through its own uninstall (no member
            # command of its own): etcd removal first, quorum checked.
            leave = None if not is_first else _remove_script(server, "server", self_=True)
            cmd = self._join(name, server, "server", script, server_stdin, deps, leave=leave)
            self.servers[server.name] = cmd
            previous = cmd if is_first else self._member(name, first, server, "server", cmd)

        first_server = self.servers[first.name]
        for agent in agents:
            script = _node_script("agent", config_yaml(agent_flags(settings, agent)), first=False, others=[],
                                  settings=settings)
            # The first server only: agents never wait for each other, nor
            # for the other servers (they register through the local LB).
            cmd = self._join(name, agent, "agent", script, agent_stdin,
                             [installs[agent.name], lbs[agent.name], *before_join(gpu, agent), first_server])
            self.agents[agent.name] = cmd
            self._member(name, first, agent, "agent", cmd)

        self.placements = placement_commands(
            name, first, nodes, after={first.name: [first_server], **{n: [m] for n, m in self.members.items()}},
            kubectl=f"{K3S_BIN} kubectl", kubeconfig=KUBECONFIG, parent=self)

        self.cluster = cluster_contract(
            name, spec, first, settings, distribution="k3s", kubeconfig_path=KUBECONFIG,
            kubeconfig_after=[first_server], mesh_mtu=args["mesh_mtu"], parent=self,
            # Embedded etcd runs on every server.
            etcd_metrics=[s.mesh_ip for s in servers],
            joined=[*self.servers.values(), *self.agents.values(), *self.members.values(),
                    *self.placements.values()],
        )
        self.kubeconfig = self.cluster.kubeconfig
        self.provider = self.cluster.provider
        self.register_outputs({"apiEndpoint": settings.endpoints.in_cluster, "kubeconfig": self.kubeconfig})

    def _join(self, name, node, role, script, stdin, deps, *, leave: str | None = None) -> command.remote.Command:
        return node_command(
            f"{name}-{node.name}-k3s-{role}",
            node.ssh,
            create=script,
            update=script,
            stdin=stdin,
            delete=render_script(SCRIPTS / "k3s-uninstall.sh", {"K3S_ROLE": role, "LEAVE_SCRIPT": leave or ""}),
            opts=pulumi.ResourceOptions(parent=self, depends_on=deps),
        )

    def _member(self, name, first: Node, node: Node, role: str, joined) -> command.remote.Command:
        member = node_command(
            f"{name}-{node.name}-member",
            first.ssh,
            create=render_script(SCRIPTS / "k3s-member.sh", {"NODE_NAME": node.name}),
            delete=_remove_script(node, role),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[joined]),
        )
        self.members[node.name] = member
        return member


def _remove_script(node: Node, role: str, *, self_: bool = False) -> str:
    return render_script(SCRIPTS / "k3s-member-remove.sh", {
        "NODE_NAME": node.name, "NODE_IP": node.mesh_ip, "K3S_ROLE": role, "SELF": self_,
    })


def _node_script(role: str, config: str, *, first: bool, others: list[str], settings: K3sSettings) -> str:
    return render_script(SCRIPTS / "k3s-node.sh", {
        "K3S_ROLE": role,
        "K3S_CONFIG": config,
        "FIRST_SERVER": first,
        "OTHER_SERVERS": others,
        "JOIN_SERVER": settings.endpoints.in_cluster,
        "K3S_VERSION": settings.version,
    })


def _s3_secrets(spec: ClusterSpec, credentials) -> dict[str, pulumi.Input[str]]:
    snapshots = spec.kubernetes.etcd_snapshots
    if not (snapshots.enabled and snapshots.s3 is not None):
        return {}
    if credentials is None:
        raise ValueError(
            "kubernetes.etcdSnapshots.s3 is set but the secret config keys "
            "sovereign-cloud:etcdS3AccessKey / etcdS3SecretKey are missing"
        )
    access, secret = credentials
    return {"ETCD_S3_ACCESS_KEY": access, "ETCD_S3_SECRET_KEY": secret}
