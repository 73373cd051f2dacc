"""Geo-replicated S3 on explicit request only: MinIO tenants with site replication.

MinIO's community server is no longer maintained (source-only since October
2025, maintenance mode in December 2025, the ``minio/minio`` repository then
archived) and the ``minio/operator`` repository was archived on 2026-03-20:
neither gets security fixes. The plan warns about it every time
(``warning``); Rook RGW multisite (``rgw.py``) is the default.

What is built, with the operator's final chart (7.1.1):
- one ``Tenant`` (``minio.min.io/v2``) per region, in a namespace of its own
  (the operator allows one tenant per namespace), pinned to the region's
  nodes, ``serversPerRegion`` x ``volumesPerServer`` volumes;
- TLS from the project's private CA (cert-manager ``Certificate`` per
  tenant, ``requestAutoCert: false``): the tenants trust that CA for their
  peers (``externalCaCertSecret``), the operator trusts it through a
  certificate issued into its namespace as ``operator-ca-tls-*`` (the
  operator adds the ``ca.crt`` of every such secret to its trusted roots);
- root credentials from secret config (``dataMinioRootUser`` /
  ``dataMinioRootPassword``) in each tenant's ``config.env`` Secret;
- site replication, which MinIO configures from the client side only
  (``mc admin replicate add <site1> <site2> ...``, the first site the only
  one allowed to hold data): a Kubernetes Job running ``mc`` with those
  credentials (``scripts/minio-site-replication.sh``), re-created (so run
  again) when the set of regions or the script changes.

Removing a region from a replication group is ``mc admin replicate rm``,
by hand: the Job only adds.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from components.platform.addons.keycloak import _combine as combine
from components.platform.charts import CHARTS
from components.platform.model import Manifest, PlatformContext, Release, Workload
from components.platform.objects import custom, metadata, namespace, secret
from components.platform.profiles import requests

from .placement import label, region_affinity, region_groups, tolerations
from .secrets import MINIO_ROOT_PASSWORD, MINIO_ROOT_USER, minio_root_problems

OPERATOR = "minio-operator"
# The last community images (mc and server) before MinIO went source-only.
MINIO_IMAGE = "quay.io/minio/minio:RELEASE.2025-09-07T16-13-09Z"
MC_IMAGE = "quay.io/minio/mc:RELEASE.2025-08-13T08-35-41Z"
OPERATOR_CA_SECRET = "operator-ca-tls-sovereign"
REPLICATION = "geo-minio-site-replication"
SCRIPT = Path(__file__).parent / "scripts" / "minio-site-replication.sh"


def warning() -> str:
    return ("dataServices.objectStore.engine is minio: MinIO's community server is no longer maintained "
            "(source-only since October 2025, then maintenance mode and an archived minio/minio repository) and "
            "the minio/operator repository was archived on 2026-03-20, so neither gets security fixes. "
            "Rook RGW multisite (engine: rook-rgw, the default) is the maintained choice; see docs/geo-databases.md.")


def tenant_namespace(data, region: str) -> str:
    return f"{data.namespace}-minio-{label(region)}"


def tenant_name(region: str) -> str:
    return f"minio-{label(region)}"


def endpoint(data, region: str) -> str:
    """The tenant's S3 Service (``minio``, 443 with TLS), as the other sites reach it."""
    return f"https://minio.{tenant_namespace(data, region)}.svc.cluster.local"


def _dns_names(data, region: str) -> list[str]:
    ns, hl = tenant_namespace(data, region), f"{tenant_name(region)}-hl"
    return [f"minio.{ns}", f"minio.{ns}.svc", f"minio.{ns}.svc.cluster.local",
            f"*.{hl}.{ns}.svc.cluster.local", f"*.{ns}.svc.cluster.local"]


def _issuer(ctx: PlatformContext) -> dict[str, str]:
    return {"name": ctx.addons.cert_manager.issuer_name, "kind": "ClusterIssuer", "group": "cert-manager.io"}


