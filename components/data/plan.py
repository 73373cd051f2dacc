"""Geo-replicated data services as data (``dataServices``, issue 15).

A pure ``plan(ctx) -> AddonPlan`` like every add-on; the ``GeoDatabases``
component (``geo_databases.py``) turns its items into resources. Why these
engines and the measured lag: ``docs/geo-databases.md``.

PostgreSQL (CloudNativePG, the chart Keycloak already pins): one ``Cluster``
per region, pinned to that region's nodes (nodeAffinity on
``topology.kubernetes.io/region``), in CloudNativePG's *distributed
topology*: every Cluster names the same ``replica.primary`` (the primary
region's cluster) and a ``replica.source``; the one whose name is the
primary runs read-write, the others are replica clusters streaming from the
primary's ``-rw`` Service (pod to pod through the CNI, over the WireGuard
mesh) with the primary's ``streaming_replica`` certificate. ``externalClusters``
lists every region's cluster, so any of them can become the primary.

Backups: base backups and the WAL archive go to S3 through Barman Cloud.
The Barman Cloud *plugin* (``spec.plugins`` name
``barman-cloud.cloudnative-pg.io``) reads its target from an ``ObjectStore``
of the group ``barmancloud.cnpg.io``, whose CRD is not in the project's
schema set (``../shared/crd-schemas`` has no ``barmancloud.cnpg.io``), so an
ObjectStore could not be validated, and the plugin itself would be one more
chart. The Cluster schema supports the in-tree ``spec.backup.barmanObjectStore``
(same Barman Cloud tools, deprecated upstream in favour of the plugin since
CloudNativePG 1.26, still served by the pinned operator 1.27): used here.
Moving to the plugin is a schema + chart addition, not a redesign.
"""

from __future__ import annotations

import re
from typing import Any

from components.platform.addons.keycloak import CNPG, cnpg_values
from components.platform.addons.storage import storage_class, volume_after
from components.platform.charts import CHARTS
from components.platform.model import AddonPlan, Manifest, PlatformContext, Release, Workload
from components.platform.objects import custom, namespace, secret
from components.platform.profiles import CEPH, requests
from components.spec.data import DataServicesSpec, worker_regions

NAME = "geo-databases"
REGION_LABEL = "topology.kubernetes.io/region"
# Secret values given by the stack (secret config, never spec or plain inputs).
BACKUP_ACCESS_KEY = "data-backup-s3-access-key"
BACKUP_SECRET_KEY = "data-backup-s3-secret-key"
BACKUP_ACCESS_KEY_CONFIG = "dataBackupS3AccessKey"
BACKUP_SECRET_KEY_CONFIG = "dataBackupS3SecretKey"
ECK = "eck-operator"
ROOK_NAMESPACE = "rook-ceph"
ROOK_CLUSTER = "rook-ceph-cluster"


def enabled(spec) -> bool:
    return spec.data_services.enabled


def needs_backup_credentials(spec) -> bool:
    pg = spec.data_services.postgres
    return pg.enabled and pg.backups.enabled


def label(region: str) -> str:
    """A region as a DNS label (``fr-par-1`` stays, ``SBG`` -> ``sbg``)."""
    return re.sub(r"[^a-z0-9-]", "-", region.lower()).strip("-")


def region_affinity(region: str) -> dict[str, Any]:
    return {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
        {"matchExpressions": [{"key": REGION_LABEL, "operator": "In", "values": [region]}]}]}}


# -- PostgreSQL --------------------------------------------------------------

def pg_cluster_name(data: DataServicesSpec, region: str) -> str:
    return f"{data.postgres.name}-{label(region)}"


def pg_roles(data: DataServicesSpec) -> dict[str, dict[str, str]]:
    """region -> {primary, source} of its Cluster's ``spec.replica``.

    ``primary``: the primary region's cluster, except during the first step
    of a switchover (``switchover.to`` set, no token yet): every cluster but
    the target then names the target, so the old primary demotes and
    publishes its demotion token while the target still follows; with the
    token the target names itself and promotes once it has replayed up to
    the token. ``source``: replicas follow the primary region; the primary
    region's cluster (what it follows once demoted) follows the switchover
    target, else the synchronous region, else the first replica region.
    """
    pg = data.postgres
    primary = pg.primary_region
    sw = pg.switchover
    names = {r: pg_cluster_name(data, r) for r in pg.regions}
    out = {}
    for region in pg.regions:
        if sw is None:
            designated = names[primary]
        elif region == sw.to:
            designated = names[sw.to] if sw.promotion_token else names[primary]
        else:
            designated = names[sw.to]
        if region == primary:
            follows = (sw.to if sw else None) or pg.synchronous_region or (pg.replica_regions or [None])[0]
        else:
            follows = primary
        out[region] = {"primary": designated, "source": names[follows] if follows else names[region]}
    return out


