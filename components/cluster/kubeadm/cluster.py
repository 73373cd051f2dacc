"""KubeadmCluster: upstream Kubernetes with external (or stacked) etcd."""

from __future__ import annotations

import base64
import functools
from pathlib import Path
from typing import Any, NotRequired, TypedDict

import pulumi
import pulumi_command as command
import pulumi_random as random

from components.compute.node import Node
from components.remote.command import node_command
from components.remote.script import render_script
from components.spec import ClusterSpec

from ..common.access import cluster_contract
from ..common.gpu_runtime import before_join, gpu_runtime_commands
from ..common.local_lb import api_load_balancers
from ..common.placement import placement_commands
from ..common.secrets import bootstrap_token, certificate_key, stdin_secrets
from ..contract import KubernetesCluster
from ..etcd.snapshots import etcd_snapshot_commands
from ..upgrade import NodeUpgrade, rolling_upgrade
from ..upgrade.chain import SCRIPTS as UPGRADE_SCRIPTS
from .config import (
    ADMIN_KUBECONFIG,
    INIT_CONFIG_FILE,
    JOIN_MIN_VALID_SECONDS,
    JOIN_REFRESH_SECONDS,
    JOIN_STATE_DIR,
    TOKEN_TTL_SECONDS,
    KubeadmSettings,
    cluster_configuration,
    encryption_configuration,
    init_configuration,
    join_configuration,
    kube_proxy_configuration,
    kubelet_configuration,
    render,
    stacked_etcdctl_env,
)

SCRIPTS = Path(__file__).parent / "scripts"


class KubeadmClusterArgs(TypedDict):
    spec: ClusterSpec
    nodes: list[Node]
    """Every node of the stack; etcd-only nodes are left to ``etcd``."""
    after: dict[str, list[pulumi.Resource]]
    """Per node name: what must be done first (the node's mesh)."""
    mesh_mtu: int
    etcd: NotRequired[Any]
    """An ``components.cluster.etcd.ExternalEtcd`` (endpoints, ca_cert_pem,
    client_cert_pem, client_key_pem, ready); None: etcd stacked on the
    control planes."""
    etcd_s3_credentials: NotRequired[tuple[pulumi.Input[str], pulumi.Input[str]] | None]
    """(access key, secret key) for stacked etcd's snapshots to
    ``kubernetes.etcdSnapshots.s3``; secrets (an external etcd has its own)."""