def _config_env(values: dict[str, str]) -> str:
    user, password = values["user"], values["password"]
    # stacks/program.py checks before anything is created; this guards other callers.
    found = minio_root_problems(user, password)
    if found:
        raise ValueError("; ".join(found))
    return f'export MINIO_ROOT_USER="{user}"\nexport MINIO_ROOT_PASSWORD="{password}"\n'


def _credentials(ctx: PlatformContext) -> dict[str, Any]:
    return {"user": ctx.secrets.get(MINIO_ROOT_USER.name, "<secret config>"),
            "password": ctx.secrets.get(MINIO_ROOT_PASSWORD.name, "<secret config>")}


def tenant_spec(ctx: PlatformContext, region: str, env_secret: str, tls_secret: str) -> dict[str, Any]:
    minio = ctx.spec.data_services.object_store.minio
    pool: dict[str, Any] = {
        "name": "pool-0", "servers": minio.servers_per_region, "volumesPerServer": minio.volumes_per_server,
        "volumeClaimTemplate": {"metadata": {"name": "data"}, "spec": {
            "accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": minio.volume_size}}}},
        "affinity": {"nodeAffinity": region_affinity(region)},
        "resources": requests(ctx.profile, "minio"),
    }
    if ctx.spec.data_services.tolerations:
        pool["tolerations"] = tolerations(ctx.spec)
    spec: dict[str, Any] = {
        "image": MINIO_IMAGE,
        "configuration": {"name": env_secret},
        "pools": [pool],
        "requestAutoCert": False,
        "externalCertSecret": [{"name": tls_secret, "type": "cert-manager.io/v1"}],
        # The peers' certificates come from the same CA (ca.crt of this secret).
        "externalCaCertSecret": [{"name": tls_secret, "type": "cert-manager.io/v1"}],
        "prometheusOperator": ctx.addons.monitoring.enabled,
    }
    if ctx.priority():
        spec["priorityClassName"] = ctx.priority()
    return spec


def _operator(ctx: PlatformContext) -> tuple[Release, list[Manifest]]:
    chart = CHARTS[OPERATOR]
    ns = namespace(chart.namespace)
    values: dict[str, Any] = {"operator": {
        # One replica: tenants keep serving without the operator, and its
        # required anti-affinity would want two schedulable nodes.
        "replicaCount": 1, "resources": requests(ctx.profile, "minio-operator")}}
    if ctx.priority():
        values["operator"]["priorityClassName"] = ctx.priority()
    trust = custom("geo/minio-operator-ca", "cert-manager.io/v1", "Certificate", OPERATOR_CA_SECRET, {
        "secretName": OPERATOR_CA_SECRET, "commonName": "minio-operator-trust", "duration": "8760h",
        "privateKey": {"algorithm": "ECDSA", "size": 256}, "issuerRef": _issuer(ctx),
    }, namespace=chart.namespace, after=[ns.key, "cert-manager/issuer"])
    return Release(OPERATOR, chart, values, after=[ns.key, trust.key]), [ns, trust]


