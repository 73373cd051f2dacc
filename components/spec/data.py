"""Geo-replicated data services (``dataServices``, issue 15): PostgreSQL,
S3 object storage and search placed across the spec's regions.

A region here is a node group's ``region`` (the nodes' label
``topology.kubernetes.io/region``). What is offered and why (CloudNativePG
instead of BDR, Rook RGW multisite by default and MinIO only on request,
ECK with zone awareness instead of Elastic's licensed CCR):
``docs/geo-databases.md``.

Field rules live on the models; the rules needing the whole spec (regions
with workers the data pods may run on, rook-ceph for RGW, cert-manager for
the Barman Cloud plugin and MinIO's certificates) are ``check_data_services``
and ``check_data_service_addons``, two of the spec's ``RULES``. Credentials
are never spec: they are secret config keys (``components/data/secrets.py``;
``stacks/program.py`` refuses to start without the ones the spec needs).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import ClassVar, Literal

from pydantic import Field, field_validator, model_validator

from .base import SpecModel
from .errors import SpecIssue
from .inputs import reads

_K8S_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
_QUANTITY = re.compile(r"^[1-9][0-9]*(Mi|Gi|Ti)$")
_RETENTION = re.compile(r"^[1-9][0-9]*[dwm]$")


def _quantity(value: str) -> str:
    if not _QUANTITY.match(value):
        raise ValueError(f"size {value!r} must be a whole quantity in Mi, Gi or Ti, such as '10Gi'")
    return value


def _distinct(value: list[str]) -> list[str]:
    if len(set(value)) != len(value):
        raise ValueError("regions must not repeat")
    return value


REPELLING = ("NoSchedule", "NoExecute")


class TolerationSpec(SpecModel):
    """A node taint the data pods tolerate (Kubernetes toleration semantics,
    a key always named): e.g. ``{key: nvidia.com/gpu}`` to run them on GPU
    workers, as seed 000 did."""

    key: str
    operator: Literal["Exists", "Equal"] = "Exists"
    value: str | None = None
    # None: every effect.
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"] | None = None

    @model_validator(mode="after")
    def _value(self):
        if self.operator == "Exists" and self.value is not None:
            raise ValueError("operator Exists takes no value (use operator: Equal with a value)")
        if self.operator == "Equal" and self.value is None:
            raise ValueError("operator Equal needs a value")
        return self

    def tolerates(self, taint: dict) -> bool:
        if self.key != taint["key"] or (self.effect is not None and self.effect != taint["effect"]):
            return False
        return self.operator == "Exists" or self.value == taint.get("value", "")

    def as_k8s(self) -> dict[str, str]:
        out = {"key": self.key, "operator": self.operator}
        if self.value is not None:
            out["value"] = self.value
        if self.effect is not None:
            out["effect"] = self.effect
        return out


class PostgresBackupSpec(SpecModel):
    """Base backups and WAL archive to an S3-compatible bucket through the
    Barman Cloud plugin (which needs addons.certManager).
    Credentials: secret config ``dataBackupS3AccessKey`` / ``dataBackupS3SecretKey``."""

    enabled: bool = False
    # s3://bucket/prefix; each region's cluster archives below <prefix>/<cluster>.
    destination: str | None = None
    # S3 endpoint of a non-AWS store (e.g. https://s3.fr-par.scw.cloud).
    endpoint_url: str | None = None
    # Barman Cloud retention policy: days, weeks or months ("30d").
    retention: str = "30d"
    # CloudNativePG ScheduledBackup schedule (six fields, seconds first).
    schedule: str = "0 0 3 * * *"

    @field_validator("destination")
    @classmethod
    def _destination(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^s3://[a-z0-9][-a-z0-9.]{1,61}[a-z0-9](/.*)?$", value):
            raise ValueError(f"destination {value!r} must be s3://<bucket>[/prefix]")
        return value

    @field_validator("endpoint_url")
    @classmethod
    def _endpoint(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith("https://"):
            raise ValueError(f"endpointUrl {value!r} must be an https:// URL (credentials travel to it)")
        return value

    @field_validator("retention")
    @classmethod
    def _retention(cls, value: str) -> str:
        if not _RETENTION.match(value):
            raise ValueError(f"retention {value!r} must be a number of days, weeks or months, such as '30d'")
        return value

    @field_validator("schedule")
    @classmethod
    def _schedule(cls, value: str) -> str:
        if len(value.split()) != 6:
            raise ValueError(f"schedule {value!r} must have six fields (seconds first), such as '0 0 3 * * *'")
        return value

    @model_validator(mode="after")
    def _complete(self):
        if self.enabled and not self.destination:
            raise ValueError("backups need destination (s3://bucket/prefix)")
        return self


class SwitchoverSpec(SpecModel):
    """A controlled switchover of the primary to another region (two
    ``pulumi up``; the procedure: ``components/data/geo_databases.py``)."""

    # The replica region to become primary.
    to: str
    # The demotion token the old primary publishes (status.demotionToken of
    # its Cluster) after the first step; absent during the first step.
    promotion_token: str | None = None


class GeoPostgresSpec(SpecModel):
    enabled: bool = False
    name: str = "geo-pg"
    primary_region: str | None = None
    replica_regions: list[str] = Field(default_factory=list)
    # One replica region whose cluster the primary waits for on each commit
    # (no committed transaction lost when the primary region is lost).
    synchronous_region: str | None = None
    instances: int = Field(default=1, ge=1, le=9)
    storage_size: str = "10Gi"
    database: str = "app"
    owner: str = "app"
    # Alert (with addons.monitoring) when a replica region lags more than
    # this; measured on the test hosts: 0.05 s at 40 ms RTT, 0.5 s max at 110 ms.
    lag_alert_seconds: int = Field(default=7, ge=1)
    backups: PostgresBackupSpec = Field(default_factory=PostgresBackupSpec)
    switchover: SwitchoverSpec | None = None

    @field_validator("name", "database", "owner")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _K8S_NAME.match(value) or len(value) > 40:
            raise ValueError(f"{value!r} must be lowercase letters, digits or '-' (at most 40)")
        return value

    @field_validator("storage_size")
    @classmethod
    def _size(cls, value: str) -> str:
        return _quantity(value)

    @field_validator("replica_regions")
    @classmethod
    def _replicas(cls, value: list[str]) -> list[str]:
        return _distinct(value)

    @model_validator(mode="after")
    def _complete(self):
        if self.enabled and not self.primary_region:
            raise ValueError("postgres needs primaryRegion (the region of the node groups holding the primary)")
        return self

    @property
    def regions(self) -> list[str]:
        return [r for r in [self.primary_region, *self.replica_regions] if r]


class _RegionalServiceSpec(SpecModel):
    """A service with a part in each of its regions (object store, search)."""

    _needs_regions: ClassVar[str]
    enabled: bool = False
    regions: list[str] = Field(default_factory=list)

    @field_validator("regions")
    @classmethod
    def _regions(cls, value: list[str]) -> list[str]:
        return _distinct(value)

    @model_validator(mode="after")
    def _complete(self):
        if self.enabled and not self.regions:
            raise ValueError(self._needs_regions)
        return self


class MinioSpec(SpecModel):
    """One MinIO Tenant per region, joined by MinIO site replication. Root
    credentials: secret config ``dataMinioRootUser`` / ``dataMinioRootPassword``."""

    # Site replication needs distributed tenants (mc admin replicate); the
    # operator's examples: "for distributed mode, supply 4 or more" servers.
    servers_per_region: int = Field(default=4, le=16)
    volumes_per_server: int = Field(default=1, ge=1, le=8)
    volume_size: str = "10Gi"

    @field_validator("servers_per_region")
    @classmethod
    def _distributed(cls, value: int) -> int:
        if value < 4:
            raise ValueError(f"serversPerRegion {value} is too few: MinIO site replication needs distributed "
                             "tenants of 4 or more servers per region")
        return value

    @field_validator("volume_size")
    @classmethod
    def _size(cls, value: str) -> str:
        return _quantity(value)


class GeoObjectStoreSpec(_RegionalServiceSpec):
    _needs_regions = "objectStore needs regions (one zone or MinIO site per region, the first the master)"
    # rook-rgw (default): Ceph RGW multisite through Rook (storage.class rook-ceph).
    # minio: only on explicit request; its community server and operator are
    # archived upstream (a warning at every plan; docs/geo-databases.md).
    engine: Literal["rook-rgw", "minio"] = "rook-rgw"
    # regions: one zone per region; the first is the master zone.
    realm: str = "sovereign"
    zone_group: str = "sovereign"
    gateways_per_region: int = Field(default=1, ge=1, le=5)
    minio: MinioSpec = Field(default_factory=MinioSpec)

    @field_validator("realm", "zone_group")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _K8S_NAME.match(value):
            raise ValueError(f"{value!r} must be lowercase letters, digits or '-'")
        return value


class GeoSearchSpec(_RegionalServiceSpec):
    _needs_regions = "search needs regions (the node sets, one per region)"
    name: str = "geo-search"
    version: str = "9.1.0"
    nodes_per_region: int = Field(default=1, ge=1, le=9)
    storage_size: str = "10Gi"

    @field_validator("storage_size")
    @classmethod
    def _size(cls, value: str) -> str:
        return _quantity(value)

    @field_validator("version")
    @classmethod
    def _version(cls, value: str) -> str:
        if not re.match(r"^[89]\.\d+\.\d+$", value):
            raise ValueError(f"version {value!r} must be an Elasticsearch 8.x.y or 9.x.y release")
        return value


class DataServicesSpec(SpecModel):
    # Namespace of every data service object.
    namespace: str = "data"
    # Node taints the data pods tolerate (the regions' tainted workers become eligible).
    tolerations: list[TolerationSpec] = Field(default_factory=list)
    postgres: GeoPostgresSpec = Field(default_factory=GeoPostgresSpec)
    object_store: GeoObjectStoreSpec = Field(default_factory=GeoObjectStoreSpec)
    search: GeoSearchSpec = Field(default_factory=GeoSearchSpec)

    @field_validator("namespace")
    @classmethod
    def _ns(cls, value: str) -> str:
        if not _K8S_NAME.match(value):
            raise ValueError(f"namespace {value!r} must be a DNS label")
        return value

    @property
    def enabled(self) -> bool:
        return self.postgres.enabled or self.object_store.enabled or self.search.enabled


# -- the cross-field rules --------------------------------------------------

DATA = "dataServices"


def worker_regions(spec) -> dict[str, list[str]]:
    """region -> node groups whose nodes the data pods may run on: the
    worker role, and every NoSchedule/NoExecute taint (the implicit GPU
    taint included) tolerated by ``dataServices.tolerations``."""
    from components.topology.plan import node_taints  # topology builds on the spec package

    tolerations = spec.data_services.tolerations
    out: dict[str, list[str]] = {}
    for name, g in spec.node_groups.items():
        repelling = [t for t in node_taints(g) if t["effect"] in REPELLING]
        if "worker" in g.roles and all(any(tol.tolerates(t) for tol in tolerations) for t in repelling):
            out.setdefault(g.region or "on-prem", []).append(name)
    return out


def _tainted_workers(spec, region: str) -> list[str]:
    return [n for n, g in spec.node_groups.items() if "worker" in g.roles and (g.region or "on-prem") == region]


@reads(DATA, "storage", "nodeGroups.*.region", "nodeGroups.*.roles", "nodeGroups.*.provider",
       "nodeGroups.*.taints", "nodeGroups.*.gpus")
def check_data_services(spec, catalog=None) -> Iterable[SpecIssue]:
    """Every region named has workers the data pods may run on; the
    synchronous region is a replica region; RGW has Rook-Ceph to run on."""
    data = spec.data_services
    regions = worker_regions(spec)
    known = ", ".join(sorted(regions)) or "none: give an untainted node group the worker role"

    def region_issue(path: str, region: str):
        if region in regions:
            return None
        tainted = _tainted_workers(spec, region)
        if tainted:
            return SpecIssue(f"{DATA}.{path}", f"region {region!r} has only tainted workers ({', '.join(tainted)}), "
                             "which the data pods do not tolerate",
                             f"add their taints to dataServices.tolerations (e.g. {{key: nvidia.com/gpu}} for GPU "
                             f"workers), or use one of the regions the data pods may run on ({known})")
        return SpecIssue(f"{DATA}.{path}", f"region {region!r} has no node group with the worker role",
                         f"use one of the worker regions ({known}), or add a worker node group in {region!r}")

    pg = data.postgres
    if pg.enabled:
        found = [region_issue("postgres.primaryRegion", pg.primary_region)]
        found += [region_issue(f"postgres.replicaRegions.{i}", r) for i, r in enumerate(pg.replica_regions)]
        yield from (i for i in found if i)
        if pg.primary_region in pg.replica_regions:
            yield SpecIssue(f"{DATA}.postgres.replicaRegions", f"lists the primary region {pg.primary_region!r}",
                            "remove it: the primary region holds the primary cluster")
        if pg.synchronous_region is not None and pg.synchronous_region not in pg.replica_regions:
            yield SpecIssue(f"{DATA}.postgres.synchronousRegion",
                            f"{pg.synchronous_region!r} is not one of replicaRegions {pg.replica_regions}",
                            "name one of postgres.replicaRegions, or remove synchronousRegion")
        if pg.switchover is not None and pg.switchover.to not in pg.replica_regions:
            yield SpecIssue(f"{DATA}.postgres.switchover.to",
                            f"{pg.switchover.to!r} is not one of replicaRegions {pg.replica_regions}",
                            "name the replica region to promote")
    store = data.object_store
    if store.enabled:
        found = [region_issue(f"objectStore.regions.{i}", r) for i, r in enumerate(store.regions)]
        yield from (i for i in found if i)
        if store.engine == "rook-rgw":
            yield from _rgw_issues(spec, store, regions)
    search = data.search
    if search.enabled:
        found = [region_issue(f"search.regions.{i}", r) for i, r in enumerate(search.regions)]
        yield from (i for i in found if i)


def _rgw_issues(spec, store: GeoObjectStoreSpec, regions: dict[str, list[str]]) -> Iterable[SpecIssue]:
    if spec.storage.storage_class != "rook-ceph" or spec.storage.rook_ceph is None:
        yield SpecIssue(f"{DATA}.objectStore.engine",
                        f"rook-rgw needs Ceph, but storage.class is {spec.storage.storage_class!r}",
                        "set storage.class: rook-ceph with storage.rookCeph (OSD groups in every objectStore "
                        "region), or disable dataServices.objectStore")
        return
    osd_regions = {spec.node_groups[g].region or "on-prem"
                   for g in spec.storage.rook_ceph.storage_groups if g in spec.node_groups}
    for i, r in enumerate(store.regions):
        if r in regions and r not in osd_regions:
            yield SpecIssue(f"{DATA}.objectStore.regions.{i}",
                            f"region {r!r} holds no Ceph OSDs: its zone's pools would have nowhere to live",
                            f"add a storage.rookCeph.groups entry for a node group in {r!r}, or remove the region")


@reads(f"{DATA}.postgres.enabled", f"{DATA}.postgres.backups.enabled", f"{DATA}.objectStore.enabled",
       f"{DATA}.objectStore.engine", "addons.certManager")
def check_data_service_addons(spec, catalog=None) -> Iterable[SpecIssue]:
    """What the data services need from the add-ons: cert-manager for the
    Barman Cloud plugin (its chart issues the plugin's TLS certificates) and,
    with a CA issuer, for MinIO's certificates."""
    data, cm = spec.data_services, spec.addons.cert_manager
    pg, store = data.postgres, data.object_store
    if pg.enabled and pg.backups.enabled and not cm.enabled:
        yield SpecIssue(f"{DATA}.postgres.backups.enabled",
                        "backups go through the Barman Cloud plugin, whose chart needs cert-manager "
                        "(it issues the plugin's client and server certificates)",
                        "set addons.certManager.enabled: true, or dataServices.postgres.backups.enabled: false")
    if store.enabled and store.engine == "minio" and not (cm.enabled and cm.issuer == "ca"):
        yield SpecIssue(f"{DATA}.objectStore.engine",
                        "minio tenants take their TLS certificates (in-cluster service names) from the project's "
                        "private CA issuer, and addons.certManager "
                        + ("uses the acme issuer" if cm.enabled else "is disabled"),
                        "set addons.certManager.enabled: true with issuer: ca, or use engine: rook-rgw")
