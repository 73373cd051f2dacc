"""Keycloak (seed 001) with SSO clients for Grafana and ArgoCD.

Client secrets are random (pulumi_random, made by the Platform component)
and stay Pulumi secrets: they reach the cluster only as Secret objects - the
realm import Keycloak reads at start, and one Secret per client in the
client's namespace - never chart values.

Keycloak serves at the root path (``http.relativePath: /``; the chart's
default ``/auth`` would move every endpoint below the issuer URL the clients
use, ``https://<hostname>/realms/<realm>``). Its state lives in PostgreSQL:
a CloudNativePG ``Cluster`` (the operator installed with it) whose owner
password is one more random Pulumi secret, so realms, users and sessions
survive a restart; the realm import at start skips a realm that exists.
With ingress-nginx and cert-manager enabled, ``hostname`` is served by the
chart's own Ingress with a certificate from the project's ClusterIssuer.
"""

from __future__ import annotations

import json
from typing import Any

import pulumi
import yaml

from ..chart_values import CnpgValues, KeycloakValues, typed
from ..charts import CHARTS
from ..model import AddonPlan, Manifest, PlatformContext, Release, Workload
from ..objects import custom, exposed, ingress_class, namespace, secret, tls_annotations
from ..profiles import requests
from ..values import deep_merge
from .gitops import ARGOCD_SSO_SECRET
from .monitoring import GRAFANA_SSO_SECRET
from .storage import storage_class, volume_after

NAMESPACE = CHARTS["keycloakx"].namespace
REALM_SECRET = "keycloak-realm"
IMPORT_DIR = "/opt/keycloak/data/import"
TLS_SECRET = "keycloak-tls"
# The database: a CloudNativePG Cluster, its read-write Service
# "<cluster>-rw", and the owner's credentials (kubernetes.io/basic-auth, as
# CloudNativePG's bootstrap.initdb.secret requires).
CNPG = "cloudnative-pg"
DB_CLUSTER = "keycloak-db"
DB_SECRET = "keycloak-db-owner"
DB_NAME = DB_USER = "keycloak"
DB_PASSWORD = "keycloak-db-password"  # the random secret's name
DB_PORT = 5432


def sso_clients(ctx: PlatformContext) -> dict[str, list[str]]:
    """client id -> redirect URIs, for the add-ons that are enabled."""
    kc, out = ctx.addons.keycloak, {}
    if ctx.addons.monitoring.enabled:
        out["grafana"] = [f"https://{kc.grafana_host}/login/generic_oauth" if kc.grafana_host else "*"]
    if ctx.addons.gitops.enabled and ctx.addons.gitops.tool == "argocd":
        out["argocd"] = [f"https://{kc.argocd_host}/auth/callback" if kc.argocd_host else "*"]
    # Keystone (openstack.sso, components/openstack/sso.py).
    from components.openstack.sso import keycloak_clients

    return out | keycloak_clients(ctx.spec)


def secret_names(ctx: PlatformContext) -> list[str]:
    return [f"keycloak-{client}" for client in sso_clients(ctx)] + [DB_PASSWORD]


def realm(ctx: PlatformContext, client_secrets: dict[str, str]) -> dict[str, Any]:
    kc = ctx.addons.keycloak
    return {
        "realm": kc.realm,
        "enabled": True,
        "clients": [{
            "clientId": client, "enabled": True, "protocol": "openid-connect", "publicClient": False,
            "standardFlowEnabled": True, "secret": client_secrets[client], "redirectUris": uris,
        } for client, uris in sso_clients(ctx).items()],
    }


def _combine(values: dict[str, Any], fn):
    """fn(resolved values) - an Output when any value is one (secrets stay secret)."""
    if any(isinstance(v, pulumi.Output) for v in values.values()):
        keys = list(values)
        return pulumi.Output.all(*[values[k] for k in keys]).apply(lambda vs: fn(dict(zip(keys, vs))))
    return fn(values)


def values(ctx: PlatformContext) -> dict[str, Any]:
    kc = ctx.addons.keycloak
    out: dict[str, Any] = {
        "command": ["/opt/keycloak/bin/kc.sh", "start", "--import-realm"],
        "extraEnv": yaml.safe_dump([
            {"name": "KC_HOSTNAME", "value": f"https://{kc.hostname}"},
            {"name": "KC_PROXY_HEADERS", "value": "xforwarded"},
            {"name": "KC_HTTP_ENABLED", "value": "true"},
        ]),
        "extraVolumes": yaml.safe_dump([{"name": "realm", "secret": {"secretName": REALM_SECRET}}]),
        "extraVolumeMounts": yaml.safe_dump([{"name": "realm", "mountPath": IMPORT_DIR, "readOnly": True}]),
        "resources": requests(ctx.profile, "keycloak"),
        # keycloakx chart http.relativePath (default "/auth"): the root, as
        # the issuer URLs of the SSO clients (/realms/<realm>) expect.
        "http": {"relativePath": "/"},
        # keycloakx chart database.* -> KC_DB, KC_DB_URL_HOST/PORT/DATABASE,
        # KC_DB_USERNAME, KC_DB_PASSWORD from the owner's Secret.
        "database": {"vendor": "postgres", "hostname": f"{DB_CLUSTER}-rw.{NAMESPACE}.svc", "port": DB_PORT,
                     "database": DB_NAME, "username": DB_USER, "existingSecret": DB_SECRET,
                     "existingSecretKey": "password"},
        # Wait for PostgreSQL (bootstrapped by the operator after the Cluster is written).
        "dbchecker": {"enabled": True},
        **({"priorityClassName": ctx.priority()} if ctx.priority() else {}),
    }
    if exposed(ctx):
        out["ingress"] = {
            "enabled": True, "ingressClassName": ingress_class(ctx),
            # Keycloak's large headers (keycloakx values.yaml: 502s behind
            # ingress-nginx without a bigger proxy buffer).
            "annotations": {**tls_annotations(ctx), "nginx.ingress.kubernetes.io/proxy-buffer-size": "128k"},
            "rules": [{"host": kc.hostname, "paths": [{"path": "/", "pathType": "Prefix"}]}],
            "tls": [{"hosts": [kc.hostname], "secretName": TLS_SECRET}],
        }
    return typed(KeycloakValues, out)


