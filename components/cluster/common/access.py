"""Admin access: the kubeconfig read back from the first control plane,
rewritten to the HA endpoint, and the Kubernetes provider built from it."""

from __future__ import annotations

from pathlib import Path

import pulumi
import pulumi_command as command
import pulumi_kubernetes as k8s

from components.compute.node import Node
from components.remote.command import node_command
from components.remote.script import render_script

from ..contract import KubernetesCluster
from .endpoint import MESH_ONLY_API_WARNING, NOT_HA_WARNING, external_server, rewrite_kubeconfig
from .priority import CLASSES, priority_classes

SCRIPTS = Path(__file__).parent / "scripts"


def read_kubeconfig(
    name: str,
    first: Node,
    *,
    path: str,
    api_dns_name: str | None,
    depends_on: list[pulumi.Resource],
    parent: pulumi.Resource,
) -> tuple[command.remote.Command, pulumi.Output[str]]:
    """The ``<name>-kubeconfig`` command and the rewritten kubeconfig (a secret).

    stdout is an additional secret output and logging is off, so the admin
    credentials never reach the state in the clear nor the console.
    """
    cmd = node_command(
        f"{name}-kubeconfig",
        first.ssh,
        create=render_script(SCRIPTS / "read-kubeconfig.sh", {"KUBECONFIG_PATH": path}),
        logging=command.remote.Logging.NONE,
        add_previous_output_in_env=False,
        opts=pulumi.ResourceOptions(parent=parent, depends_on=depends_on, additional_secret_outputs=["stdout"]),
    )
    if not api_dns_name:
        # Not inside an apply: previews, where the address is unknown, warn too.
        pulumi.log.warn(NOT_HA_WARNING.format(node=first.name))
    kubeconfig = pulumi.Output.all(cmd.stdout, first.public_address).apply(
        lambda args: rewrite_kubeconfig(args[0], external_server(api_dns_name, args[1]), name)
    )
    return cmd, pulumi.Output.secret(kubeconfig)


def kubernetes_provider(name: str, kubeconfig: pulumi.Output[str], *, parent: pulumi.Resource) -> k8s.Provider:
    """A provider with a stable ``cluster_identifier``: a new kubeconfig
    (rotated certificates, another endpoint) updates the provider instead
    of replacing it and, with it, every Kubernetes resource of the stack."""
    return k8s.Provider(
        f"{name}-k8s",
        kubeconfig=kubeconfig,
        cluster_identifier=name,
        opts=pulumi.ResourceOptions(parent=parent),
    )


def cluster_contract(
    name: str,
    spec,
    first: Node,
    settings,
    *,
    distribution: str,
    kubeconfig_path: str,
    kubeconfig_after: list[pulumi.Resource],
    joined: list[pulumi.Resource],
    mesh_mtu: int,
    etcd_metrics: list[str],
    parent: pulumi.Resource,
) -> KubernetesCluster:
    """Admin access (kubeconfig, provider, PriorityClasses) and the contract
    the platform layer builds on, the same for every distribution.

    ``settings`` carries ``endpoints``, ``pod_cidr`` and ``service_cidr``;
    ``joined`` is every node's join (and membership) command;
    ``etcd_metrics`` the mesh IPs where etcd serves /metrics.
    """
    api_dns_name = spec.kubernetes.api_dns_name
    kubeconfig_cmd, kubeconfig = read_kubeconfig(
        name, first, path=kubeconfig_path, api_dns_name=api_dns_name, depends_on=kubeconfig_after, parent=parent,
    )
    if not spec.kubernetes.api_source_cidrs:
        pulumi.log.warn(MESH_ONLY_API_WARNING)
    provider = kubernetes_provider(name, kubeconfig, parent=parent)
    classes = priority_classes(name, provider, depends_on=[kubeconfig_cmd], parent=parent)
    return KubernetesCluster(
        name=name,
        distribution=distribution,
        api_endpoint=settings.endpoints.in_cluster,
        kubeconfig=kubeconfig,
        provider=provider,
        mesh_mtu=mesh_mtu,
        pod_cidr=settings.pod_cidr,
        service_cidr=settings.service_cidr,
        ready=[*joined, *classes.values()],
        external_endpoint=first.public_address.apply(lambda a: external_server(api_dns_name, a)),
        priority_classes=tuple(c[0] for c in CLASSES),
        kube_proxy=spec.kubernetes.kube_proxy,
        etcd_metrics=tuple(etcd_metrics),
    )
