"""Geo-replicated data services as data (``dataServices``, issue 15).

A pure ``plan(ctx) -> AddonPlan`` like every add-on; the ``GeoDatabases``
component (``geo_databases.py``) turns its items into resources. Why these
engines and the measured lag: ``docs/geo-databases.md``. One module per
service: ``postgres.py`` (CloudNativePG, backups through ``barman_cloud.py``),
``rgw.py`` (Rook RGW multisite, the default S3), ``minio.py`` (MinIO, on
explicit request, with a warning), ``search.py`` (ECK Elasticsearch);
``placement.py`` pins each region's pods to its nodes, ``secrets.py`` names
the secret config they need.
"""

from __future__ import annotations

from components.platform.addons.keycloak import CNPG, cnpg_values
from components.platform.charts import CHARTS
from components.platform.model import AddonPlan, Manifest, PlatformContext, Release, Workload
from components.platform.objects import namespace

from .minio import minio_items
from .postgres import postgres_items
from .rgw import object_store_items
from .search import search_items

NAME = "geo-databases"


def enabled(spec) -> bool:
    return spec.data_services.enabled


def _cnpg_operator(ctx: PlatformContext) -> tuple[Release, Manifest, Workload]:
    """The operator Keycloak installs (same pinned chart, same key), for when Keycloak is off."""
    cnpg_ns = namespace(CHARTS[CNPG].namespace)
    release = Release(CNPG, CHARTS[CNPG], cnpg_values(ctx), after=[cnpg_ns.key] + (
        ["kube-prometheus-stack"] if ctx.addons.monitoring.enabled else []))
    return release, cnpg_ns, Workload(CNPG, "cnpg-operator", "Deployment", ("resources",))


def plan(ctx: PlatformContext) -> AddonPlan:
    data = ctx.spec.data_services
    ns = namespace(data.namespace)
    releases: list[Release] = []
    manifests: list[Manifest] = [ns]
    workloads: list[Workload] = []
    if data.postgres.enabled:
        if not ctx.addons.keycloak.enabled:
            release, cnpg_ns, workload = _cnpg_operator(ctx)
            releases.append(release)
            manifests.append(cnpg_ns)
            workloads.append(workload)
        m, w, r = postgres_items(ctx, ns.key)
        manifests += m
        workloads += w
        releases += r
    if data.object_store.enabled and data.object_store.engine == "rook-rgw":
        manifests += object_store_items(ctx)
    if data.object_store.enabled and data.object_store.engine == "minio":
        r, m, w = minio_items(ctx)
        releases += r
        manifests += m
        workloads += w
    if data.search.enabled:
        r, m, w = search_items(ctx, ns.key)
        releases += r
        manifests += m
        workloads += w
    out = AddonPlan(NAME, releases=releases, manifests=manifests, workloads=workloads)
    # The namespace comes first and waits for everything the plan needs
    # from other plans, so the component is created once those exist.
    keys = {i.key for i in out.items}
    ns.after = sorted({a for i in out.items for a in i.after} - keys)
    for item in out.items:
        if item is not ns and ns.key not in item.after:
            item.after.append(ns.key)
    return out
