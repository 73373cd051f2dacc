"""cert-manager and the default ClusterIssuer (ACME HTTP-01, or a private CA)."""

from __future__ import annotations

from typing import Any

from ..chart_values import CertManagerValues, typed
from ..charts import CHARTS
from ..model import AddonPlan, Manifest, PlatformContext, Release, Workload
from ..objects import custom, namespace
from ..profiles import replicas, requests
from ..values import deep_merge

ROOT_CA_SECRET = "sovereign-root-ca"
BOOTSTRAP_ISSUER = "selfsigned-bootstrap"


def values(ctx: PlatformContext) -> dict[str, Any]:
    res = requests(ctx.profile, "cert-manager")
    out: dict[str, Any] = {
        "crds": {"enabled": True, "keep": True},
        "replicaCount": replicas(ctx.profile, 2),
        "resources": res,
        "webhook": {"resources": res},
        "cainjector": {"resources": res},
        "prometheus": {"enabled": ctx.addons.monitoring.enabled,
                       "servicemonitor": {"enabled": ctx.addons.monitoring.enabled}},
    }
    if ctx.priority():
        out["global"] = {"priorityClassName": ctx.priority()}
    return typed(CertManagerValues, out)


def issuers(ctx: PlatformContext) -> list[Manifest]:
    cm = ctx.addons.cert_manager
    after = ["cert-manager"]
    if cm.issuer == "acme":
        assert cm.acme is not None  # validated by the spec
        return [custom("cert-manager/issuer", "cert-manager.io/v1", "ClusterIssuer", cm.issuer_name, {"acme": {
            "email": cm.acme.email,
            "server": cm.acme.server,
            "privateKeySecretRef": {"name": f"{cm.issuer_name}-acme-account"},
            "solvers": [{"http01": {"ingress": {"ingressClassName": cm.acme.ingress_class}}}],
        }}, after=after + (["ingress-nginx"] if ctx.addons.ingress_nginx.enabled else []))]
    if cm.ca.secret_name:
        return [custom("cert-manager/issuer", "cert-manager.io/v1", "ClusterIssuer", cm.issuer_name,
                       {"ca": {"secretName": cm.ca.secret_name}}, after=after)]
    # No CA given: cert-manager bootstraps a self-signed root, then issues from it.
    ns = CHARTS["cert-manager"].namespace
    return [
        custom("cert-manager/bootstrap", "cert-manager.io/v1", "ClusterIssuer", BOOTSTRAP_ISSUER,
               {"selfSigned": {}}, after=after),
        custom("cert-manager/root-ca", "cert-manager.io/v1", "Certificate", ROOT_CA_SECRET, {
            "isCA": True,
            "commonName": cm.ca.common_name,
            "secretName": ROOT_CA_SECRET,
            "duration": "87600h",
            "privateKey": {"algorithm": "ECDSA", "size": 256},
            "issuerRef": {"name": BOOTSTRAP_ISSUER, "kind": "ClusterIssuer", "group": "cert-manager.io"},
        }, namespace=ns, after=["cert-manager/bootstrap"]),
        custom("cert-manager/issuer", "cert-manager.io/v1", "ClusterIssuer", cm.issuer_name,
               {"ca": {"secretName": ROOT_CA_SECRET}}, after=["cert-manager/root-ca"]),
    ]


def plan(ctx: PlatformContext) -> AddonPlan:
    chart = CHARTS["cert-manager"]
    v = deep_merge(values(ctx), ctx.addons.cert_manager.values)
    ns = namespace(chart.namespace)
    after = [ns.key] + (["kube-prometheus-stack"] if ctx.addons.monitoring.enabled else [])
    n = v["replicaCount"]
    return AddonPlan(
        "certManager",
        releases=[Release("cert-manager", chart, v, after=after)],
        manifests=[ns, *issuers(ctx)],
        workloads=[
            Workload("cert-manager", "cert-manager", "Deployment", ("resources",), replicas=n),
            Workload("cert-manager", "cert-manager-webhook", "Deployment", ("webhook", "resources")),
            Workload("cert-manager", "cert-manager-cainjector", "Deployment", ("cainjector", "resources")),
        ],
    )
