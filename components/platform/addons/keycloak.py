"""Keycloak (seed 001) with SSO clients for Grafana and ArgoCD.

Client secrets are random (pulumi_random, made by the Platform component)
and stay Pulumi secrets: they reach the cluster only as Secret objects - the
realm import Keycloak reads at start, and one Secret per client in the
client's namespace - never chart values.
"""

from __future__ import annotations

import json
from typing import Any

import pulumi
import yaml

from ..chart_values import KeycloakValues, typed
from ..charts import CHARTS
from ..model import AddonPlan, Manifest, PlatformContext, Release, Workload
from ..objects import namespace, secret
from ..profiles import requests
from ..values import deep_merge
from .gitops import ARGOCD_SSO_SECRET
from .monitoring import GRAFANA_SSO_SECRET

NAMESPACE = CHARTS["keycloakx"].namespace
REALM_SECRET = "keycloak-realm"
IMPORT_DIR = "/opt/keycloak/data/import"


def sso_clients(ctx: PlatformContext) -> dict[str, list[str]]:
    """client id -> redirect URIs, for the add-ons that are enabled."""
    kc, out = ctx.addons.keycloak, {}
    if ctx.addons.monitoring.enabled:
        out["grafana"] = [f"https://{kc.grafana_host}/login/generic_oauth" if kc.grafana_host else "*"]
    if ctx.addons.gitops.enabled and ctx.addons.gitops.tool == "argocd":
        out["argocd"] = [f"https://{kc.argocd_host}/auth/callback" if kc.argocd_host else "*"]
    return out


def secret_names(ctx: PlatformContext) -> list[str]:
    return [f"keycloak-{client}" for client in sso_clients(ctx)]


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
    return typed(KeycloakValues, {
        "command": ["/opt/keycloak/bin/kc.sh", "start", "--import-realm"],
        "extraEnv": yaml.safe_dump([
            {"name": "KC_HOSTNAME", "value": f"https://{kc.hostname}"},
            {"name": "KC_PROXY_HEADERS", "value": "xforwarded"},
            {"name": "KC_HTTP_ENABLED", "value": "true"},
        ]),
        "extraVolumes": yaml.safe_dump([{"name": "realm", "secret": {"secretName": REALM_SECRET}}]),
        "extraVolumeMounts": yaml.safe_dump([{"name": "realm", "mountPath": IMPORT_DIR, "readOnly": True}]),
        "resources": requests(ctx.profile, "keycloak"),
        **({"priorityClassName": ctx.priority()} if ctx.priority() else {}),
    })


def plan(ctx: PlatformContext) -> AddonPlan:
    chart = CHARTS["keycloakx"]
    ns = namespace(chart.namespace)
    clients = sso_clients(ctx)
    secrets = {c: ctx.secrets.get(f"keycloak-{c}", "<random>") for c in clients}
    manifests: list[Manifest] = [ns, secret(
        "keycloak/realm", REALM_SECRET, NAMESPACE,
        {"realm.json": _combine(secrets, lambda s: json.dumps(realm(ctx, s), sort_keys=True))}, after=[ns.key])]
    if "grafana" in clients:
        manifests.append(secret("keycloak/grafana-secret", GRAFANA_SSO_SECRET, "monitoring",
                                {"GF_AUTH_GENERIC_OAUTH_CLIENT_SECRET": secrets["grafana"]}, after=["ns/monitoring"]))
    if "argocd" in clients:
        manifests.append(secret("keycloak/argocd-secret", ARGOCD_SSO_SECRET, "argocd",
                                {"clientSecret": secrets["argocd"]},
                                labels={"app.kubernetes.io/part-of": "argocd"}, after=["ns/argocd"]))
    v = deep_merge(values(ctx), ctx.addons.keycloak.values)
    return AddonPlan("keycloak", releases=[Release("keycloakx", chart, v, after=[ns.key, "keycloak/realm"])],
                     manifests=manifests, workloads=[Workload("keycloakx", "keycloak", "StatefulSet", ("resources",))],
                     secrets=secret_names(ctx))
