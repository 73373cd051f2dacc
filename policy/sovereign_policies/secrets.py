"""Policy 4: inputs named like secrets are Pulumi secrets.

What pulumi-policy 1.21 lets a pack see (sdk: pulumi_policy/policy.py):
the engine sends every input with its secret marker, but ``Analyze`` and
``AnalyzeStack`` (what ``validate`` runs under) deserialize them with
``proxy_secrets=False``: the marker is dropped and a secret looks exactly
like a plain string (pulumi/pulumi-policy#241, still open). Only
``Remediate`` keeps it: ``args.props`` is then a secrets-preserving proxy
whose raw values (``props["__target"]``) hold ``pulumi_policy.Secret``
objects, and a ``Secret`` returned by a remediation is stored encrypted.

So the policy is a ``validate_remediate`` run at enforcement level
``remediate``: it sees which secret-named inputs are plain and returns them
wrapped in ``Secret``, so they reach the state encrypted. When called
without secret markers (``validate`` under ``Analyze``), secretness cannot
be judged and it marks itself not applicable instead of guessing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Secret,
)
from pulumi_policy import proxy as _unknowns
from pulumi_policy.proxy import _DictProxy, _ListProxy
from pulumi_policy.secret import _DictSecretsProxy, _ListSecretsProxy

from .resources import (
    HCLOUD_SERVER,
    K8S_PROVIDER,
    K8S_SECRET,
    LOCAL_COMMAND,
    OVH_INSTANCE,
    REMOTE_COMMAND,
    SCALEWAY_SERVER,
)
from .values import setting

POLICY = "secrets-never-plain"

# Matched inside the key with case and separators removed ("ETCD_S3_SECRET_KEY" -> "etcds3secretkey").
SECRET_NAMES = ("password", "passwd", "passphrase", "privatekey", "secretkey", "accesskey", "token",
                "kubeconfig", "clientsecret", "apikey", "credential")
# Keys naming where a secret is or how it is made, not holding it (matched on the
# normalized name): privateKeySecretRef, passwordSecretName, token_url, tokenTtl,
# existingSecretKey (the key inside a Kubernetes Secret the chart reads).
IGNORED_NAMES = (r"(ref|name|names|file|path|url|uri|ttl|length|id|ids|enabled)$", r"^existing")
# Inputs that carry credentials whatever their name: commands get them on stdin
# (components/remote/command.py), a Secret's data, a provider's kubeconfig, and
# a server's cloud-init user data (it holds the node's SSH host private key:
# components/compute/pool.py).
ALWAYS_SECRET = {
    REMOTE_COMMAND: ["stdin"],
    LOCAL_COMMAND: ["stdin"],
    K8S_SECRET: ["data", "stringData"],
    K8S_PROVIDER: ["kubeconfig"],
    HCLOUD_SERVER: ["userData"],
    SCALEWAY_SERVER: ["userData"],
    OVH_INSTANCE: ["userData"],
}

_PROXIES = (_DictProxy, _ListProxy, _DictSecretsProxy, _ListSecretsProxy)
# The sentinels standing for values unknown during preview (UNKNOWN_STRING_VALUE...).
_UNKNOWN_VALUES = {v for k, v in vars(_unknowns).items() if k.startswith("UNKNOWN_") and k.endswith("_VALUE")}
SECRETS_NOT_VISIBLE = (
    "pulumi-policy 1.21 drops secret markers from what validations see, so secretness can only be judged "
    "in this policy's remediation: run it at enforcement level \"remediate\"")


def raw(value: Any) -> Any:
    """The SDK proxy's underlying value, where ``Secret`` markers survive."""
    return value["__target"] if isinstance(value, _PROXIES) else value


def is_secret_name(key: str, names: Sequence[str], ignored: Sequence[str]) -> bool:
    normalized = re.sub(r"[^a-z0-9]", "", str(key).lower())
    return any(n in normalized for n in names) and not any(re.search(i, normalized) for i in ignored)


def _plain_string(value: Any) -> bool:
    value = raw(value)
    return isinstance(value, str) and bool(value) and value not in _UNKNOWN_VALUES


def has_plain_text(value: Any) -> bool:
    """True when some string under ``value`` is set and not wrapped in a ``Secret``."""
    value = raw(value)
    if isinstance(value, Secret):
        return False
    if isinstance(value, str):
        return _plain_string(value)
    if isinstance(value, Mapping):
        return any(has_plain_text(v) for v in value.values())
    if isinstance(value, Sequence):
        return any(has_plain_text(v) for v in value)
    return False  # numbers and booleans (doNotSendPassword: true) hold no secret