def _replication(ctx: PlatformContext, tenants: list[str]) -> list[Manifest]:
    """The Job joining every region's tenant (first region first) into one
    site-replication group, in the first region's tenant namespace."""
    data = ctx.spec.data_services
    first = data.object_store.regions[0]
    ns = tenant_namespace(data, first)
    creds = _credentials(ctx)
    login = secret("geo/minio-replication-credentials", REPLICATION, ns,
                   {"MINIO_ROOT_USER": creds["user"], "MINIO_ROOT_PASSWORD": creds["password"]},
                   after=[f"ns/{ns}"])
    text = SCRIPT.read_text()
    script = Manifest("geo/minio-replication-script", {
        "apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata(REPLICATION, ns),
        "data": {SCRIPT.name: text}}, after=[f"ns/{ns}"])
    sites = " ".join(f"{label(r)}={endpoint(data, r)}" for r in data.object_store.regions)
    pod: dict[str, Any] = {
        "restartPolicy": "Never",
        "securityContext": {"runAsNonRoot": True, "runAsUser": 1000, "runAsGroup": 1000,
                            "seccompProfile": {"type": "RuntimeDefault"}},
        "containers": [{
            "name": "mc", "image": MC_IMAGE, "command": ["bash", f"/scripts/{SCRIPT.name}"],
            "env": [{"name": "SITES", "value": sites}, {"name": "CA_FILE", "value": "/ca/ca.crt"}],
            "envFrom": [{"secretRef": {"name": REPLICATION}}],
            "resources": requests(ctx.profile, "minio-replication"),
            "securityContext": {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                                "capabilities": {"drop": ["ALL"]}},
            "volumeMounts": [{"name": "scripts", "mountPath": "/scripts", "readOnly": True},
                             {"name": "ca", "mountPath": "/ca", "readOnly": True},
                             {"name": "tmp", "mountPath": "/tmp"}],
        }],
        "volumes": [{"name": "scripts", "configMap": {"name": REPLICATION}},
                    {"name": "ca", "secret": {"secretName": f"{tenant_name(first)}-tls",
                                              "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
                    {"name": "tmp", "emptyDir": {}}],
    }
    if data.tolerations:
        pod["tolerations"] = tolerations(ctx.spec)
    if ctx.priority():
        pod["priorityClassName"] = ctx.priority()
    digest = hashlib.sha256(text.encode()).hexdigest()[:16]
    job = Manifest("geo/minio-replication", {
        "apiVersion": "batch/v1", "kind": "Job", "metadata": metadata(REPLICATION, ns),
        "spec": {"backoffLimit": 3, "activeDeadlineSeconds": 1800, "template": {
            # A new script is a new template: the Job is replaced, so it runs again.
            "metadata": {"annotations": {"sovereign.cloud/script-sha256": digest}}, "spec": pod}},
    }, after=[login.key, script.key, *tenants])
    return [login, script, job]


def minio_items(ctx: PlatformContext) -> tuple[list[Release], list[Manifest], list[Workload]]:
    data = ctx.spec.data_services
    store = data.object_store
    operator, manifests = _operator(ctx)
    workloads = [Workload(OPERATOR, "minio-operator", "Deployment", ("operator", "resources"))]
    creds = _credentials(ctx)
    tenants = []
    for region in store.regions:
        ns, name = tenant_namespace(data, region), tenant_name(region)
        tns = namespace(ns)
        cert = custom(f"geo/minio-tls/{label(region)}", "cert-manager.io/v1", "Certificate", f"{name}-tls", {
            "secretName": f"{name}-tls", "dnsNames": _dns_names(data, region), "duration": "8760h",
            "privateKey": {"algorithm": "ECDSA", "size": 256}, "issuerRef": _issuer(ctx),
        }, namespace=ns, after=[tns.key, "cert-manager/issuer"])
        env = secret(f"geo/minio-env/{label(region)}", f"{name}-env", ns,
                     {"config.env": combine(creds, _config_env)}, after=[tns.key])
        tenant = custom(f"geo/minio/{label(region)}", "minio.min.io/v2", "Tenant", name,
                        tenant_spec(ctx, region, env.obj["metadata"]["name"], f"{name}-tls"),
                        namespace=ns, after=[OPERATOR, cert.key, env.key])
        manifests += [tns, cert, env, tenant]
        tenants.append(tenant.key)
        workloads.append(Workload(tenant.key, name, "StatefulSet", ("spec", "pools", 0, "resources"),
                                  replicas=store.minio.servers_per_region, placement="all",
                                  groups=region_groups(ctx.spec, region)))
    if len(store.regions) > 1:
        manifests += _replication(ctx, tenants)
    return [operator], manifests, workloads