def _external(data: DataServicesSpec, region: str) -> dict[str, Any]:
    """Another region's cluster reached through its ``-rw`` Service, as its
    ``streaming_replica`` user with the client certificate and CA the
    operator made for that cluster (same namespace: no copying)."""
    name = pg_cluster_name(data, region)
    return {
        "name": name,
        "connectionParameters": {"host": f"{name}-rw.{data.namespace}.svc", "user": "streaming_replica",
                                 "sslmode": "verify-full", "dbname": "postgres"},
        "sslKey": {"name": f"{name}-replication", "key": "tls.key"},
        "sslCert": {"name": f"{name}-replication", "key": "tls.crt"},
        "sslRootCert": {"name": f"{name}-ca", "key": "ca.crt"},
    }


def backup_secret_name(data: DataServicesSpec) -> str:
    return f"{data.postgres.name}-backup-s3"


def pg_cluster(ctx: PlatformContext, region: str, roles: dict[str, str]) -> dict[str, Any]:
    data = ctx.spec.data_services
    pg = data.postgres
    name = pg_cluster_name(data, region)
    spec: dict[str, Any] = {
        "instances": pg.instances,
        "storage": {"size": pg.storage_size, "storageClass": storage_class(ctx, "dataServices.postgres")},
        "affinity": {"nodeAffinity": region_affinity(region), "enablePodAntiAffinity": True,
                     "topologyKey": "kubernetes.io/hostname"},
        # Bootstrap decides once, at creation (later changes are ignored by
        # the component): the first primary region initialises the database,
        # the others clone it with pg_basebackup over the mesh.
        "bootstrap": ({"initdb": {"database": pg.database, "owner": pg.owner}} if region == pg.primary_region
                      else {"pg_basebackup": {"source": pg_cluster_name(data, pg.primary_region)}}),
        "replica": {"self": name, **roles},
        "externalClusters": [_external(data, r) for r in pg.regions],
        "resources": requests(ctx.profile, "geo-postgres"),
    }
    if pg.synchronous_region is not None and name == roles["primary"]:
        # The synchronous region's cluster (its designated primary connects
        # with application_name = its cluster name) first in
        # synchronous_standby_names: each commit waits for it (one RTT,
        # 42 ms at 40 ms in the lab), none is lost with the primary region.
        sync_target = pg.synchronous_region if region == pg.primary_region else pg.primary_region
        spec["postgresql"] = {"synchronous": {"method": "first", "number": 1,
                                              "standbyNamesPre": [pg_cluster_name(data, sync_target)]}}
    if pg.switchover and pg.switchover.promotion_token and region == pg.switchover.to:
        spec["replica"]["promotionToken"] = pg.switchover.promotion_token
    if pg.backups.enabled:
        creds = backup_secret_name(data)
        store: dict[str, Any] = {
            "destinationPath": pg.backups.destination,
            "s3Credentials": {"accessKeyId": {"name": creds, "key": "ACCESS_KEY_ID"},
                              "secretAccessKey": {"name": creds, "key": "ACCESS_SECRET_KEY"}},
            "wal": {"compression": "gzip"}, "data": {"compression": "gzip"},
        }
        if pg.backups.endpoint_url:
            store["endpointURL"] = pg.backups.endpoint_url
        spec["backup"] = {"barmanObjectStore": store, "retentionPolicy": pg.backups.retention}
    if ctx.priority():
        spec["priorityClassName"] = ctx.priority()
    return spec


def lag_rules(data: DataServicesSpec) -> dict[str, Any]:
    pg = data.postgres
    return {"groups": [{"name": "sovereign-geo-postgres", "rules": [
        {"alert": "GeoPostgresReplicationLag",
         "expr": f'max by (namespace, pod) (cnpg_pg_replication_lag{{namespace="{data.namespace}"}}) '
                 f"> {pg.lag_alert_seconds}",
         "for": "2m", "labels": {"severity": "warning"},
         "annotations": {"summary": f"{{{{ $labels.pod }}}} replays more than {pg.lag_alert_seconds} s behind its "
                                    "primary: a saturated mesh link or a replica that cannot keep up"}},
        {"alert": "GeoPostgresReplicaNotStreaming",
         "expr": f'cnpg_pg_replication_is_wal_receiver_up{{namespace="{data.namespace}"}} == 0',
         "for": "5m", "labels": {"severity": "critical"},
         "annotations": {"summary": "{{ $labels.pod }} receives no WAL from its source"}},
    ]}]}


