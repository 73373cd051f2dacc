"""Everything the platform installs, as data: the CNI first, then the add-ons."""

from __future__ import annotations

from .addons import addon_plans
from .cni import cni_plan
from .model import AddonPlan, Manifest, PlatformContext, Release


def platform_plans(ctx: PlatformContext) -> list[AddonPlan]:
    cni = cni_plan(ctx)
    addons = addon_plans(ctx)
    _after_the_network(cni, addons)
    plans = [cni, *addons]
    _check_order(plans)
    return plans


def _after_the_network(cni: AddonPlan, addons: list[AddonPlan]) -> None:
    """Every add-on item installs after the CNI is ready (``cni.ready``: the
    Cilium release, atomic so it returns once its DaemonSet is up; Calico's
    ``Installation``, awaited until the operator reports it Ready). Without
    it the first ``pulumi up`` races the network: pods of a chart created
    before the CNI works sit in ContainerCreating and the atomic release
    times out (and is rolled back)."""
    if not cni.ready or cni.ready not in {i.key for i in cni.items}:
        raise ValueError(f"the CNI plan must name its readiness item (ready={cni.ready!r})")
    for plan in addons:
        for item in plan.items:
            if cni.ready not in item.after:
                item.after.append(cni.ready)


def _check_order(plans: list[AddonPlan]) -> None:
    """Every ``after`` key names something installed; namespaces shared by two
    add-ons (monitoring's, argocd's) are written once."""
    items: dict[str, Release | Manifest] = {}
    for p in plans:
        for item in p.items:
            if item.key in items and not item.key.startswith("ns/"):
                raise ValueError(f"two platform items share the key {item.key!r}")
            items.setdefault(item.key, item)
    for item in items.values():
        missing = [k for k in item.after if k not in items]
        if missing:
            raise ValueError(f"{item.key} must install after {missing}, which no enabled add-on provides "
                             "(enable the add-on it relies on)")


def unique_items(plans: list[AddonPlan]) -> list[Release | Manifest]:
    """Releases and manifests in dependency order (stable), each key once."""
    items: dict[str, Release | Manifest] = {}
    for p in plans:
        for item in p.items:
            items.setdefault(item.key, item)
    done: list[str] = []
    pending = list(items)
    while pending:
        progressed = False
        for key in list(pending):
            if all(a in done for a in items[key].after):
                done.append(key)
                pending.remove(key)
                progressed = True
        if not progressed:
            raise ValueError(f"platform install order has a cycle among {pending}")
    return [items[k] for k in done]