def plain_secret_paths(props: Any, resource_type: str, *, names: Sequence[str] = SECRET_NAMES,
                       ignored: Sequence[str] = IGNORED_NAMES,
                       always: Mapping[str, Sequence[str]] = ALWAYS_SECRET) -> list[tuple]:
    """Paths (key/index tuples) of secret inputs that hold plain text.

    A credential is a string: a secret-named key holding one (or a list of
    them) is judged there; one holding an object is a structure (cert-manager's
    ``privateKey: {algorithm, size}``) whose own fields are judged by name.
    """
    top = raw(props)
    found = [(key,) for key in always.get(resource_type, ()) if key in top and has_plain_text(top[key])]

    def walk(value: Any, path: tuple) -> None:
        value = raw(value)
        if isinstance(value, Secret):
            return  # a secret covers everything under it
        if isinstance(value, str):
            return  # judged by its key, one level up
        if isinstance(value, Mapping):
            for key, child in value.items():
                here = path + (key,)
                if here in found:
                    continue
                strings = [child] if isinstance(raw(child), str) else (
                    list(raw(child)) if isinstance(raw(child), Sequence) else [])
                if is_secret_name(key, names, ignored) and any(_plain_string(s) for s in strings):
                    found.append(here)
                else:
                    walk(child, here)
        elif isinstance(value, Sequence):
            for i, child in enumerate(value):
                walk(child, path + (i,))

    walk(top, ())
    return found


def dotted(path: tuple) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def with_secret(value: Any, path: tuple) -> Any:
    """A copy of ``value`` whose element at ``path`` is wrapped in ``Secret``."""
    if not path:
        return Secret(value)
    container = raw(value)
    copy = dict(container) if isinstance(container, Mapping) else list(container)
    copy[path[0]] = with_secret(container[path[0]], path[1:])
    return copy


def secrets_never_plain(args: ResourceValidationArgs, report_violation: ReportViolation) -> Mapping | None:
    paths = plain_secret_paths(
        args.props, args.resource_type,
        names=[str(n).lower() for n in setting(args, "secretNames", SECRET_NAMES)],
        ignored=[str(s) for s in setting(args, "ignoredNames", IGNORED_NAMES)],
        always=setting(args, "alwaysSecret", ALWAYS_SECRET),
    )
    if not paths:
        return None
    if not isinstance(args.props, _DictSecretsProxy):
        args.not_applicable(f"{SECRETS_NOT_VISIBLE} (secret-named inputs: "
                            f"{', '.join(dotted(p) for p in paths)})")
    new_props = raw(args.props)
    for path in paths:
        report_violation(f"{args.resource_type} {args.name!r}: input `{dotted(path)}` is named like a credential but "
                         "is a plain value, stored unencrypted in the state and shown in diffs; pass it as a Pulumi "
                         "secret (pulumi.Output.secret, `pulumi config set --secret`). The remediation stores it as "
                         "a secret.", None)
        new_props = with_secret(new_props, path)
    return new_props


secrets_policy = ResourceValidationPolicy(
    name=POLICY,
    description="Inputs named like credentials (private keys, passwords, tokens, secret keys, kubeconfigs, command "
                "stdin) are Pulumi secrets.",
    validate_remediate=secrets_never_plain,
    # Not "mandatory": under it only validate runs, and there pulumi-policy
    # 1.21 hides which values are secrets (see the module docstring).
    enforcement_level=EnforcementLevel.REMEDIATE,
    config_schema=PolicyConfigSchema(properties={
        "secretNames": {
            "type": "array", "items": {"type": "string"},
            "description": "Fragments of an input's name (lower case, no separators) that make it a credential.",
            "default": list(SECRET_NAMES),
        },
        "ignoredNames": {
            "type": "array", "items": {"type": "string"},
            "description": "Regular expressions (on the lower-case name without separators) of names that point "
                           "at a secret rather than hold it (privateKeySecretRef, token_url, existingSecretKey).",
            "default": list(IGNORED_NAMES),
        },
        "alwaysSecret": {
            "type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}},
            "description": "Per resource type, top-level inputs that are credentials whatever their name.",
            "default": ALWAYS_SECRET,
        },
    }),
)