def postgres_items(ctx: PlatformContext, ns: str) -> tuple[list[Manifest], list[Workload]]:
    data = ctx.spec.data_services
    pg = data.postgres
    manifests: list[Manifest] = []
    after = [CNPG, ns, *volume_after(ctx)]
    if pg.backups.enabled:
        creds = secret("geo/pg-backup-s3", backup_secret_name(data), data.namespace, {
            "ACCESS_KEY_ID": ctx.secrets.get(BACKUP_ACCESS_KEY, "<secret config>"),
            "ACCESS_SECRET_KEY": ctx.secrets.get(BACKUP_SECRET_KEY, "<secret config>"),
        }, after=[ns])
        manifests.append(creds)
        after.append(creds.key)
    roles = pg_roles(data)
    # The primary region first: replicas clone it (their pg_basebackup waits for it).
    for region in pg.regions:
        first = [] if region == pg.primary_region else [f"geo/pg/{label(pg.primary_region)}"]
        manifests.append(custom(f"geo/pg/{label(region)}", "postgresql.cnpg.io/v1", "Cluster",
                                pg_cluster_name(data, region), pg_cluster(ctx, region, roles[region]),
                                namespace=data.namespace, after=after + first))
    if pg.backups.enabled:
        primary = pg_cluster_name(data, pg.primary_region)
        manifests.append(custom("geo/pg-backup", "postgresql.cnpg.io/v1", "ScheduledBackup", f"{pg.name}-daily", {
            "schedule": pg.backups.schedule, "cluster": {"name": primary},
            "method": "barmanObjectStore", "backupOwnerReference": "self",
        }, namespace=data.namespace, after=[f"geo/pg/{label(pg.primary_region)}"]))
    if ctx.addons.monitoring.enabled:
        manifests.append(custom("geo/pg-podmonitor", "monitoring.coreos.com/v1", "PodMonitor", pg.name, {
            "selector": {"matchLabels": {"cnpg.io/podRole": "instance"}},
            "podMetricsEndpoints": [{"port": "metrics"}],
        }, namespace=data.namespace, after=[ns, "kube-prometheus-stack"]))
        manifests.append(custom("geo/pg-alerts", "monitoring.coreos.com/v1", "PrometheusRule", f"{pg.name}-lag",
                                lag_rules(data), namespace=data.namespace, after=[ns, "kube-prometheus-stack"]))
    groups = worker_regions(ctx.spec)
    workloads = [Workload(f"geo/pg/{label(r)}", pg_cluster_name(data, r), "StatefulSet", ("spec", "resources"),
                          replicas=pg.instances, groups=tuple(groups.get(r, ()))) for r in pg.regions]
    return manifests, workloads


# -- S3: Rook RGW multisite --------------------------------------------------

def _osd_hosts(ctx: PlatformContext, region: str) -> int:
    from components.storage.layout import ceph_layout

    return sum(1 for n in ceph_layout(ctx.spec).osd_nodes
               if (ctx.spec.node_groups[n.group].region or "on-prem") == region)


def _zone_pool(ctx: PlatformContext, region: str) -> dict[str, Any]:
    """A pool of one zone, kept on its region's OSDs: Rook puts each OSD host
    under a CRUSH ``region`` bucket named by the node's
    topology.kubernetes.io/region label, and ``crushRoot`` makes the pool's
    rule start there. Size: the spec's replicas, at most the region's OSD
    hosts (failure domain host inside the region)."""
    size = max(1, min(ctx.spec.storage.rook_ceph.replicas, _osd_hosts(ctx, region)))
    return {"failureDomain": "host", "crushRoot": region, "replicated": {"size": size}}


def object_store_items(ctx: PlatformContext) -> list[Manifest]:
    """One realm, one zone group, one zone and one CephObjectStore (its RGW
    gateways on the region's nodes) per region; the first region's zone is
    the master (Rook makes the first zone created in a zone group the master;
    the order of ``after`` keys guarantees it). Objects replicate
    asynchronously between zones."""
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
            "metadataPool": _zone_pool(ctx, region), "dataPool": _zone_pool(ctx, region),
            "preservePoolsOnDelete": True,
        }, namespace=ROOK_NAMESPACE, after=[zone_group.key] + ([] if region == store.regions[0] else [master]))
        cpu, memory, limit = CEPH[ctx.profile]["rgw"]
        gateway = {"port": 80, "instances": store.gateways_per_region,
                   "placement": {"nodeAffinity": region_affinity(region)},
                   "resources": {"requests": {"cpu": cpu, "memory": memory},
                                 **({"limits": {"memory": limit}} if limit else {})}}
        if ctx.priority():
            gateway["priorityClassName"] = ctx.priority()
        out += [zone, custom(f"geo/rgw-store/{label(region)}", "ceph.rook.io/v1", "CephObjectStore", zone_name, {
            "zone": {"name": zone_name}, "gateway": gateway,
        }, namespace=ROOK_NAMESPACE, after=[zone.key])]
    return out


