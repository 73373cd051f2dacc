"""The whole program under the real engine: what `pulumi preview` plans for a
day-2 change, and the policy pack rejecting a stack it must not let through.

Existing hosts that need not exist: a preview runs no script, and the
plan-only command stand-in records the offline plan's outputs as state
(tests/engine/program_stack.py).
"""

from __future__ import annotations

import json

import pytest

from tests.engine.program_stack import NO_KUBERNETES_OBJECTS, ProgramStack, existing_hosts_spec
from tests.engine.pulumi_cli import operations, policy_pack_plugin

REPLACING = {"replace", "create-replacement", "delete-replaced"}


@pytest.fixture(scope="module")
def kubernetes_engine():
    """The engine with the kubernetes provider (the program's platform layer)."""
    from tests.engine.conftest import engine_or_skip

    return engine_or_skip("cli", "python", "kubernetes")


@pytest.mark.parametrize("distribution", ["k3s", "kubeadm"])
def test_a_label_change_previews_as_updates_never_replacements(kubernetes_engine, plugins, tmp_path, distribution):
    program = ProgramStack(kubernetes_engine, plugins, tmp_path, plan_only=True)
    program.set_spec(existing_hosts_spec(4, distribution=distribution, worker_labels={"team": "a"}))
    program.up_without_kubernetes_objects()
    assert [s for s in program.stack.preview(*NO_KUBERNETES_OBJECTS) if s.op != "same"] == []
    # Join tokens, certificate keys, passwords, kubeconfig: all encrypted in state.
    assert program.stack.secrets_in_plain_state() == []

    program.set_spec(existing_hosts_spec(4, distribution=distribution, worker_labels={"team": "b"}))
    changed = [s for s in program.stack.preview(*NO_KUBERNETES_OBJECTS) if s.op != "same"]
    assert not [s for s in changed if s.op in REPLACING], [(s.op, s.name) for s in changed]
    assert {s.op for s in changed} == {"update"}
    # The worker's labels are set in place; nothing of the control planes moves.
    assert "lab-h3-placement" in {s.name for s in changed}
    assert all("-h0-" not in s.name and "-h1-" not in s.name and "-h2-" not in s.name for s in changed), \
        [s.name for s in changed]


def test_removing_a_worker_deletes_its_cluster_membership_before_its_mesh_and_baseline(
        kubernetes_engine, plugins, tmp_path):
    program = ProgramStack(kubernetes_engine, plugins, tmp_path, plan_only=True)
    program.set_spec(existing_hosts_spec(5))
    program.up_without_kubernetes_objects()

    # As in one `up`: the staying nodes are updated first (an up that leaves
    # Kubernetes objects out deletes nothing), then h4's resources go.
    program.set_spec(existing_hosts_spec(4))
    updated = operations(program.up_without_kubernetes_objects())
    assert {op for op, _ in updated} <= {"same", "update"}
    events = program.stack.up("--target", "**-h4-**")
    deletes = [name for op, name in operations(events) if op == "delete"]
    assert deletes and all("-h4-" in name for name in deletes), deletes
    membership = [i for i, name in enumerate(deletes) if name.endswith(("-member", "-k3s-agent", "-placement"))]
    machine = [i for i, name in enumerate(deletes) if name.endswith(("-wg-apply", "-baseline", "-firewall"))]
    assert len(membership) == 3 and len(machine) == 3, deletes
    assert max(membership) < min(machine), deletes


def test_the_policy_pack_rejects_a_held_back_stack_and_passes_an_allowed_one(kubernetes_engine, plugins, tmp_path):
    pack = policy_pack_plugin(tmp_path / "pack")
    # Machines rented in an EU region of the catalog (OVH Gravelines).
    allowed = ProgramStack(kubernetes_engine, plugins, tmp_path / "allowed")
    allowed.set_spec(existing_hosts_spec(3, region="GRA", on_prem=False))
    assert allowed.stack.run("preview", "--stack", "lab", "--policy-pack", str(pack), check=False).returncode == 0

    # Rented machines in Houston that do not say they stand on our premises.
    held_back = ProgramStack(kubernetes_engine, plugins, tmp_path / "held-back")
    held_back.set_spec(existing_hosts_spec(3, region="houston", on_prem=False))
    done = held_back.stack.run("preview", "--stack", "lab", "--policy-pack", str(pack), check=False)
    assert done.returncode != 0
    assert "[mandatory]  allowed-node-regions" in done.stdout
    assert "region 'houston'" in done.stdout

    # The same stack with the reviewed exception in its pack config passes.
    config = tmp_path / "houston.json"
    config.write_text(json.dumps({"allowed-node-regions": {"additionalRegions": ["houston"]}}))
    assert held_back.stack.run("preview", "--stack", "lab", "--policy-pack", str(pack),
                               "--policy-pack-config", str(config), check=False).returncode == 0
