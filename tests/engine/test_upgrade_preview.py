"""A version change under the real engine: `pulumi preview` plans the
rolling upgrade as in-place updates (never a replacement, which would run a
delete script: a node leaving the cluster), and the engine's own view of
their dependencies is the chain: control planes first, one node at a time,
each node's install after its upgrade; then the update finishes them in
that order. The plan-only command stand-in runs no script
(tests/engine/program_stack.py)."""

from __future__ import annotations

import json

import pytest

from tests.engine.program_stack import NO_KUBERNETES_OBJECTS, ProgramStack, existing_hosts_spec
from tests.engine.pulumi_cli import operations

NODES = ["h0", "h1", "h2", "h3", "h4"]  # h0-h2 control planes, h3-h4 workers


@pytest.fixture(scope="module")
def kubernetes_engine():
    from tests.engine.conftest import engine_or_skip

    return engine_or_skip("cli", "python", "kubernetes")


def planned(stack, *extra: str) -> dict[str, dict]:
    """Resource name -> {op, dependencies (names)} of a `pulumi preview --json`."""
    done = stack.run("preview", "--json", "--stack", stack.stack, *extra)
    steps = {}
    for step in json.loads(done.stdout).get("steps", []):
        state = step.get("newState") or {}
        steps[step["urn"].split("::")[-1]] = {
            "op": step["op"], "deps": {u.split("::")[-1] for u in state.get("dependencies", [])}}
    return steps


@pytest.mark.parametrize("distribution, old, new", [("k3s", "v1.31.4+k3s1", "v1.32.1+k3s1"),
                                                     ("kubeadm", "1.31.4", "1.32.1")])
def test_a_version_change_previews_the_rolling_upgrade_in_order(kubernetes_engine, plugins, tmp_path,
                                                                distribution, old, new):
    program = ProgramStack(kubernetes_engine, plugins, tmp_path, plan_only=True)
    spec = existing_hosts_spec(len(NODES), distribution=distribution)
    assert spec["version"] == old
    program.set_spec(spec)
    program.up_without_kubernetes_objects()

    program.set_spec({**spec, "version": new})
    steps = planned(program.stack, *NO_KUBERNETES_OBJECTS)
    changed = {name: s for name, s in steps.items() if s["op"] != "same"}
    assert {s["op"] for s in changed.values()} == {"update"}, {n: s["op"] for n, s in changed.items()}
    previous = None
    for node in NODES:
        drain, upgrade, uncordon = (f"lab-{node}-upgrade{s}" for s in ("-drain", "", "-uncordon"))
        assert {drain, upgrade, uncordon} <= set(changed), sorted(changed)
        assert drain in steps[upgrade]["deps"] and upgrade in steps[uncordon]["deps"]
        if previous:
            assert previous in steps[drain]["deps"], (node, steps[drain]["deps"])
        previous = uncordon
        install = f"lab-{node}-k3s-install" if distribution == "k3s" else f"lab-{node}-k8s-packages"
        assert steps[install]["op"] == "update" and uncordon in steps[install]["deps"]

    # The update itself (scripts stood in for): the engine finishes the
    # steps in exactly that order, each node's install after its uncordon.
    done = [name for op, name in operations(program.up_without_kubernetes_objects()) if op == "update"]
    chain = [n for n in done if "-upgrade" in n]
    assert chain == [f"lab-{node}-upgrade{s}" for node in NODES for s in ("-drain", "", "-uncordon")]
    for node in NODES:
        install = f"lab-{node}-k3s-install" if distribution == "k3s" else f"lab-{node}-k8s-packages"
        assert done.index(install) > done.index(f"lab-{node}-upgrade-uncordon")

    # Recorded as this stack's output, the deployed version makes a skipped
    # minor version a refusal at preview, before any step is planned.
    assert program.stack.outputs()["kubernetesVersion"] == new
    skip = new.replace("1.32.", "1.34.")
    program.set_spec({**spec, "version": skip})
    refused = program.stack.run("preview", "--stack", program.stack.stack, check=False)
    assert refused.returncode != 0
    assert f"going from {new} to {skip} skips minor version 1.33" in refused.stdout + refused.stderr
