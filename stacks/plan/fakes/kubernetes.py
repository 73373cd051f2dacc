"""Fake answers of Kubernetes objects whose state the API server fills in.

A ``kubernetes.io/service-account-token`` Secret gets its ``data`` from the
token controller right after creation (pulumi-kubernetes waits for it:
pulumi/pulumi-kubernetes#2048, and the fleet adds ``pulumi.com/waitFor``);
the fake answers with that data, clearly a placeholder (base64, as the API
returns it): ``token``, ``ca.crt`` and ``namespace``.
"""

from __future__ import annotations

import base64

from .registry import RESOURCE_FAKES

PLACEHOLDER_CA = "-----BEGIN CERTIFICATE-----\nPLAN PLACEHOLDER, NOT A CERTIFICATE\n-----END CERTIFICATE-----\n"
SERVICE_ACCOUNT_TOKEN = "kubernetes.io/service-account-token"


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _secret(cloud, name, inputs, raw):
    meta = inputs.get("metadata") or {}
    ident = f"{meta.get('namespace', 'default')}/{meta.get('name', name)}"
    if inputs.get("type") != SERVICE_ACCOUNT_TOKEN:
        return ident, dict(raw)
    account = (meta.get("annotations") or {}).get("kubernetes.io/service-account.name", "")
    data = {"token": _b64(f"plan-placeholder-token-of-{ident}-{account}"), "ca.crt": _b64(PLACEHOLDER_CA),
            "namespace": _b64(meta.get("namespace", "default"))}
    return ident, {**raw, "data": data}


RESOURCE_FAKES["kubernetes:core/v1:Secret"] = _secret
