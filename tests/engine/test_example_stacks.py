"""`pulumi preview` of the example stacks (prod, budget, dev, minwaas) by the real
engine: the whole program with the real kubernetes plugin, the command/tls/
random stand-ins and, since the Hetzner, OVH and Scaleway plugins cannot be
built here, cloud stand-ins answering from the plan's constraint-enforcing
fakes (tests/engine/providers/cloud_provider.py).

The real engine and the mock plan (`scripts/plan`, the unit tests) must
agree on what a first `pulumi up` creates, resource for resource."""

from __future__ import annotations

import pytest

from tests.engine.program_stack import ProgramStack
from tests.engine.pulumi_cli import stand_in_plugins
from tests.stack_runner import EXAMPLE_STACKS, example_spec, run_spec_with_secrets

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
    program = ProgramStack(kubernetes_engine, cloud_plugins, tmp_path)
    program.set_spec(example_spec(stack))
    for key, value in SECRETS.items():
        program.stack.set_config(key, value, secret=True)
    steps = program.stack.preview()
    assert {s.op for s in steps} == {"create"}
    planned = sorted((s.type, s.name) for s in steps if s.type != "pulumi:pulumi:Stack")

    mocked = run_spec_with_secrets(example_spec(stack), stack="lab", **SECRETS)
    assert planned == sorted((r.type, r.name) for r in mocked.resources)
