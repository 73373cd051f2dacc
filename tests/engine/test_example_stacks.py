"""`pulumi preview` of the example stacks (prod, budget, dev, minwaas) by the real
engine: the whole program with the real kubernetes plugin, the command/tls/
random stand-ins and, since the Hetzner, OVH and Scaleway plugins cannot be
built here, cloud stand-ins answering from the plan's constraint-enforcing
fakes (tests/engine/providers/cloud_provider.py).

The real engine and the mock plan (`scripts/plan`, the unit tests) must
agree on what a first `pulumi up` creates, resource for resource. A fleet
spoke (test, staging, staging-us) previews against a backend holding its
hub's stack, as it must be deployed after it (docs/fleet.md)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from stacks.plan.fake_cloud import FakeCloud
from tests.engine.program_stack import ProgramStack
from tests.engine.pulumi_cli import PulumiStack, stand_in_plugins
from tests.stack_runner import EXAMPLE_STACKS, example_spec, run_spec_with_secrets

OUTPUTS_PROGRAM = Path(__file__).parent / "outputs_program"
DEPLOY_KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nZGVwbG95IGtleSBvZiB0aGUgdGVzdHM=\n-----END OPENSSH PRIVATE KEY-----"
# prod backs its PostgreSQL up to S3 (dataServices.postgres.backups).
SECRETS = {"gitopsRepoSshKey": DEPLOY_KEY, "etcdS3AccessKey": "AKIAENGINETESTS", "etcdS3SecretKey": "engine/secret",
           "dataBackupS3AccessKey": "AKIAENGINEBACKUP", "dataBackupS3SecretKey": "engine/backup-secret"}


@pytest.fixture(scope="module")
def kubernetes_engine():
    from tests.engine.conftest import engine_or_skip

    return engine_or_skip("cli", "python", "kubernetes")


@pytest.fixture(scope="module")
def cloud_plugins(tmp_path_factory):
    return stand_in_plugins(tmp_path_factory.mktemp("cloud-plugins"), clouds=True)


@pytest.mark.parametrize("stack", EXAMPLE_STACKS)
def test_the_real_engine_plans_what_the_mock_plan_creates(kubernetes_engine, cloud_plugins, tmp_path, stack):
    cloud = FakeCloud()
    hub_stand_in(kubernetes_engine, tmp_path, example_spec(stack), cloud)
    program = ProgramStack(kubernetes_engine, cloud_plugins, tmp_path)
    program.set_spec(example_spec(stack))
    for key, value in SECRETS.items():
        program.stack.set_config(key, value, secret=True)
    steps = program.stack.preview()
    # A fleet spoke reads its hub's stack (a StackReference): a read, not a create.
    assert {s.op for s in steps} <= {"create", "read"}
    assert {s.type for s in steps if s.op == "read"} <= {"pulumi:pulumi:StackReference"}
    planned = sorted((s.type, s.name) for s in steps if s.type != "pulumi:pulumi:Stack")

    mocked = run_spec_with_secrets(example_spec(stack), stack="lab", cloud=cloud, **SECRETS)
    assert planned == sorted((r.type, r.name) for r in mocked.resources)


def hub_stand_in(engine, workdir, spec: dict, cloud: FakeCloud) -> None:
    """For a fleet spoke: its hub's stack in the engine's backend (and in the
    mocks' ``cloud``), holding the outputs the hub's offline plan exports
    (tests/engine/outputs_program; the hub's own preview is another case)."""
    from components.fleet.names import BOOTSTRAP_OUTPUT, BROKERS_OUTPUT, HUB_OUTPUT
    from stacks.plan.fakes.state import recorded_stack_outputs
    from stacks.plan.fleet_hub import hub_stack_name
    from tests.stack_runner import run_spec

    hub_stack = hub_stack_name(spec)
    if hub_stack is None:
        return
    hub = run_spec(example_spec(hub_stack), stack=hub_stack)
    outputs = {name: hub.outputs[name] for name in (BOOTSTRAP_OUTPUT, BROKERS_OUTPUT, HUB_OUTPUT)}
    secret = sorted(hub.secret_outputs & set(outputs))
    stand_in = PulumiStack(engine, OUTPUTS_PROGRAM, workdir, hub_stack)
    stand_in.set_config("outputs", json.dumps(outputs))
    stand_in.set_config_list("secretOutputs", secret)
    stand_in.up()
    recorded_stack_outputs(cloud, f"organization/sovereign-cloud/{hub_stack}", outputs, tuple(secret))


def test_the_real_engine_merges_a_stack_s_base_files_like_the_plan(kubernetes_engine, cloud_plugins, tmp_path):
    """Pulumi.fleet.yaml as it is (clusterBase + overrides, not a merged
    spec): the program merges environments/base.yaml itself under the real
    engine, which also accepts the array-typed clusterBase Pulumi.yaml declares."""
    import yaml

    from stacks.config import REPO_ROOT

    program = ProgramStack(kubernetes_engine, cloud_plugins, tmp_path)
    path = program.stack.project / f"Pulumi.{program.stack.stack}.yaml"
    document = yaml.safe_load(path.read_text()) or {}
    document.setdefault("config", {}).update(yaml.safe_load((REPO_ROOT / "Pulumi.fleet.yaml").read_text())["config"])
    path.write_text(yaml.safe_dump(document))
    steps = program.stack.preview()
    planned = sorted((s.type, s.name) for s in steps if s.type != "pulumi:pulumi:Stack")
    mocked = run_spec_with_secrets(example_spec("fleet"), stack="lab")
    assert planned == sorted((r.type, r.name) for r in mocked.resources)
    assert any(name == "fleet-platform-cluster-manager" for _, name in planned)