# -- search: ECK Elasticsearch with zone awareness ---------------------------

def search_items(ctx: PlatformContext, ns: str) -> tuple[list[Release], list[Manifest], list[Workload]]:
    """One Elasticsearch cluster, one node set per region (pinned there),
    shard allocation awareness on the region attribute, forced so a region's
    loss does not pile every replica into the others.

    Cross-cluster replication (a follower cluster per region, the shape for
    Europe-USA) is not offered: Elastic's CCR needs a paid licence on both
    clusters; OpenSearch's cross-cluster replication plugin (Apache 2.0) is
    the open alternative, a follow-up (no OpenSearch operator CRD in the
    project's schema set yet).
    """
    data = ctx.spec.data_services
    search = data.search
    eck_ns = namespace(CHARTS[ECK].namespace)
    operator = Release(ECK, CHARTS[ECK], {
        "resources": requests(ctx.profile, "eck-operator"),
        # Only the data namespace: the operator watches nothing else.
        "managedNamespaces": [data.namespace],
    }, after=[eck_ns.key] + ([ns] if ns else []))
    regions = ",".join(search.regions)
    node_sets = []
    for region in search.regions:
        node_sets.append({
            "name": label(region), "count": search.nodes_per_region,
            "config": {
                "node.attr.region": region,
                "cluster.routing.allocation.awareness.attributes": "region",
                "cluster.routing.allocation.awareness.force.region.values": regions,
                # No vm.max_map_count change on the nodes (a privileged init
                # container otherwise): niofs instead of mmap.
                "node.store.allow_mmap": False,
            },
            "podTemplate": {"spec": {
                "affinity": {"nodeAffinity": region_affinity(region)},
                "containers": [{"name": "elasticsearch", "resources": requests(ctx.profile, "elasticsearch")}],
                **({"priorityClassName": ctx.priority()} if ctx.priority() else {}),
            }},
            "volumeClaimTemplates": [{
                "metadata": {"name": "elasticsearch-data"},
                "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": storage_class(ctx, "dataServices.search"),
                         "resources": {"requests": {"storage": search.storage_size}}},
            }],
        })
    es = custom("geo/search", "elasticsearch.k8s.elastic.co/v1", "Elasticsearch", search.name,
                {"version": search.version, "nodeSets": node_sets},
                namespace=data.namespace, after=[ECK, ns, *volume_after(ctx)])
    groups = worker_regions(ctx.spec)
    workloads = [Workload(ECK, "elastic-operator", "StatefulSet", ("resources",))] + [
        Workload(es.key, f"{search.name}-es-{label(r)}", "StatefulSet",
                 ("spec", "nodeSets", i, "podTemplate", "spec", "containers", 0, "resources"),
                 replicas=search.nodes_per_region, groups=tuple(groups.get(r, ())))
        for i, r in enumerate(search.regions)]
    return [operator], [eck_ns, es], workloads


# -- the plan ----------------------------------------------------------------

def plan(ctx: PlatformContext) -> AddonPlan:
    data = ctx.spec.data_services
    ns = namespace(data.namespace)
    releases: list[Release] = []
    manifests: list[Manifest] = [ns]
    workloads: list[Workload] = []
    if data.postgres.enabled:
        if not ctx.addons.keycloak.enabled:
            # The operator Keycloak installs (same pinned chart, same key):
            # installed here when Keycloak is off.
            cnpg_ns = namespace(CHARTS[CNPG].namespace)
            releases.append(Release(CNPG, CHARTS[CNPG], cnpg_values(ctx), after=[cnpg_ns.key] + (
                ["kube-prometheus-stack"] if ctx.addons.monitoring.enabled else [])))
            manifests.append(cnpg_ns)
            workloads.append(Workload(CNPG, "cnpg-operator", "Deployment", ("resources",)))
        pg_manifests, pg_workloads = postgres_items(ctx, ns.key)
        manifests += pg_manifests
        workloads += pg_workloads
    if data.object_store.enabled:
        manifests += object_store_items(ctx)
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
