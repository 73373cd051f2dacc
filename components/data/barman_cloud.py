"""PostgreSQL backups through the Barman Cloud plugin of CloudNativePG.

The plugin (CNPG-I, pinned: chart ``plugin-barman-cloud`` 0.4.0 = plugin
v0.10.0; it needs CloudNativePG 1.26 or later, the pinned operator is 1.27.0,
and cert-manager, whose ``Issuer``/``Certificate`` its chart renders) runs in
the operator's namespace and adds a sidecar to every instance pod. A
``Cluster`` names it in ``spec.plugins`` as its WAL archiver with the
``ObjectStore`` to use; scheduled base backups take ``method: plugin``.
Each region's cluster archives below ``<destination>/<cluster name>`` (the
plugin's ``serverName`` defaults to the cluster's name), and every
``externalClusters`` entry names the same store with that region's server
name, so a replica cluster can also replay WAL from the archive when
streaming over the mesh falls behind (e.g. after a long link outage).

The ``ObjectStore`` CRD (``barmancloud.cnpg.io/v1``) has no schema in
``shared/crd-schemas``; ``ObjectStore`` below models the documented API
(plugin docs "API Reference", ``api/v1/objectstore_types.go``) for the
fields the project writes, strictly: an unknown or misspelt field is an
error at plan time. Its ``configuration`` is Barman Cloud's
``BarmanObjectStoreConfiguration``, the type CloudNativePG's in-tree
``backup.barmanObjectStore`` uses, so the tests also check it against that
part of the Cluster schema.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from components.platform.addons.keycloak import CNPG
from components.platform.charts import CHARTS
from components.platform.model import Manifest, PlatformContext, Release, Workload
from components.platform.profiles import requests

PLUGIN = "barman-cloud.cloudnative-pg.io"
CHART = "plugin-barman-cloud"
API_VERSION = "barmancloud.cnpg.io/v1"
RETENTION = r"^[1-9][0-9]*[dwm]$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SecretKeyRef(_Strict):
    name: str
    key: str


class S3Credentials(_Strict):
    accessKeyId: SecretKeyRef
    secretAccessKey: SecretKeyRef


class WalConfiguration(_Strict):
    compression: Literal["bzip2", "gzip", "lz4", "snappy", "xz", "zstd"] | None = None
    maxParallel: int | None = Field(default=None, ge=1)


class DataConfiguration(_Strict):
    compression: Literal["bzip2", "gzip", "snappy"] | None = None
    jobs: int | None = Field(default=None, ge=1)


class BarmanObjectStoreConfiguration(_Strict):
    destinationPath: str = Field(min_length=1)
    endpointURL: str | None = None
    s3Credentials: S3Credentials
    wal: WalConfiguration | None = None
    data: DataConfiguration | None = None
    # No serverName: the CRD refuses it ("use the 'serverName' plugin
    # parameter in the Cluster resource"); extra="forbid" does too.


class SidecarResources(_Strict):
    requests: dict[Literal["cpu", "memory"], str]
    limits: dict[Literal["cpu", "memory"], str] | None = None


class InstanceSidecarConfiguration(_Strict):
    retentionPolicyIntervalSeconds: int | None = Field(default=None, ge=1)
    resources: SidecarResources | None = None


class ObjectStoreSpec(_Strict):
    configuration: BarmanObjectStoreConfiguration
    retentionPolicy: str | None = Field(default=None, pattern=RETENTION)
    instanceSidecarConfiguration: InstanceSidecarConfiguration | None = None


class ObjectMeta(_Strict):
    name: str
    namespace: str
    labels: dict[str, str] = Field(default_factory=dict)


class ObjectStore(_Strict):
    apiVersion: Literal["barmancloud.cnpg.io/v1"]
    kind: Literal["ObjectStore"]
    metadata: ObjectMeta
    spec: ObjectStoreSpec

    @field_validator("spec")
    @classmethod
    def _s3(cls, spec: ObjectStoreSpec) -> ObjectStoreSpec:
        if not spec.configuration.destinationPath.startswith("s3://"):
            raise ValueError("the project's object stores are S3: destinationPath must be s3://bucket[/prefix]")
        return spec


def validate(obj: dict[str, Any]) -> ObjectStore:
    """Raise ``pydantic.ValidationError`` unless ``obj`` is an ObjectStore as documented."""
    return ObjectStore.model_validate(obj)


# -- plan items ----------------------------------------------------------------

def plugin_release(ctx: PlatformContext) -> tuple[Release, Workload]:
    """The plugin's chart in the operator's namespace, after the operator and cert-manager."""
    values: dict[str, Any] = {"crds": {"create": True}, "resources": requests(ctx.profile, "barman-cloud-plugin")}
    if ctx.priority():
        values["priorityClassName"] = ctx.priority()
    release = Release(CHART, CHARTS[CHART], values, after=[CNPG, "cert-manager", f"ns/{CHARTS[CNPG].namespace}"])
    return release, Workload(CHART, "barman-cloud", "Deployment", ("resources",))


def object_store(ctx: PlatformContext, key: str, name: str, namespace: str, credentials: str,
                 after: list[str]) -> Manifest:
    """The one ObjectStore every region's cluster archives to (each under its own server name)."""
    backups = ctx.spec.data_services.postgres.backups
    configuration: dict[str, Any] = {
        "destinationPath": backups.destination,
        "s3Credentials": {"accessKeyId": {"name": credentials, "key": "ACCESS_KEY_ID"},
                          "secretAccessKey": {"name": credentials, "key": "ACCESS_SECRET_KEY"}},
        "wal": {"compression": "gzip"}, "data": {"compression": "gzip"},
    }
    if backups.endpoint_url:
        configuration["endpointURL"] = backups.endpoint_url
    obj = {
        "apiVersion": API_VERSION, "kind": "ObjectStore",
        "metadata": {"name": name, "namespace": namespace,
                     "labels": {"app.kubernetes.io/managed-by": "sovereign-cloud"}},
        "spec": {"configuration": configuration, "retentionPolicy": backups.retention,
                 "instanceSidecarConfiguration": {"resources": requests(ctx.profile, "barman-cloud-sidecar")}},
    }
    validate(obj)  # a mistake here fails the plan, not the cluster
    return Manifest(key, obj, after=list(after))


def archiver(store: str) -> list[dict[str, Any]]:
    """``Cluster.spec.plugins``: the plugin as the WAL archiver, to ``store``."""
    return [{"name": PLUGIN, "isWALArchiver": True, "parameters": {"barmanObjectName": store}}]


def external_archive(store: str, server: str) -> dict[str, Any]:
    """``externalClusters[].plugin``: another cluster's archive (read-only)."""
    return {"name": PLUGIN, "parameters": {"barmanObjectName": store, "serverName": server}}


def scheduled_backup(schedule: str, cluster: str) -> dict[str, Any]:
    return {"schedule": schedule, "cluster": {"name": cluster}, "method": "plugin",
            "pluginConfiguration": {"name": PLUGIN}, "backupOwnerReference": "self"}
