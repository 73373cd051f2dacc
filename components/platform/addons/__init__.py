"""Opt-in add-ons: each module turns the context into an ``AddonPlan``."""

from __future__ import annotations

from ..model import AddonPlan, PlatformContext
from . import cert_manager, gitops, gpu, ingress_nginx, keycloak, metallb, monitoring, storage, vault

# Install order between add-ons is expressed by ``after`` keys; this order
# only fixes the order of the plan's listing.
ADDONS = {
    "certManager": (cert_manager.plan, lambda a: a.cert_manager.enabled),
    "ingressNginx": (ingress_nginx.plan, lambda a: a.ingress_nginx.enabled),
    "metallb": (metallb.plan, lambda a: a.metallb.enabled),
    "monitoring": (monitoring.plan, lambda a: a.monitoring.enabled),
    "gitops": (gitops.plan, lambda a: a.gitops.enabled),
    "vault": (vault.plan, lambda a: a.vault.enabled),
    "keycloak": (keycloak.plan, lambda a: a.keycloak.enabled),
    "gpu": (gpu.plan, lambda a: a.gpu.enabled),
}


def addon_plans(ctx: PlatformContext) -> list[AddonPlan]:
    # The StorageClass of kubeadm clusters (K3s bundles one): always there,
    # as on K3s, whether or not an add-on claims a volume.
    base = [storage.plan(ctx)] if storage.provisioner_needed(ctx.spec) else []
    # storage.class rook-ceph: Rook and its Ceph cluster (components/storage).
    from components.storage import plan as rook

    if rook.enabled(ctx.spec):
        base.append(rook.plan(ctx))
    addons = [build(ctx) for build, enabled in ADDONS.values() if enabled(ctx.addons)]
    # dataServices: geo-replicated PostgreSQL, S3 and search (components/data).
    from components.data import plan as data

    # fleet: the hub's or a spoke's multi-cluster items (components/fleet).
    from components.fleet import plan as fleet

    extra = [fleet.plan(ctx)] if fleet.enabled(ctx.spec) else []
    return base + addons + ([data.plan(ctx)] if data.enabled(ctx.spec) else []) + extra
