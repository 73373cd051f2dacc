"""PostgreSQL across regions: CloudNativePG (the chart Keycloak already pins).

One ``Cluster`` per region, pinned to that region's nodes (nodeAffinity on
``topology.kubernetes.io/region``), in CloudNativePG's *distributed
topology*: every Cluster names the same ``replica.primary`` (the primary
region's cluster) and a ``replica.source``; the one whose name is the
primary runs read-write, the others are replica clusters streaming from the
primary's ``-rw`` Service (pod to pod through the CNI, over the WireGuard
mesh) with the primary's ``streaming_replica`` certificate. ``externalClusters``
lists every region's cluster, so any of them can become the primary.
Backups: ``barman_cloud.py``. Switchover: ``geo_databases.py``.
"""

from __future__ import annotations

from typing import Any

from components.platform.addons.keycloak import CNPG
from components.platform.addons.storage import storage_class, volume_after
from components.platform.model import Manifest, PlatformContext, Workload
from components.platform.objects import custom, secret
from components.platform.profiles import requests
from components.spec.data import DataServicesSpec

from . import barman_cloud
from .placement import label, region_affinity, region_groups, tolerations
from .secrets import BACKUP_ACCESS_KEY, BACKUP_SECRET_KEY


def pg_cluster_name(data: DataServicesSpec, region: str) -> str:
    return f"{data.postgres.name}-{label(region)}"


def backup_secret_name(data: DataServicesSpec) -> str:
    return f"{data.postgres.name}-backup-s3"


