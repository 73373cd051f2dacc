"""Volumes of the platform: the StorageClass every claim names, and on
kubeadm the provisioner behind it.

K3s bundles rancher's local-path-provisioner (StorageClass ``local-path``,
marked default); kubeadm has no StorageClass at all, so a claim there stays
Pending and its add-on's release times out. With ``storage.class:
local-path`` on kubeadm the platform installs the same provisioner (its
chart, pinned in ``charts.py``) and the add-ons with volumes install after
it (``volume_after``). Classes the project does not provide are rejected
by the spec (``components.spec.platform.check_storage``) and, should a plan
still meet one, here.
"""

from __future__ import annotations

from typing import Any

from ...spec.platform import PROVIDED_STORAGE_CLASSES
from ..chart_values import LocalPathValues, typed
from ..charts import CHARTS
from ..model import AddonPlan, PlatformContext, Release, Workload
from ..objects import namespace
from ..profiles import requests

RELEASE = "local-path-provisioner"


def provisioner_needed(spec) -> bool:
    """kubeadm with ``storage.class: local-path`` (K3s brings its own)."""
    return spec.distribution == "kubeadm" and spec.storage.storage_class == "local-path"


def storage_class(ctx: PlatformContext, user: str) -> str:
    """The StorageClass ``user``'s claims name (set explicitly, so they do not
    depend on which class is the cluster default): ``local-path``, or
    Rook-Ceph's block class (``replicated``)."""
    storage = ctx.spec.storage
    if storage.storage_class not in PROVIDED_STORAGE_CLASSES or (
            storage.storage_class == "rook-ceph" and storage.rook_ceph is None):
        raise ValueError(f"addons.{user}: storage.class {storage.storage_class!r} is not installed by this project; "
                         f"use {PROVIDED_STORAGE_CLASSES[0]!r} or disable {user}")
    return storage.class_name


def volume_after(ctx: PlatformContext) -> list[str]:
    """``after`` keys of an item that claims a volume: the provisioner, or
    the Rook-Ceph cluster release (its pool and StorageClass)."""
    from components.storage.plan import enabled
    from components.storage.values import CLUSTER

    if enabled(ctx.spec):
        return [CLUSTER]
    return [RELEASE] if provisioner_needed(ctx.spec) else []


def values(ctx: PlatformContext) -> dict[str, Any]:
    out: dict[str, Any] = {
        # local-path-provisioner chart storageClass.* (values.yaml): the
        # class K3s would have, default when storage.default says so.
        "storageClass": {"create": True, "defaultClass": ctx.spec.storage.default, "name": "local-path",
                         # As K3s's bundled class (and the chart's default).
                         "reclaimPolicy": "Delete"},
        "resources": requests(ctx.profile, "local-path-provisioner"),
    }
    if ctx.priority(critical=True):
        out["priorityClassName"] = ctx.priority(critical=True)
    return typed(LocalPathValues, out)


def plan(ctx: PlatformContext) -> AddonPlan:
    chart = CHARTS[RELEASE]
    # Its helper pods mount hostPath directories on the nodes.
    ns = namespace(chart.namespace, labels={"pod-security.kubernetes.io/enforce": "privileged"})
    v = values(ctx)
    return AddonPlan("storage", releases=[Release(RELEASE, chart, v, after=[ns.key])], manifests=[ns],
                     workloads=[Workload(RELEASE, "local-path-provisioner", "Deployment", ("resources",))])
