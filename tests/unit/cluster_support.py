"""Helpers of the cluster-layer tests (K3s, kubeadm, common)."""

from __future__ import annotations

import contextlib
import json
import shlex

import yaml

from stacks.plan.runtime import RecordingMonitor, urn_name


def script_of(command_line: str) -> str:
    """The rendered script a node command runs (``as_root``'s ``bash -c``
    argument), or the text itself when it already is a script."""
    from components.remote import command

    return command_line if command_line.startswith("#!") else command.script_of(command_line)


def param(script: str, name: str) -> str:
    """Value of an ``export NAME=...`` line of a rendered script (or of the
    script inside a node command line), unquoted."""
    script = script_of(script)
    marker = f"\nexport {name}="
    start = script.find(marker)
    assert start >= 0, f"{name} not in script"
    lexer = shlex.shlex(script[start + len(marker):], posix=True)
    lexer.whitespace_split = True
    lexer.commenters = ""
    return lexer.get_token()


def k3s_config(script: str) -> dict:
    return yaml.safe_load(param(script, "K3S_CONFIG"))


def deps(run, resource) -> set[str]:
    """Names of what ``resource`` depends on."""
    return {urn_name(u) for u in resource.dependencies}


def upstream_urns(run, resource) -> set[str]:
    """URNs of everything ``resource`` waits for, directly or through others."""
    by_urn = {r.urn: r for r in run.resources}
    seen: set[str] = set()
    frontier = list(resource.dependencies)
    while frontier:
        urn = frontier.pop()
        if urn in seen:
            continue
        seen.add(urn)
        if urn in by_urn:
            frontier.extend(by_urn[urn].dependencies)
    return seen


def transitive_deps(run, resource) -> set[str]:
    """Names of everything ``resource`` waits for, directly or through others."""
    return {urn_name(u) for u in upstream_urns(run, resource)}


def stacked_prod_spec() -> dict:
    """prod with its etcd stacked on three control planes (no dedicated members)."""
    from tests.stack_runner import example_spec

    spec = example_spec("prod")
    for name in ("etcd-gra", "etcd-fsn", "etcd-paris"):
        del spec["nodeGroups"][name]
    spec["nodeGroups"]["cp-fsn"] = {"provider": "hetzner", "region": "fsn1", "instanceType": "cx23", "count": 1,
                                    "roles": ["control-plane"]}
    return spec


def plain_text(run) -> str:
    """Every non-secret stack output, as JSON text."""
    return json.dumps({k: v for k, v in run.outputs.items() if k not in run.secret_outputs}, default=str)


def leaks(run, secret: str) -> list[str]:
    """Resources holding ``secret`` in an input that is not marked secret."""
    found = []
    for r in run.resources:
        for key, value in r.inputs.items():
            if any(p == key or p.startswith(f"{key}.") or p.startswith(f"{key}[") for p in r.secret_paths):
                continue
            if secret in json.dumps(value, default=str):
                found.append(f"{r.name}.{key}")
    return found


@contextlib.contextmanager
def additional_secret_outputs():
    """Record each resource's additional_secret_outputs (the mock monitor drops them)."""
    seen: dict[str, list[str]] = {}
    original = RecordingMonitor.RegisterResource

    def register(self, request):
        seen[request.name] = list(request.additionalSecretOutputs)
        return original(self, request)

    RecordingMonitor.RegisterResource = register
    try:
        yield seen
    finally:
        RecordingMonitor.RegisterResource = original