def object_store_name(data: DataServicesSpec) -> str:
    return f"{data.postgres.name}-backup"


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
    operator made for that cluster (same namespace: no copying); with
    backups, also its WAL archive."""
    name = pg_cluster_name(data, region)
    out: dict[str, Any] = {
        "name": name,
        "connectionParameters": {"host": f"{name}-rw.{data.namespace}.svc", "user": "streaming_replica",
                                 "sslmode": "verify-full", "dbname": "postgres"},
        "sslKey": {"name": f"{name}-replication", "key": "tls.key"},
        "sslCert": {"name": f"{name}-replication", "key": "tls.crt"},
        "sslRootCert": {"name": f"{name}-ca", "key": "ca.crt"},
    }
    if data.postgres.backups.enabled:
        out["plugin"] = barman_cloud.external_archive(object_store_name(data), name)
    return out


def pg_cluster(ctx: PlatformContext, region: str, roles: dict[str, str]) -> dict[str, Any]:
    data = ctx.spec.data_services
    pg = data.postgres
    name = pg_cluster_name(data, region)
    affinity: dict[str, Any] = {"nodeAffinity": region_affinity(region), "enablePodAntiAffinity": True,
                                "topologyKey": "kubernetes.io/hostname"}
    if data.tolerations:
        affinity["tolerations"] = tolerations(ctx.spec)
    spec: dict[str, Any] = {
        "instances": pg.instances,
        "storage": {"size": pg.storage_size, "storageClass": storage_class(ctx, "dataServices.postgres")},
        "affinity": affinity,
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
        spec["plugins"] = barman_cloud.archiver(object_store_name(data))
    if ctx.priority():
        spec["priorityClassName"] = ctx.priority()
    return spec


def lag_rules(data: DataServicesSpec) -> dict[str, Any]:
    """Alerts on CloudNativePG's default ``pg_replication`` query
    (``cnpg_pg_replication_*``): ``lag`` (seconds behind, 0 on a primary),
    ``in_recovery`` and ``is_wal_receiver_up``. A primary has no WAL
    receiver, so "not streaming" is only asked of instances in recovery
    (every instance of a replica cluster, the standbys of the primary's)."""
    pg = data.postgres
    ns = f'namespace="{data.namespace}"'
    return {"groups": [{"name": "sovereign-geo-postgres", "rules": [
        {"alert": "GeoPostgresReplicationLag",
         "expr": f"max by (namespace, pod) (cnpg_pg_replication_lag{{{ns}}}) > {pg.lag_alert_seconds}",
         "for": "2m", "labels": {"severity": "warning"},
         "annotations": {"summary": f"{{{{ $labels.pod }}}} replays more than {pg.lag_alert_seconds} s behind its "
                                    "primary: a saturated mesh link or a replica that cannot keep up"}},
        {"alert": "GeoPostgresReplicaNotStreaming",
         "expr": f"(cnpg_pg_replication_in_recovery{{{ns}}} == 1) "
                 f"and on (namespace, pod) (cnpg_pg_replication_is_wal_receiver_up{{{ns}}} == 0)",
         "for": "5m", "labels": {"severity": "critical"},
         "annotations": {"summary": "{{ $labels.pod }} is in recovery but receives no WAL from its source"}},
    ]}]}


def postgres_items(ctx: PlatformContext, ns: str) -> tuple[list[Manifest], list[Workload], list]:
    """(manifests, workloads, releases) of PostgreSQL in every region."""
    data = ctx.spec.data_services
    pg = data.postgres
    manifests: list[Manifest] = []
    releases = []
    workloads: list[Workload] = []
    after = [CNPG, ns, *volume_after(ctx)]
    if pg.backups.enabled:
        plugin, plugin_workload = barman_cloud.plugin_release(ctx)
        releases.append(plugin)
        workloads.append(plugin_workload)
        creds = secret("geo/pg-backup-s3", backup_secret_name(data), data.namespace, {
            "ACCESS_KEY_ID": ctx.secrets.get(BACKUP_ACCESS_KEY.name, "<secret config>"),
            "ACCESS_SECRET_KEY": ctx.secrets.get(BACKUP_SECRET_KEY.name, "<secret config>"),
        }, after=[ns])
        store = barman_cloud.object_store(ctx, "geo/pg-object-store", object_store_name(data), data.namespace,
                                          backup_secret_name(data), after=[plugin.key, creds.key])
        manifests += [creds, store]
        # The instance pods' sidecar reads the store at start: it comes first.
        after += [plugin.key, store.key]
    roles = pg_roles(data)
    # The primary region first: replicas clone it (their pg_basebackup waits for it).
    for region in pg.regions:
        first = [] if region == pg.primary_region else [f"geo/pg/{label(pg.primary_region)}"]
        manifests.append(custom(f"geo/pg/{label(region)}", "postgresql.cnpg.io/v1", "Cluster",
                                pg_cluster_name(data, region), pg_cluster(ctx, region, roles[region]),
                                namespace=data.namespace, after=after + first))
    if pg.backups.enabled:
        primary = pg_cluster_name(data, pg.primary_region)
        manifests.append(custom("geo/pg-backup", "postgresql.cnpg.io/v1", "ScheduledBackup", f"{pg.name}-daily",
                                barman_cloud.scheduled_backup(pg.backups.schedule, primary),
                                namespace=data.namespace, after=[f"geo/pg/{label(pg.primary_region)}"]))
    if ctx.addons.monitoring.enabled:
        manifests.append(custom("geo/pg-podmonitor", "monitoring.coreos.com/v1", "PodMonitor", pg.name, {
            "selector": {"matchLabels": {"cnpg.io/podRole": "instance"}},
            "podMetricsEndpoints": [{"port": "metrics"}],
        }, namespace=data.namespace, after=[ns, "kube-prometheus-stack"]))
        manifests.append(custom("geo/pg-alerts", "monitoring.coreos.com/v1", "PrometheusRule", f"{pg.name}-lag",
                                lag_rules(data), namespace=data.namespace, after=[ns, "kube-prometheus-stack"]))
    for r in pg.regions:
        groups = region_groups(ctx.spec, r)
        # placement "all": the groups are already the ones whose taints the data pods tolerate.
        workloads.append(Workload(f"geo/pg/{label(r)}", pg_cluster_name(data, r), "StatefulSet",
                                  ("spec", "resources"), replicas=pg.instances, placement="all", groups=groups))
        if pg.backups.enabled:
            workloads.append(Workload("geo/pg-object-store", f"{pg_cluster_name(data, r)}-barman-sidecar",
                                      "StatefulSet", ("spec", "instanceSidecarConfiguration", "resources"),
                                      replicas=pg.instances, placement="all", groups=groups))
    return manifests, workloads, releases