def cnpg_values(ctx: PlatformContext) -> dict[str, Any]:
    out: dict[str, Any] = {
        "crds": {"create": True},
        "resources": requests(ctx.profile, "cnpg-operator"),
        # cloudnative-pg chart monitoring.podMonitorEnabled (needs the Prometheus operator's CRDs).
        "monitoring": {"podMonitorEnabled": ctx.addons.monitoring.enabled},
    }
    if ctx.priority():
        out["priorityClassName"] = ctx.priority()
    return typed(CnpgValues, out)


def database(ctx: PlatformContext) -> list[Manifest]:
    """The owner's credentials and the one-instance PostgreSQL Cluster."""
    kc = ctx.addons.keycloak
    password = ctx.secrets.get(DB_PASSWORD, "<random>")
    owner = secret("keycloak/db-secret", DB_SECRET, NAMESPACE, {"username": DB_USER, "password": password},
                   type_="kubernetes.io/basic-auth", after=[f"ns/{NAMESPACE}"])
    spec: dict[str, Any] = {
        "instances": 1,
        "storage": {"size": kc.database_size, "storageClass": storage_class(ctx, "keycloak")},
        "bootstrap": {"initdb": {"database": DB_NAME, "owner": DB_USER, "secret": {"name": DB_SECRET}}},
        "resources": requests(ctx.profile, "keycloak-postgres"),
    }
    if ctx.profile == "small":
        # PostgreSQL's 128MB default shared_buffers alone exceeds the small request.
        spec["postgresql"] = {"parameters": {"shared_buffers": "32MB"}}
    if ctx.priority():
        spec["priorityClassName"] = ctx.priority()
    cluster = custom("keycloak/db", "postgresql.cnpg.io/v1", "Cluster", DB_CLUSTER, spec, namespace=NAMESPACE,
                     after=[CNPG, owner.key, *volume_after(ctx)])
    return [owner, cluster]


def plan(ctx: PlatformContext) -> AddonPlan:
    chart = CHARTS["keycloakx"]
    ns = namespace(chart.namespace)
    cnpg_ns = namespace(CHARTS[CNPG].namespace)
    clients = sso_clients(ctx)
    secrets = {c: ctx.secrets.get(f"keycloak-{c}", "<random>") for c in clients}
    manifests: list[Manifest] = [ns, cnpg_ns, secret(
        "keycloak/realm", REALM_SECRET, NAMESPACE,
        {"realm.json": _combine(secrets, lambda s: json.dumps(realm(ctx, s), sort_keys=True))}, after=[ns.key]),
        *database(ctx)]
    if "grafana" in clients:
        manifests.append(secret("keycloak/grafana-secret", GRAFANA_SSO_SECRET, "monitoring",
                                {"GF_AUTH_GENERIC_OAUTH_CLIENT_SECRET": secrets["grafana"]}, after=["ns/monitoring"]))
    if "argocd" in clients:
        manifests.append(secret("keycloak/argocd-secret", ARGOCD_SSO_SECRET, "argocd",
                                {"clientSecret": secrets["argocd"]},
                                labels={"app.kubernetes.io/part-of": "argocd"}, after=["ns/argocd"]))
    v = deep_merge(values(ctx), ctx.addons.keycloak.values)
    after = [ns.key, "keycloak/realm", "keycloak/db"] + (["ingress-nginx"] if exposed(ctx) else [])
    cnpg_after = [cnpg_ns.key] + (["kube-prometheus-stack"] if ctx.addons.monitoring.enabled else [])
    return AddonPlan(
        "keycloak",
        releases=[Release(CNPG, CHARTS[CNPG], cnpg_values(ctx), after=cnpg_after),
                  Release("keycloakx", chart, v, after=after)],
        manifests=manifests,
        workloads=[
            Workload(CNPG, "cnpg-operator", "Deployment", ("resources",)),
            Workload("keycloak/db", "keycloak-postgres", "StatefulSet", ("spec", "resources")),
            Workload("keycloakx", "keycloak", "StatefulSet", ("resources",)),
        ],
        secrets=secret_names(ctx))