class KubeadmCluster(pulumi.ComponentResource):
    """kubeadm over the mesh.

    Order: containerd + pinned packages and the local API load balancer on
    every Kubernetes node in parallel after its mesh; ``kubeadm init`` on
    the first control plane once etcd is ready; the other control planes
    join one after another; workers join in parallel, each depending only
    on the first control plane's init. Each join is preceded by its own
    credentials step on the first control plane (token, uploaded
    certificates) and followed by its member step there.
    """

    cluster: KubernetesCluster
    init: command.remote.Command
    joins: dict[str, command.remote.Command]
    join_credentials: dict[str, command.remote.Command]
    """Per joiner, on the first control plane: its join credentials, refreshed before its join."""
    members: dict[str, command.remote.Command]
    placements: dict[str, command.remote.Command]
    """Per node, on the first control plane: its labels and taints, set in place."""
    etcd_snapshots: dict[str, command.remote.Command]
    """Stacked etcd: every control plane's snapshot schedule."""
    upgrades: dict[str, NodeUpgrade]
    """Per Kubernetes node: its step of the rolling upgrade (control planes
    first, one node at a time), which its packages step waits for
    (components/cluster/upgrade)."""

    def __init__(self, name: str, args: KubeadmClusterArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("sovereign:cluster:KubeadmCluster", name, {}, opts)
        spec, after, etcd = args["spec"], args["after"], args.get("etcd")
        nodes = [n for n in args["nodes"] if n.is_control_plane or n.is_worker]
        control_planes = [n for n in nodes if n.is_control_plane]
        workers = [n for n in nodes if not n.is_control_plane]
        if not control_planes:
            raise ValueError("nodeGroups: a kubeadm cluster needs at least one node with the control-plane role")
        if etcd is None and any(n.is_etcd and not n.is_control_plane for n in args["nodes"]):
            raise ValueError("nodeGroups: dedicated etcd nodes need an ExternalEtcd (args['etcd'])")
        first = control_planes[0]
        settings = KubeadmSettings.from_spec(spec, external_etcd=etcd is not None)
        airgap = spec.kubernetes.airgap
        child = pulumi.ResourceOptions(parent=self)
        etcd_ready = list(etcd.ready) if etcd is not None else []

        token = bootstrap_token(f"{name}-bootstrap-token", child)
        cert_key = certificate_key(f"{name}-certificate-key", child)
        encryption_key = random.RandomPassword(f"{name}-encryption-key", length=32, special=False, opts=child)
        encryption = pulumi.Output.secret(encryption_key.result.apply(
            lambda k: encryption_configuration(base64.b64encode(k.encode()).decode())))
        cp_secrets = {"BOOTSTRAP_TOKEN": token, "CERTIFICATE_KEY": cert_key, "ENCRYPTION_CONFIG": encryption}
        if etcd is not None:
            cp_secrets |= {"ETCD_CA": etcd.ca_cert_pem, "ETCD_CERT": etcd.client_cert_pem, "ETCD_KEY": etcd.client_key_pem}
        cp_stdin = stdin_secrets(cp_secrets)
        worker_stdin = stdin_secrets({"BOOTSTRAP_TOKEN": token})

        # /readyz checks: kubeadm keeps kube-apiserver's anonymous access to
        # the health endpoints (system:public-info-viewer); its own static
        # pod probes (httpGet /livez, /readyz) need it too.
        lbs = api_load_balancers(name, nodes, control_planes, health_check="readyz", airgap=airgap.enabled,
                                 artifacts_dir=airgap.artifacts_dir, after=after, parent=self)
        packages_params = {
            "K8S_VERSION": "{}.{}.{}".format(*settings.version), "K8S_MINOR": settings.minor,
            "AIRGAP": airgap.enabled, "ARTIFACTS_DIR": airgap.artifacts_dir,
        }
        packages_script = render_script(SCRIPTS / "kubeadm-packages.sh", packages_params)
        # A version change: kubeadm's upgrade on every node, one at a time,
        # before its packages step (which then finds the version installed).
        upgrade_packages = render_script(SCRIPTS / "kubeadm-packages.sh", {**packages_params, "UPGRADE": True})
        self.upgrades = rolling_upgrade(
            name, first, nodes, target=settings.kubernetes_version, kubectl="kubectl", kubeconfig=ADMIN_KUBECONFIG,
            node_script=lambda n: render_script(UPGRADE_SCRIPTS / "kubeadm-upgrade.sh", {
                "K8S_VERSION": packages_params["K8S_VERSION"],
                "ROLE": "first" if n is first else "control-plane" if n.is_control_plane else "worker",
                "PACKAGES_SCRIPT": upgrade_packages, "EXTERNAL_ETCD": etcd is not None}),
            after=after, parent=self)
        packages = {
            n.name: node_command(
                f"{name}-{n.name}-k8s-packages", n.ssh,
                create=packages_script, update=packages_script,
                opts=pulumi.ResourceOptions(parent=self, depends_on=[*after.get(n.name, []),
                                                                     self.upgrades[n.name].uncordon]),
            )
            for n in nodes
        }
        # GPU nodes: the nvidia runtime in containerd before init/join, set
        # again whenever the packages script rewrites containerd's config.
        gpu = gpu_runtime_commands(name, nodes, spec=spec, runtime="containerd",
                                   after={n.name: [packages[n.name]] for n in nodes}, parent=self,
                                   rerun_when=packages_script)

        endpoints = etcd.endpoints if etcd is not None else []
        public = pulumi.Output.all(pulumi.Output.from_input(endpoints),
                                   *[n.public_address for n in control_planes])
        init_config = public.apply(lambda r: render(
            cluster_configuration(settings, control_planes, etcd_endpoints=list(r[0]), public_addresses=list(r[1:])),
            init_configuration(settings, first),
            kubelet_configuration(),
            *([kube_proxy_configuration(settings)] if settings.kube_proxy else []),
        ))
        self.init_config = init_config
        self.init = node_command(
            f"{name}-{first.name}-kubeadm-init",
            first.ssh,
            create=init_config.apply(lambda cfg: render_script(SCRIPTS / "kubeadm-init.sh", {
                "KUBEADM_CONFIG": cfg,
                "OTHER_CONTROL_PLANES": [n.mesh_ip for n in control_planes[1:]],
                "EXTERNAL_ETCD": etcd is not None,
            })),
            stdin=cp_stdin,
            # The first control plane has no member command: its reset takes
            # it out of the cluster (etcd first, quorum checked) by itself.
            delete=render_script(SCRIPTS / "kubeadm-reset.sh", {
                "LEAVE_SCRIPT": _remove_script(first, "control-plane", stacked=etcd is None, self_=True),
            }),
            # Defence in depth: whatever kubeadm prints stays out of plain state.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[packages[first.name], lbs[first.name],
                                                                 *before_join(gpu, first), *etcd_ready],
                                        additional_secret_outputs=["stderr"]),
        )
        ca_hash = self.init.stdout.apply(lambda out: out.strip().splitlines()[-1] if out.strip() else "")

        # Join credentials expire (the token after TOKEN_TTL, uploaded
        # certificates two hours after the upload), while Pulumi may run a
        # join much later: a new node, a failed `pulumi up` retried the next
        # day, a machine replaced under the same name. So each joiner gets
        # `<c>-<node>-join-credentials` on the first control plane, right
        # before its join and re-run whenever the join is (same rerun_when):
        # it refreshes them and marks the join pending; while any join is
        # pending a timer there keeps them valid (a failed join retried later
        # needs no re-run); the node's member, after the join, clears the
        # mark (its rerun_when: the credentials' output, new at every run).
        # rerun_when, never triggers: a trigger replaces, and replacing the
        # member runs its delete, which removes the node from the cluster.
        refresh_script = render_script(SCRIPTS / "kubeadm-join-refresh.sh", {
            "STATE_DIR": JOIN_STATE_DIR, "TOKEN_TTL_SECONDS": TOKEN_TTL_SECONDS,
            "MIN_VALID_SECONDS": JOIN_MIN_VALID_SECONDS, "INIT_CONFIG": INIT_CONFIG_FILE,
            "KUBECONFIG": ADMIN_KUBECONFIG,
        })
        self.joins, self.members, self.join_configs, self.join_credentials = {}, {}, {}, {}
        join = functools.partial(self._join, name, first, settings, ca_hash, refresh_script, worker_stdin,
                                 external_etcd=etcd is not None, stacked=etcd is None)
        previous: pulumi.Resource = self.init
        for cp in control_planes[1:]:
            # One control plane at a time, each after the previous one registered.
            previous = join(cp, cp_stdin, [self.init, packages[cp.name], lbs[cp.name], *before_join(gpu, cp),
                                           previous, *etcd_ready])
        for worker in workers:
            join(worker, worker_stdin, [self.init, packages[worker.name], lbs[worker.name],
                                        *before_join(gpu, worker)])

        # Labels and taints of every node, also once joined (kubeadm's
        # nodeRegistration only applies at the join).
        self.placements = placement_commands(
            name, first, nodes, after={first.name: [self.init], **{n: [m] for n, m in self.members.items()}},
            kubectl="kubectl", kubeconfig=ADMIN_KUBECONFIG, parent=self)

        # Stacked etcd: every control plane's member (only the leader
        # snapshots), after its init/join and unscheduled before its reset.
        self.etcd_snapshots = {} if etcd is not None else etcd_snapshot_commands(
            name, control_planes, spec.kubernetes.etcd_snapshots,
            after={first.name: [self.init], **{n.name: [self.joins[n.name]] for n in control_planes[1:]}},
            parent=self, s3_credentials=args.get("etcd_s3_credentials"), etcdctl_env=stacked_etcdctl_env(),
            airgap=airgap.enabled, artifacts_dir=airgap.artifacts_dir,
        )

        self.cluster = cluster_contract(
            name, spec, first, settings, distribution="kubeadm", kubeconfig_path=ADMIN_KUBECONFIG,
            kubeconfig_after=[self.init], mesh_mtu=args["mesh_mtu"], parent=self,
            # Dedicated members, or stacked on every control plane.
            etcd_metrics=[n.mesh_ip for n in args["nodes"] if n.is_etcd and not n.is_control_plane]
            if etcd is not None else [n.mesh_ip for n in control_planes],
            joined=[self.init, *self.joins.values(), *self.members.values(), *self.placements.values()],
        )
        self.kubeconfig = self.cluster.kubeconfig
        self.provider = self.cluster.provider
        self.register_outputs({"apiEndpoint": settings.endpoints.in_cluster, "kubeconfig": self.kubeconfig})

    def _join(self, name, first: Node, settings, ca_hash, refresh_script: str, credentials_stdin, node: Node,
              stdin, deps: list[pulumi.Resource], *, external_etcd: bool, stacked: bool) -> command.remote.Command:
        """``<c>-<node>-join-credentials`` -> ``<c>-<node>-kubeadm-join`` ->
        ``<c>-<node>-member``; returns the member."""
        control_plane = node.is_control_plane
        role = "control-plane" if control_plane else "worker"
        config = ca_hash.apply(lambda h: render(
            join_configuration(settings, node, ca_cert_hash=h, control_plane=control_plane)))
        self.join_configs[node.name] = config
        create = config.apply(lambda cfg: render_script(SCRIPTS / "kubeadm-join.sh", {
            "KUBEADM_CONFIG": cfg, "ROLE": role, "EXTERNAL_ETCD": external_etcd,
        }))
        # What makes Pulumi run the join again (besides a failed run, which
        # the pending mark covers): a replaced machine (a new address) or a
        # new join script.
        rerun = pulumi.Output.all(node.ssh.host, create)
        mark = render_script(SCRIPTS / "kubeadm-join-credentials.sh", {
            "STEP": "mark", "NODE_NAME": node.name, "ROLE": role, "REFRESH_SCRIPT": refresh_script,
            "REFRESH_SECONDS": JOIN_REFRESH_SECONDS, "STATE_DIR": JOIN_STATE_DIR,
        })
        credentials = node_command(
            f"{name}-{node.name}-join-credentials",
            first.ssh,
            create=mark,
            update=mark,
            delete=render_script(SCRIPTS / "kubeadm-join-credentials.sh", {
                "STEP": "forget", "NODE_NAME": node.name, "STATE_DIR": JOIN_STATE_DIR,
            }),
            stdin=credentials_stdin,
            rerun_when=rerun,
            opts=pulumi.ResourceOptions(parent=self, depends_on=deps),
        )
        self.join_credentials[node.name] = credentials
        cmd = node_command(
            f"{name}-{node.name}-kubeadm-join",
            node.ssh,
            create=create,
            stdin=stdin,
            delete=render_script(SCRIPTS / "kubeadm-reset.sh", {"LEAVE_SCRIPT": ""}),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[*deps, credentials]),
        )
        self.joins[node.name] = cmd
        registered = render_script(SCRIPTS / "kubeadm-member.sh", {"NODE_NAME": node.name, "STATE_DIR": JOIN_STATE_DIR})
        member = node_command(
            f"{name}-{node.name}-member",
            first.ssh,
            create=registered,
            # Runs again after every run of the credentials step (its stdout
            # is new each time) to clear the pending mark. An update, never a
            # replacement: replacing it would delete it, i.e. remove the node.
            update=registered,
            rerun_when=credentials.stdout,
            delete=_remove_script(node, role, stacked=stacked),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[cmd]),
        )
        self.members[node.name] = member
        return member


def _remove_script(node: Node, role: str, *, stacked: bool, self_: bool = False) -> str:
    return render_script(SCRIPTS / "kubeadm-member-remove.sh", {
        "NODE_NAME": node.name, "NODE_IP": node.mesh_ip, "ROLE": role, "STACKED_ETCD": stacked, "SELF": self_,
    })
