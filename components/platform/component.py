"""The Platform component: the plans turned into Helm releases and objects.

Order: everything waits for ``cluster.ready``; a release waits for its
namespace (and what its ``after`` names); custom resources wait for the
release that brings their CRDs (``depends_on``), so CRDs always exist first.
Every add-on item also waits for the CNI's readiness item (its ``after``
filled in by ``plan.platform_plans``): nothing is installed before pods have
a network.
"""

from __future__ import annotations

from typing import Any, NotRequired, TypedDict

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random

from .addons.gitops import REPO_SSH_KEY, REPO_SSH_KEY_CONFIG, needs_ssh_key
from .context import context_from_cluster
from .model import Manifest, PlatformContext, Release
from .mtu import pod_mtu
from .plan import platform_plans, unique_items


class PlatformArgs(TypedDict):
    spec: Any
    cluster: Any  # components.cluster.contract.KubernetesCluster
    nodes: list
    secrets: NotRequired[dict[str, pulumi.Input[str]]]
    """Secrets from the stack's config, by platform secret name (e.g. the
    GitOps repository's deploy key); the rest are generated here."""


# Core kinds the project writes, by (apiVersion, kind).
_CORE = {
    ("v1", "Namespace"): lambda name, o, opts: k8s.core.v1.Namespace(name, metadata=o["metadata"], opts=opts),
    ("v1", "Secret"): lambda name, o, opts: k8s.core.v1.Secret(
        name, metadata=o["metadata"], type=o.get("type"), string_data=o.get("stringData"), opts=opts),
    ("apps/v1", "DaemonSet"): lambda name, o, opts: k8s.apps.v1.DaemonSet(
        name, metadata=o["metadata"], spec=o["spec"], opts=opts),
    ("node.k8s.io/v1", "RuntimeClass"): lambda name, o, opts: k8s.node.v1.RuntimeClass(
        name, metadata=o["metadata"], handler=o["handler"], scheduling=o.get("scheduling"), opts=opts),
}

# Core kinds the project patches (``Manifest.patch``: someone else owns the
# object): server-side apply of the fields given, never a create or delete.
_CORE_PATCHES = {
    ("node.k8s.io/v1", "RuntimeClass"): lambda name, o, opts: k8s.node.v1.RuntimeClassPatch(
        name, metadata=o["metadata"], handler=o.get("handler"), scheduling=o.get("scheduling"), opts=opts),
}


class Platform(pulumi.ComponentResource):
    context: PlatformContext
    pod_mtu: int
    """MTU of pod interfaces (mesh MTU minus the CNI's overhead)."""
    releases: dict[str, k8s.helm.v3.Release]
    objects: dict[str, pulumi.CustomResource]
    installed: dict[str, list[str]]
    """add-on -> release keys (plain facts for outputs)."""

    def __init__(self, name: str, args: PlatformArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("sovereign:platform:Platform", name, {}, opts)
        spec, cluster = args["spec"], args["cluster"]
        # Secret names first (from a pure pass), then the random passwords.
        probe = context_from_cluster(spec, cluster, args["nodes"])
        wanted = sorted({s for p in platform_plans(probe) for s in p.secrets})
        secrets = {
            s: random.RandomPassword(f"{name}-{s}", length=32, special=False,
                                     opts=pulumi.ResourceOptions(parent=self)).result
            for s in wanted
        }
        given = args.get("secrets") or {}
        if needs_ssh_key(spec.addons.gitops) and REPO_SSH_KEY not in given:
            raise ValueError(f"addons.gitops.repoUrl is an SSH URL: pass its deploy key as secrets[{REPO_SSH_KEY!r}] "
                             f"(secret config {REPO_SSH_KEY_CONFIG})")
        secrets.update({k: pulumi.Output.secret(v) for k, v in given.items()})
        self.context = context_from_cluster(spec, cluster, args["nodes"], secrets)
        self.pod_mtu = pod_mtu(self.context.mesh_mtu, spec.network.cni, spec.network.encryption)
        plans = platform_plans(self.context)
        self.installed = {p.name: [r.key for r in p.releases] for p in plans}
        self.releases, self.objects = {}, {}
        created: dict[str, pulumi.Resource] = {}
        ready = list(cluster.ready)
        for item in unique_items(plans):
            opts_ = pulumi.ResourceOptions(parent=self, provider=cluster.provider,
                                           depends_on=ready + [created[k] for k in item.after])
            res_name = f"{name}-{item.key.replace('/', '-')}"
            if isinstance(item, Release):
                created[item.key] = self.releases[item.key] = _release(res_name, item, opts_)
            else:
                created[item.key] = self.objects[item.key] = _object(res_name, item, opts_)
        self.register_outputs({"podMtu": self.pod_mtu, "installed": self.installed})


def _release(name: str, item: Release, opts: pulumi.ResourceOptions) -> k8s.helm.v3.Release:
    return k8s.helm.v3.Release(
        name,
        name=item.key,
        chart=item.chart.chart,
        version=item.chart.version,
        repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=item.chart.repo),
        namespace=item.chart.namespace,
        # The project creates namespaces itself (its Secrets go in first).
        create_namespace=False,
        values=item.values,
        atomic=True,
        cleanup_on_fail=True,
        timeout=900,
        opts=opts,
    )


def _object(name: str, item: Manifest, opts: pulumi.ResourceOptions) -> pulumi.CustomResource:
    obj = item.obj
    if item.patch and (obj["apiVersion"], obj["kind"]) in _CORE_PATCHES:
        return _CORE_PATCHES[(obj["apiVersion"], obj["kind"])](name, obj, opts)
    core = _CORE.get((obj["apiVersion"], obj["kind"]))
    if item.patch:
        if core is not None:
            raise ValueError(f"{item.key}: no patch resource for {obj['apiVersion']} {obj['kind']}")
        # A custom resource someone else created (Calico's FelixConfiguration
        # default): server-side apply of the fields given.
        return k8s.apiextensions.CustomResourcePatch(
            name, api_version=obj["apiVersion"], kind=obj["kind"], metadata=obj["metadata"], spec=obj.get("spec"),
            opts=opts)
    if core is not None:
        return core(name, obj, opts)
    return k8s.apiextensions.CustomResource(
        name, api_version=obj["apiVersion"], kind=obj["kind"], metadata=obj["metadata"], spec=obj.get("spec"),
        opts=opts)
