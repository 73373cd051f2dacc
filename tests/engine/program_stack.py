"""The whole program (the repository's __main__.py) as a stack of the real
engine, on existing hosts that need not exist: preview never runs a script,
and ``plan_only`` makes the command stand-in answer with the offline plan's
outputs instead of running scripts, so an ``up`` records a realistic state.
Kubernetes objects are left out of such an ``up`` (no API server answers).
"""

from __future__ import annotations

import time
from pathlib import Path

import yaml

from tests.engine.pulumi_cli import REPO, PulumiStack
from tests.stack_runner import SSH_KEY_FOR_TESTS, host_key_for

NO_KUBERNETES_OBJECTS = ("--exclude", "**kubernetes:**", "--exclude", "**providers:kubernetes**",
                         "--exclude-dependents")
PUBLIC_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHv0bEd0X2Y9o3wVt0y2Yk7kz1mX6oN1Ck2mM0k0bAbC engine-tests"


def existing_hosts_spec(n_nodes: int, *, distribution: str = "k3s", region: str = "paris", on_prem: bool = True,
                        worker_labels: dict[str, str] | None = None, names: list[str] | None = None,
                        mesh_ips: bool = True) -> dict:
    """Three control planes and ``n_nodes - 3`` workers (at most 250) on
    existing hosts: documentation addresses, stable test host keys, mesh
    addresses given unless ``mesh_ips`` is false (then the program allocates
    them). ``names`` replaces the default h0, h1, ..."""
    names = names or [f"h{i}" for i in range(n_nodes)]
    hosts = [{"name": name, "address": f"198.51.100.{i + 1}", "hostKey": host_key_for(name)}
             for i, name in enumerate(names[:n_nodes])]

    def group(roles, members, block, **extra):
        for ordinal, host in enumerate(members, start=1):
            if mesh_ips:
                host["meshIp"] = f"10.42.{block}.{ordinal}"
        return {"provider": "existing", "region": region, "roles": roles, "sshUser": "debian",
                "onPrem": on_prem, "meshBlock": block, "hosts": members, **extra}

    groups = {"cp": group(["control-plane"], hosts[:3], 1)}
    if n_nodes > 3:
        groups["workers"] = group(["worker"], hosts[3:], 2, labels=dict(worker_labels or {}))
    return {
        "name": "lab", "distribution": distribution,
        "version": "v1.31.4+k3s1" if distribution == "k3s" else "1.31.4",
        "ssh": {"publicKey": PUBLIC_KEY},
        "kubernetes": {"apiSourceCidrs": ["203.0.113.10/32"], "apiDnsName": "api.lab.example"},
        "nodeGroups": groups,
    }


class ProgramStack:
    def __init__(self, engine: dict[str, str], plugins: Path, workdir: Path, *, plan_only: bool = False):
        self.stack = PulumiStack(engine, REPO, workdir, "lab", plugins=plugins)
        if plan_only:
            self.stack.env["SOVEREIGN_STANDIN_PLAN_ONLY"] = "true"
        self.stack.set_config("sshPrivateKey", SSH_KEY_FOR_TESTS, secret=True)

    def set_spec(self, spec: dict) -> None:
        """The cluster spec, written into the stack file as a YAML object
        (what a user's Pulumi.<stack>.yaml holds)."""
        path = self.stack.project / f"Pulumi.{self.stack.stack}.yaml"
        document = yaml.safe_load(path.read_text()) or {}
        document.setdefault("config", {})["sovereign-cloud:cluster"] = spec
        path.write_text(yaml.safe_dump(document))

    def up_without_kubernetes_objects(self) -> list[dict]:
        return self.stack.up(*NO_KUBERNETES_OBJECTS)

    def timed_preview(self, *extra: str) -> tuple[float, list]:
        start = time.perf_counter()
        steps = self.stack.preview(*extra)
        return time.perf_counter() - start, steps
