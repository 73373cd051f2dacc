"""Run the real program under mocks and inspect what it registered.

The reusable fixture of the project: later layers assert on the resources,
their inputs, parents, dependencies and secrets through it.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import yaml

from stacks.config import CLUSTER_KEY, PROJECT, REPO_ROOT
from stacks.plan.fake_cloud import FakeCloud
from stacks.plan.run import PLAN_SSH_KEY_PLACEHOLDER, run_config
from stacks.plan.runtime import ProgramRun

EXAMPLE_STACKS = ("prod", "budget", "dev", "minwaas",
                  # environment stacks from environments/base.yaml (docs/environments.md, docs/fleet.md)
                  "fleet", "test", "staging", "staging-us")
SSH_KEY_FOR_TESTS = PLAN_SSH_KEY_PLACEHOLDER


def example_spec(stack: str) -> dict:
    """A deep copy of an example stack's cluster spec (with its base files
    merged in, stacks/environments.py), free to modify."""
    from stacks.plan.run import composed_spec

    document = yaml.safe_load(Path(REPO_ROOT, f"Pulumi.{stack}.yaml").read_text())
    return copy.deepcopy(composed_spec(document["config"], f"Pulumi.{stack}.yaml").data)


def spec_issues(spec: dict) -> dict[str, str]:
    """Path -> "message | fix" of every problem an invalid spec reports."""
    import pytest

    from components.spec import SpecError, parse_cluster_spec

    with pytest.raises(SpecError) as caught:
        parse_cluster_spec(spec)
    return {i.path: f"{i.message} | {i.fix}" for i in caught.value.issues}


def run_spec(spec: dict, *, stack: str = "test", cloud: FakeCloud | None = None) -> ProgramRun:
    return run_config(stack, {f"{PROJECT}:{CLUSTER_KEY}": spec}, cloud=cloud)


def run_spec_with_secrets(spec: dict, *, stack: str = "test", cloud: FakeCloud | None = None,
                          **secrets: str) -> ProgramRun:
    """Run the program with decrypted secret config values (as `pulumi up`
    hands them over), e.g. ``etcdS3AccessKey="..."``; the SSH key is a stand-in.
    ``cloud``: e.g. one whose backend holds a fleet hub's outputs."""
    from stacks.config import SSH_PRIVATE_KEY
    from stacks.plan.runtime import run_program
    from stacks.program import main

    values = {f"{PROJECT}:{CLUSTER_KEY}": json.dumps(spec), f"{PROJECT}:{SSH_PRIVATE_KEY}": SSH_KEY_FOR_TESTS}
    values |= {f"{PROJECT}:{key}": value for key, value in secrets.items()}
    secret_keys = [key for key in values if key != f"{PROJECT}:{CLUSTER_KEY}"]
    return run_program(main, project=PROJECT, stack=stack, config=values, secret_keys=secret_keys, cloud=cloud)


def run_components(build, *, stack: str = "test", cloud: FakeCloud | None = None, config: dict | None = None):
    """Run ``build()`` (any function creating resources) under the same mocks.

    For testing one component in isolation; ``build`` may call
    ``pulumi.export`` to expose values to the test.
    """
    from stacks.plan.runtime import run_program

    return run_program(build, project=PROJECT, stack=stack, config=config or {}, secret_keys=[], cloud=cloud)


def host_key_for(name: str) -> str:
    """A real, stable ed25519 host public key for a test host named ``name``."""
    from stacks.plan.fakes.ssh import machine_host_key

    return machine_host_key(f"test-host/{name}")
