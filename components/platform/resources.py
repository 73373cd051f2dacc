"""Plan items (``Release``, ``Manifest``) turned into Pulumi resources."""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

from .model import Manifest, Release

# Core kinds the project writes, by (apiVersion, kind).
_CORE = {
    ("v1", "Namespace"): lambda name, o, opts: k8s.core.v1.Namespace(name, metadata=o["metadata"], opts=opts),
    ("v1", "Secret"): lambda name, o, opts: k8s.core.v1.Secret(
        name, metadata=o["metadata"], type=o.get("type"), string_data=o.get("stringData"), opts=opts),
    ("apps/v1", "DaemonSet"): lambda name, o, opts: k8s.apps.v1.DaemonSet(
        name, metadata=o["metadata"], spec=o["spec"], opts=opts),
    ("v1", "ConfigMap"): lambda name, o, opts: k8s.core.v1.ConfigMap(
        name, metadata=o["metadata"], data=o.get("data"), opts=opts),
    ("batch/v1", "Job"): lambda name, o, opts: k8s.batch.v1.Job(name, metadata=o["metadata"], spec=o["spec"], opts=opts),
    ("node.k8s.io/v1", "RuntimeClass"): lambda name, o, opts: k8s.node.v1.RuntimeClass(
        name, metadata=o["metadata"], handler=o["handler"], scheduling=o.get("scheduling"), opts=opts),
    ("v1", "ServiceAccount"): lambda name, o, opts: k8s.core.v1.ServiceAccount(name, metadata=o["metadata"], opts=opts),
    ("rbac.authorization.k8s.io/v1", "ClusterRole"): lambda name, o, opts: k8s.rbac.v1.ClusterRole(
        name, metadata=o["metadata"], rules=o["rules"], opts=opts),
    ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"): lambda name, o, opts: k8s.rbac.v1.ClusterRoleBinding(
        name, metadata=o["metadata"], role_ref=o["roleRef"], subjects=o["subjects"], opts=opts),
}

# Core kinds the project patches (``Manifest.patch``: someone else owns the
# object): server-side apply of the fields given, never a create or delete.
_CORE_PATCHES = {
    ("node.k8s.io/v1", "RuntimeClass"): lambda name, o, opts: k8s.node.v1.RuntimeClassPatch(
        name, metadata=o["metadata"], handler=o.get("handler"), scheduling=o.get("scheduling"), opts=opts),
}


def release(name: str, item: Release, opts: pulumi.ResourceOptions, *, values=None, wait: bool = True,
            timeout: int = 900) -> k8s.helm.v3.Release:
    """``values``: in place of ``item.values`` (e.g. with Pulumi secrets in);
    ``wait=False``: Helm returns before the pods are ready (no rollback then)."""
    return k8s.helm.v3.Release(
        name,
        name=item.key,
        chart=item.chart.chart,
        version=item.chart.version,
        repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=item.chart.repo),
        namespace=item.chart.namespace,
        # The project creates namespaces itself (its Secrets go in first).
        create_namespace=False,
        values=item.values if values is None else values,
        atomic=wait,
        # Unset when waiting (the default): existing releases keep their inputs.
        skip_await=None if wait else True,
        cleanup_on_fail=wait,
        timeout=timeout,
        opts=opts,
    )


def manifest_object(name: str, item: Manifest, opts: pulumi.ResourceOptions) -> pulumi.CustomResource:
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
