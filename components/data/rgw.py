"""Geo-replicated S3, the default: Ceph RGW multisite through Rook.

One realm, one zone group, one zone and one ``CephObjectStore`` (its RGW
gateways on the region's nodes) per region; objects replicate
asynchronously between zones. Needs ``storage.class: rook-ceph`` with OSDs
in every region (``components.spec.data.check_data_services``).
"""

from __future__ import annotations

from typing import Any

from components.platform.model import Manifest, PlatformContext
from components.platform.objects import custom
from components.platform.profiles import CEPH

from .placement import label, region_affinity, tolerations

ROOK_NAMESPACE = "rook-ceph"
ROOK_CLUSTER = "rook-ceph-cluster"


def _osd_hosts(ctx: PlatformContext, region: str) -> int:
    from components.storage.layout import ceph_layout

    return sum(1 for n in ceph_layout(ctx.spec).osd_nodes
               if (ctx.spec.node_groups[n.group].region or "on-prem") == region)


def zone_pool(ctx: PlatformContext, region: str) -> dict[str, Any]:
    """A pool of one zone, kept on its region's OSDs. Rook places each OSD
    host under a CRUSH ``region`` bucket named by the node's
    ``topology.kubernetes.io/region`` label (its topology labels: ``zone``,
    ``region``, then ``topology.rook.io/*``), and ``crushRoot`` (a field of
    every Rook pool spec, CephObjectZone's included) makes the pool's CRUSH
    rule take that bucket instead of ``default``. Size: the spec's replicas,
    at most the region's OSD hosts (failure domain host inside the region)."""
    size = max(1, min(ctx.spec.storage.rook_ceph.replicas, _osd_hosts(ctx, region)))
    return {"failureDomain": "host", "crushRoot": region, "replicated": {"size": size}}


def object_store_items(ctx: PlatformContext) -> list[Manifest]:
    """The first region's zone is the master (Rook makes the first zone
    created in a zone group the master; the ``after`` keys order them)."""
    store = ctx.spec.data_services.object_store
    realm = custom("geo/rgw-realm", "ceph.rook.io/v1", "CephObjectRealm", store.realm, {},
                   namespace=ROOK_NAMESPACE, after=[ROOK_CLUSTER])
    zone_group = custom("geo/rgw-zonegroup", "ceph.rook.io/v1", "CephObjectZoneGroup", store.zone_group,
                        {"realm": store.realm}, namespace=ROOK_NAMESPACE, after=[realm.key])
    out = [realm, zone_group]
    master = f"geo/rgw-zone/{label(store.regions[0])}"
    for region in store.regions:
        zone_name = f"{store.zone_group}-{label(region)}"
        zone = custom(f"geo/rgw-zone/{label(region)}", "ceph.rook.io/v1", "CephObjectZone", zone_name, {
            "zoneGroup": store.zone_group,
            "metadataPool": zone_pool(ctx, region), "dataPool": zone_pool(ctx, region),
            "preservePoolsOnDelete": True,
        }, namespace=ROOK_NAMESPACE, after=[zone_group.key] + ([] if region == store.regions[0] else [master]))
        cpu, memory, limit = CEPH[ctx.profile]["rgw"]
        placement: dict[str, Any] = {"nodeAffinity": region_affinity(region)}
        if ctx.spec.data_services.tolerations:
            placement["tolerations"] = tolerations(ctx.spec)
        gateway = {"port": 80, "instances": store.gateways_per_region, "placement": placement,
                   "resources": {"requests": {"cpu": cpu, "memory": memory},
                                 **({"limits": {"memory": limit}} if limit else {})}}
        if ctx.priority():
            gateway["priorityClassName"] = ctx.priority()
        out += [zone, custom(f"geo/rgw-store/{label(region)}", "ceph.rook.io/v1", "CephObjectStore", zone_name, {
            "zone": {"name": zone_name}, "gateway": gateway,
        }, namespace=ROOK_NAMESPACE, after=[zone.key])]
    return out
