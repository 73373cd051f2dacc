"""Small builders of the Kubernetes objects the project writes itself."""

from __future__ import annotations

from typing import Any

from .model import Manifest

MANAGED_BY = {"app.kubernetes.io/managed-by": "sovereign-cloud"}


def metadata(name: str, namespace: str | None = None, labels: dict[str, str] | None = None,
             annotations: dict[str, str] | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "labels": {**MANAGED_BY, **(labels or {})}}
    if namespace:
        meta["namespace"] = namespace
    if annotations:
        meta["annotations"] = annotations
    return meta


def namespace(name: str, labels: dict[str, str] | None = None) -> Manifest:
    """A Namespace created before its chart (so the project's own Secrets can
    land in it first); key ``ns/<name>``."""
    return Manifest(f"ns/{name}", {"apiVersion": "v1", "kind": "Namespace", "metadata": metadata(name, labels=labels)})


def custom(key: str, api_version: str, kind: str, name: str, spec: dict[str, Any], *,
           namespace: str | None = None, after: list[str] | None = None) -> Manifest:
    return Manifest(key, {"apiVersion": api_version, "kind": kind, "metadata": metadata(name, namespace), "spec": spec},
                    after=list(after or []))


def secret(key: str, name: str, namespace: str, string_data: dict[str, Any], *, labels: dict[str, str] | None = None,
           after: list[str] | None = None, type_: str = "Opaque") -> Manifest:
    return Manifest(key, {"apiVersion": "v1", "kind": "Secret", "type": type_,
                          "metadata": metadata(name, namespace, labels), "stringData": string_data},
                    after=list(after or []))


# -- public hosts: the charts' own Ingress, TLS from cert-manager ------------

CLUSTER_ISSUER_ANNOTATION = "cert-manager.io/cluster-issuer"


def exposed(ctx) -> bool:
    """Public hosts get an Ingress only with both ingress-nginx (the class)
    and cert-manager (the certificate, from the project's ClusterIssuer):
    the SSO URLs are https://."""
    return ctx.addons.ingress_nginx.enabled and ctx.addons.cert_manager.enabled


def ingress_class(ctx) -> str:
    return ctx.addons.ingress_nginx.class_name


def tls_annotations(ctx) -> dict[str, str]:
    """cert-manager's ingress-shim issues the Ingress's TLS secret from the
    project's ClusterIssuer (``addons.certManager.issuerName``)."""
    return {CLUSTER_ISSUER_ANNOTATION: ctx.addons.cert_manager.issuer_name}


def tolerations_for(taints: list[dict]) -> list[dict[str, str]]:
    """Tolerations matching exactly the given node taints."""
    out = []
    for t in taints:
        tol = {"key": t["key"], "effect": t["effect"]}
        if t.get("value"):
            tol |= {"operator": "Equal", "value": t["value"]}
        else:
            tol["operator"] = "Exists"
        out.append(tol)
    return out
