"""GitOps: ArgoCD with a root "app of apps" Application (seed 004), or Flux
with a GitRepository and a Kustomization (seed 003)."""

from __future__ import annotations

from typing import Any

from ..chart_values import ArgoCdValues, FluxValues, typed
from ..charts import CHARTS
from ..model import AddonPlan, Manifest, PlatformContext, Release, Workload
from ..objects import custom, namespace
from ..profiles import replicas, requests
from ..values import deep_merge

ARGOCD_SSO_SECRET = "argocd-sso"
IN_CLUSTER = "https://kubernetes.default.svc"


def argocd_values(ctx: PlatformContext) -> dict[str, Any]:
    r = lambda w: requests(ctx.profile, w)  # noqa: E731
    out: dict[str, Any] = {
        "crds": {"install": True, "keep": True},
        "dex": {"enabled": False},
        "notifications": {"enabled": False},
        "controller": {"resources": r("argocd-controller")},
        "repoServer": {"replicas": replicas(ctx.profile, 2), "resources": r("argocd-repo-server")},
        "server": {"replicas": replicas(ctx.profile, 2), "resources": r("argocd-server")},
        "redis": {"resources": r("argocd-redis")},
        "applicationSet": {"resources": r("argocd-applicationset")},
        "configs": {"params": {"server.insecure": True}},
    }
    if ctx.priority():
        out["global"] = {"priorityClassName": ctx.priority()}
    kc = ctx.addons.keycloak
    if kc.enabled:
        out["configs"]["cm"] = {
            **({"url": f"https://{kc.argocd_host}"} if kc.argocd_host else {}),
            # "$<secret>:<key>": ArgoCD reads the client secret from the
            # labelled Secret the keycloak add-on writes.
            "oidc.config": (
                f"name: Keycloak\nissuer: https://{kc.hostname}/realms/{kc.realm}\nclientID: argocd\n"
                f"clientSecret: ${ARGOCD_SSO_SECRET}:clientSecret\nrequestedScopes: [openid, profile, email]\n"
            ),
        }
    return typed(ArgoCdValues, out)


def root_application(ctx: PlatformContext) -> Manifest:
    g = ctx.addons.gitops
    ns = CHARTS["argo-cd"].namespace
    return custom("gitops/root-app", "argoproj.io/v1alpha1", "Application", g.root_app, {
        "project": "default",
        "source": {"repoURL": g.repo_url, "targetRevision": g.revision, "path": g.path},
        "destination": {"server": IN_CLUSTER, "namespace": ns},
        "syncPolicy": {"automated": {"prune": True, "selfHeal": True}},
    }, namespace=ns, after=["argo-cd"])


def flux_values(ctx: PlatformContext) -> dict[str, Any]:
    r = requests(ctx.profile, "flux-controller")
    return typed(FluxValues, {
        "sourceController": {"resources": r},
        "kustomizeController": {"resources": r},
        "helmController": {"resources": r},
        "notificationController": {"resources": r},
        "imageAutomationController": {"create": False},
        "imageReflectionController": {"create": False},
    })


def flux_sources(ctx: PlatformContext) -> list[Manifest]:
    g = ctx.addons.gitops
    ns = CHARTS["flux2"].namespace
    repo = custom("gitops/git-repository", "source.toolkit.fluxcd.io/v1", "GitRepository", g.root_app, {
        "interval": "1m", "url": g.repo_url, "ref": {"branch": g.revision},
    }, namespace=ns, after=["flux2"])
    kust = custom("gitops/kustomization", "kustomize.toolkit.fluxcd.io/v1", "Kustomization", g.root_app, {
        "interval": "10m", "path": g.path, "prune": True,
        "sourceRef": {"kind": "GitRepository", "name": g.root_app},
    }, namespace=ns, after=["gitops/git-repository"])
    return [repo, kust]


def plan(ctx: PlatformContext) -> AddonPlan:
    g = ctx.addons.gitops
    if g.tool == "argocd":
        chart = CHARTS["argo-cd"]
        v = deep_merge(argocd_values(ctx), g.values)
        ns = namespace(chart.namespace)
        after = [ns.key] + (["keycloak/argocd-secret"] if ctx.addons.keycloak.enabled else [])
        return AddonPlan("gitops", releases=[Release("argo-cd", chart, v, after=after)],
                         manifests=[ns, root_application(ctx)], workloads=[
            Workload("argo-cd", "argocd-application-controller", "StatefulSet", ("controller", "resources")),
            Workload("argo-cd", "argocd-repo-server", "Deployment", ("repoServer", "resources"),
                     replicas=v["repoServer"]["replicas"]),
            Workload("argo-cd", "argocd-server", "Deployment", ("server", "resources"), replicas=v["server"]["replicas"]),
            Workload("argo-cd", "argocd-redis", "Deployment", ("redis", "resources")),
            Workload("argo-cd", "argocd-applicationset-controller", "Deployment", ("applicationSet", "resources")),
        ])
    chart = CHARTS["flux2"]
    v = deep_merge(flux_values(ctx), g.values)
    ns = namespace(chart.namespace)
    return AddonPlan("gitops", releases=[Release("flux2", chart, v, after=[ns.key])],
                     manifests=[ns, *flux_sources(ctx)], workloads=[
        Workload("flux2", f"flux-{c}", "Deployment", (c, "resources"))
        for c in ("sourceController", "kustomizeController", "helmController", "notificationController")
    ])
