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
from .resources import manifest_object, release


class PlatformArgs(TypedDict):
    spec: Any
    cluster: Any  # components.cluster.contract.KubernetesCluster
    nodes: list
    secrets: NotRequired[dict[str, pulumi.Input[str]]]
    """Secrets from the stack's config, by platform secret name (e.g. the
    GitOps repository's deploy key); the rest are generated here."""


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
        from components.data.secrets import needed_secrets

        missing = [s for s in needed_secrets(spec) if s.name not in given]
        if missing:
            raise ValueError("the data services need " + ", ".join(
                f"secrets[{s.name!r}] (secret config {s.config_key}, for {s.needed_by})" for s in missing))
        secrets.update({k: pulumi.Output.secret(v) for k, v in given.items()})
        self.context = context_from_cluster(spec, cluster, args["nodes"], secrets)
        self.pod_mtu = pod_mtu(self.context.mesh_mtu, spec.network.cni, spec.network.encryption)
        plans = platform_plans(self.context)
        self.installed = {p.name: [r.key for r in p.releases] for p in plans}
        self.releases, self.objects = {}, {}
        created: dict[str, pulumi.Resource] = {}
        ready = list(cluster.ready)
        # Rook-Ceph's items are created by its own component (with the udev
        # rules of its nodes), when the first of them comes in install order.
        rook_plan = next((p for p in plans if p.name == "rook-ceph"), None)
        rook_keys = {i.key for i in rook_plan.items} if rook_plan else set()
        self.storage = None
        """The ``RookCeph`` component (storage.class rook-ceph)."""
        geo_plan = next((p for p in plans if p.name == "geo-databases"), None)
        geo_keys = {i.key for i in geo_plan.items} if geo_plan else set()
        self.data = None
        """The ``GeoDatabases`` component (dataServices)."""
        for item in unique_items(plans):
            if item.key in rook_keys:
                if self.storage is None:
                    self.storage = self._rook_ceph(name, rook_plan, args["nodes"], cluster, ready, created)
                    self.releases.update({k: r for k, r in self.storage.resources.items()
                                          if isinstance(r, k8s.helm.v3.Release)})
                    created.update(self.storage.resources)
                continue
            if item.key in geo_keys:
                if self.data is None:
                    self.data = self._geo_databases(name, geo_plan, cluster, ready, created)
                    self.releases.update({k: r for k, r in self.data.resources.items()
                                          if isinstance(r, k8s.helm.v3.Release)})
                    self.objects.update({k: r for k, r in self.data.resources.items()
                                         if not isinstance(r, k8s.helm.v3.Release)})
                    created.update(self.data.resources)
                continue
            opts_ = pulumi.ResourceOptions(parent=self, provider=cluster.provider,
                                           depends_on=ready + [created[k] for k in item.after])
            res_name = f"{name}-{item.key.replace('/', '-')}"
            if isinstance(item, Release):
                created[item.key] = self.releases[item.key] = release(res_name, item, opts_)
            else:
                created[item.key] = self.objects[item.key] = manifest_object(res_name, item, opts_)
        self.register_outputs({"podMtu": self.pod_mtu, "installed": self.installed})

    def _geo_databases(self, name: str, plan, cluster, ready, created):
        from components.data.geo_databases import GeoDatabases

        keys = {i.key for i in plan.items}
        external = sorted({k for i in plan.items for k in i.after} - keys)
        missing = [k for k in external if k not in created]
        if missing:
            raise ValueError(f"geo-databases must install after {missing}: list them in its namespace's after")
        return GeoDatabases(f"{name}-geo-databases", {
            "plan": plan, "provider": cluster.provider, "ready": ready,
            "after": {k: created[k] for k in external},
        }, pulumi.ResourceOptions(parent=self))

    def _rook_ceph(self, name: str, plan, nodes, cluster, ready, created):
        # Imported here: components.storage builds on this package's modules.
        from components.storage.plan import usb_nodes
        from components.storage.rook_ceph import RookCeph

        external = sorted({k for i in plan.items for k in i.after} - {i.key for i in plan.items})
        missing = [k for k in external if k not in created]
        if missing:
            raise ValueError(f"rook-ceph must install after {missing}: list them in its namespace's after")
        layout_nodes = usb_nodes(self.context.spec)
        return RookCeph(f"{name}-rook-ceph", {
            "plan": plan, "nodes": list(nodes), "usb_nodes": layout_nodes, "provider": cluster.provider,
            "after": ready + [created[k] for k in external],
        }, pulumi.ResourceOptions(parent=self))


