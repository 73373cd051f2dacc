"""GitOps: ArgoCD with a root "app of apps" Application (seed 004), or Flux
with a GitRepository and a Kustomization (seed 003).

An SSH ``repoUrl`` (``git@host:org/repo.git`` or ``ssh://...``) cannot be
fetched without a key: the private key is the secret config key
``gitopsRepoSshKey`` (``stacks/program.py`` fails before creating anything
when it is missing), handed to the platform as ``ctx.secrets[REPO_SSH_KEY]``
and written as a Secret only - an ArgoCD repository Secret, or the Flux
GitRepository's ``secretRef`` - never in chart values.
"""

from __future__ import annotations

import re
from typing import Any

import pulumi

from ...spec.platform import is_ssh_url
from ..chart_values import ArgoCdValues, FluxValues, typed
from ..charts import CHARTS
from ..model import AddonPlan, Manifest, PlatformContext, Release, Workload
from ..objects import custom, exposed, ingress_class, namespace, secret, tls_annotations
from ..profiles import replicas, requests
from ..values import deep_merge

ARGOCD_SSO_SECRET = "argocd-sso"
IN_CLUSTER = "https://kubernetes.default.svc"
# The secret config key holding the repository's SSH private key, and the
# name under which the platform receives it in ``ctx.secrets``.
REPO_SSH_KEY_CONFIG = "gitopsRepoSshKey"
REPO_SSH_KEY = "gitops-repo-ssh-key"
REPO_SECRET = "gitops-repo"
# Stands in for the key where none is handed over (plan-time contexts);
# the program refuses an SSH repoUrl without the config key.
MISSING_KEY = f"<secret config {REPO_SSH_KEY_CONFIG}>"
ARGOCD_TLS_SECRET = "argocd-server-tls"  # argo-cd chart: server.ingress.tls: true


def needs_ssh_key(gitops) -> bool:
    """Whether the enabled gitops add-on fetches over SSH (so needs the key)."""
    return gitops.enabled and is_ssh_url(gitops.repo_url)


def ssh_url(url: str) -> str:
    """The ``ssh://`` form of an scp-like URL (Flux accepts only that form)."""
    if url.startswith("ssh://"):
        return url
    m = re.match(r"^(?P<user>[^@]+)@(?P<host>[^:]+):(?P<path>.*)$", url)
    assert m is not None  # is_ssh_url
    return f"ssh://{m['user']}@{m['host']}/{m['path'].lstrip('/')}"


def repo_ssh_key(ctx: PlatformContext):
    """The private key (a Pulumi secret in the program)."""
    key = ctx.secrets.get(REPO_SSH_KEY, MISSING_KEY)
    return pulumi.Output.secret(key) if isinstance(key, pulumi.Output) else key


def argocd_values(ctx: PlatformContext) -> dict[str, Any]:
    r = lambda w: requests(ctx.profile, w)  # noqa: E731
    g = ctx.addons.gitops
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
    glob: dict[str, str] = {}
    if ctx.priority():
        glob["priorityClassName"] = ctx.priority()
    kc = ctx.addons.keycloak
    if kc.argocd_host:
        # argo-cd chart global.domain: the server's URL and ingress host.
        glob["domain"] = kc.argocd_host
        if exposed(ctx):
            # argo-cd chart server.ingress.*; server.insecure: the Ingress
            # terminates TLS and talks plain HTTP to the server.
            out["server"]["ingress"] = {"enabled": True, "ingressClassName": ingress_class(ctx),
                                        "hostname": kc.argocd_host, "annotations": tls_annotations(ctx), "tls": True}
    if glob:
        out["global"] = glob
    if g.ssh_known_hosts:
        # argo-cd chart configs.ssh.extraHosts: appended to the known hosts
        # it ships (github.com, gitlab.com, bitbucket.org, Azure DevOps).
        out["configs"]["ssh"] = {"extraHosts": g.ssh_known_hosts}
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


def argocd_repository(ctx: PlatformContext) -> Manifest:
    """ArgoCD's declarative repository Secret (label
    ``argocd.argoproj.io/secret-type: repository``), matched by URL."""
    ns = CHARTS["argo-cd"].namespace
    g = ctx.addons.gitops
    return secret("gitops/repo-credentials", REPO_SECRET, ns,
                  {"type": "git", "url": g.repo_url, "sshPrivateKey": repo_ssh_key(ctx)},
                  labels={"argocd.argoproj.io/secret-type": "repository"}, after=[f"ns/{ns}"])


def root_application(ctx: PlatformContext) -> Manifest:
    g = ctx.addons.gitops
    ns = CHARTS["argo-cd"].namespace
    return custom("gitops/root-app", "argoproj.io/v1alpha1", "Application", g.root_app, {
        "project": "default",
        "source": {"repoURL": g.repo_url, "targetRevision": g.revision, "path": g.path},
        "destination": {"server": IN_CLUSTER, "namespace": ns},
        "syncPolicy": {"automated": {"prune": True, "selfHeal": True}},
    }, namespace=ns, after=["argo-cd"] + (["gitops/repo-credentials"] if needs_ssh_key(g) else []))


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
    source: dict[str, Any] = {"interval": "1m", "url": g.repo_url, "ref": {"branch": g.revision}}
    out: list[Manifest] = []
    if needs_ssh_key(g):
        # Flux's SSH auth Secret: ``identity`` and ``known_hosts`` (required,
        # validated by the spec), and an ssh:// URL (its CRD's pattern).
        out.append(secret("gitops/repo-credentials", REPO_SECRET, ns,
                          {"identity": repo_ssh_key(ctx), "known_hosts": g.ssh_known_hosts},
                          after=[f"ns/{ns}"]))
        source |= {"url": ssh_url(g.repo_url), "secretRef": {"name": REPO_SECRET}}
    repo = custom("gitops/git-repository", "source.toolkit.fluxcd.io/v1", "GitRepository", g.root_app, source,
                  namespace=ns, after=["flux2"] + [m.key for m in out])
    kust = custom("gitops/kustomization", "kustomize.toolkit.fluxcd.io/v1", "Kustomization", g.root_app, {
        "interval": "10m", "path": g.path, "prune": True,
        "sourceRef": {"kind": "GitRepository", "name": g.root_app},
    }, namespace=ns, after=["gitops/git-repository"])
    return [*out, repo, kust]


def plan(ctx: PlatformContext) -> AddonPlan:
    g = ctx.addons.gitops
    if g.tool == "argocd":
        chart = CHARTS["argo-cd"]
        v = deep_merge(argocd_values(ctx), g.values)
        ns = namespace(chart.namespace)
        after = [ns.key] + (["keycloak/argocd-secret"] if ctx.addons.keycloak.enabled else [])
        if ctx.addons.keycloak.argocd_host and exposed(ctx):
            # The controller (and its admission webhook) serves before the Ingress is written.
            after.append("ingress-nginx")
        manifests = [ns, *([argocd_repository(ctx)] if needs_ssh_key(g) else []), root_application(ctx)]
        return AddonPlan("gitops", releases=[Release("argo-cd", chart, v, after=after)],
                         manifests=manifests, workloads=[
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
