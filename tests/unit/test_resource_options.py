"""Day-2 changes update node commands in place; only what must be rebuilt
may be replaced (issue 11, item 3).

pulumi-command registers every ``command:remote:Command`` with
``replaceOnChanges: ["triggers[*]"]``: a change of its ``triggers`` is a
delete (its delete script: a node drained and removed, an etcd member
removed) then a create. These tests read the resource options the program
registers (what the engine would act on) and compare two runs of the
program, before and after a routine change of the spec.
"""

from __future__ import annotations

import copy

import pytest

from tests.stack_runner import example_spec, run_spec
from tests.unit.cluster_support import param, upstream_urns

COMMAND = "command:remote:Command"

# Commands allowed a non-empty ``triggers`` (a replacement), each with why
# it must be rebuilt rather than updated. None today: every re-run the
# cluster layer needs is an update (``node_command(rerun_when=...)``).
MUST_REBUILD: dict[str, str] = {}

# What pulumi-command's SDK adds to every Command (and nothing else may).
SDK_REPLACE_ON_CHANGES = ["triggers[*]"]

# Inputs whose change pulumi-command runs as an update (the step's script
# again, or create when there is no update script).
UPDATE_ONLY_INPUTS = {"create", "update", "stdin"}


def commands(run) -> dict[str, object]:
    return {r.name: r for r in run.of_type(COMMAND)}


def test_no_command_is_replaced_by_a_trigger(example_run):
    stack, _, run = example_run
    triggered = {name: r.inputs["triggers"] for name, r in commands(run).items() if r.inputs.get("triggers")}
    unexpected = {n: t for n, t in triggered.items() if not n.endswith(tuple(MUST_REBUILD))}
    assert unexpected == {}, f"{stack}: these commands would be deleted and created again on a change"


def test_nothing_but_triggers_forces_a_command_to_be_replaced(example_run):
    stack, _, run = example_run
    for name, cmd in commands(run).items():
        assert cmd.replace_on_changes == SDK_REPLACE_ON_CHANGES, name
        # Delete-before-replace would run the delete script (a node leaving)
        # before its successor exists.
        assert not cmd.delete_before_replace, name


# -- routine changes, before/after -------------------------------------------

def _group(spec: dict, stack: str) -> dict:
    """A Kubernetes node group of the stack (a worker where there is one)."""
    name = {"prod": "gpu-paris", "budget": "vps", "dev": "main", "budget-kubeadm": "vps", "minwaas": "compute",
            "fleet": "main", "test": "main", "staging": "workers", "staging-us": "main"}[stack]
    return spec["nodeGroups"][name]


def add_label(spec, stack):
    _group(spec, stack).setdefault("labels", {})["sovereign.cloud/team"] = "data"


def add_taint(spec, stack):
    # PreferNoSchedule: budget's add-ons still fit on its (only) nodes.
    _group(spec, stack).setdefault("taints", []).append(
        {"key": "dedicated", "value": "data", "effect": "PreferNoSchedule"})


def change_reserved(spec, stack):
    spec.setdefault("kubernetes", {})["reserved"] = {"kubeReserved": "cpu=500m,memory=1Gi"}


def change_addon(spec, stack):
    addon = {"prod": "vault", "budget": "gitops", "dev": "certManager", "budget-kubeadm": "gitops"}[stack]
    spec["addons"][addon] = {"enabled": not spec["addons"].get(addon, {}).get("enabled", False)}


def base_spec(stack: str) -> dict:
    if stack == "budget-kubeadm":
        # Hyperconverged kubeadm nodes: the only ones with reserved resources.
        spec = example_spec("budget")
        spec.update(distribution="kubeadm", version="1.31.4")
        return spec
    return example_spec(stack)


CASES = [
    ("prod", add_label), ("prod", add_taint), ("prod", change_addon),
    ("budget", add_label), ("budget", add_taint), ("budget", change_reserved), ("budget", change_addon),
    ("budget-kubeadm", change_reserved),
    ("dev", add_label), ("dev", change_reserved),
]
_BASE: dict = {}


def _runs(stack, change):
    if stack not in _BASE:
        _BASE[stack] = run_spec(base_spec(stack), stack=stack.split("-")[0])
    changed = copy.deepcopy(base_spec(stack))
    change(changed, stack)
    return _BASE[stack], run_spec(changed, stack=stack.split("-")[0])


@pytest.mark.parametrize(("stack", "change"), CASES, ids=[f"{s}-{c.__name__}" for s, c in CASES])
def test_routine_changes_only_update_node_commands(stack, change):
    before, after = _runs(stack, change)
    old, new = commands(before), commands(after)
    assert set(old) == set(new), "a routine change must not add or remove node commands"
    changed = {}
    for name in old:
        keys = {k for k in old[name].inputs.keys() | new[name].inputs.keys()
                if old[name].inputs.get(k) != new[name].inputs.get(k)}
        if keys:
            changed[name] = keys
    if change is not change_addon:
        # The change reaches the nodes (else this test would prove nothing).
        assert changed, f"{stack}: {change.__name__} changed no node command"
    replacing = {n: k for n, k in changed.items() if not k <= UPDATE_ONLY_INPUTS}
    assert replacing == {}, f"{stack}: {change.__name__} changes inputs that are not create/update/stdin"
    for name in changed:
        assert new[name].replace_on_changes == SDK_REPLACE_ON_CHANGES and not new[name].inputs.get("triggers"), name


@pytest.mark.parametrize(("stack", "change"), CASES, ids=[f"{s}-{c.__name__}" for s, c in CASES])
def test_routine_changes_touch_no_machine_key_or_credential(stack, change):
    """Beyond the commands: servers, host keys, join credentials (random and
    tls resources replace on any input change) stay as they are. A changed
    input is allowed only where the engine ignores it (``ignore_changes``:
    install-time inputs such as user data, rendered again on every run)."""
    before, after = _runs(stack, change)
    old = {r.urn: r for r in before.resources if r.custom and r.type != COMMAND}
    new = {r.urn: r for r in after.resources if r.custom and r.type != COMMAND}
    kept = {u: r for u, r in old.items() if not r.type.startswith("kubernetes:")}
    # Kubernetes objects may come and go with an add-on; nothing else may.
    assert {u for u in kept if u not in new} == set(), f"{stack}: {change.__name__} removes resources"
    touched = {}
    for urn, r in kept.items():
        keys = {k for k in r.inputs.keys() | new[urn].inputs.keys() if r.inputs.get(k) != new[urn].inputs.get(k)}
        if keys - set(new[urn].ignore_changes):
            touched[r.name] = sorted(keys - set(new[urn].ignore_changes))
    assert touched == {}, f"{stack}: {change.__name__} changes inputs the engine acts on"


def test_a_label_change_never_touches_a_member(example_run):
    """The member's delete removes the node: it must not even be updated by
    a label change (the placement step carries labels now)."""
    stack, spec, before = example_run
    changed = copy.deepcopy(spec)
    add_label(changed, stack)
    after = run_spec(changed, stack=stack)
    old, new = commands(before), commands(after)
    members = [n for n in old if n.endswith("-member")]
    assert members or stack in ("dev", "fleet", "test", "staging-us")  # one node: nothing joins
    for name in members:
        assert old[name].inputs == new[name].inputs, name


# -- removal order: the dependency graph is also the delete order -------------

def _names(run, resource) -> set[str]:
    return {u.rsplit("::", 1)[-1] for u in upstream_urns(run, resource)}


def _node_anchors(stack: str, node: str) -> set[str]:
    """What must still exist while a node leaves: its mesh and baseline."""
    return {f"{stack}-mesh-{node}-wg-apply", f"{stack}-baseline-{node}-baseline"}


def test_etcd_members_leave_before_their_node_and_one_at_a_time(example_run):
    stack, _, run = example_run
    members = [r for r in run.of_type(COMMAND) if r.name.endswith("-etcd")]
    if stack != "prod":
        assert members == []  # K3s: embedded etcd, removed by the member commands below
        return
    assert len(members) == 3
    for index, member in enumerate(members):
        node = member.name.removeprefix(f"{stack}-etcd-").removesuffix("-etcd")
        upstream = _names(run, member)
        assert _node_anchors(stack, node) <= upstream, member.name
        # Its machine too (cloud nodes): deleted only after the member left.
        machines = [r for r in run.resources if r.custom and r.name.endswith(f"-{node}")
                    and r.type.split(":")[0] in {"hcloud", "ovh", "scaleway"}]
        assert machines and all(m.name in upstream for m in machines), member.name
        # Each member after the previous one: removals never overlap.
        for earlier in members[:index]:
            assert earlier.name in upstream, (member.name, earlier.name)
    # The health gate (its delete marks a whole-cluster destroy) waits for every member.
    health = run.named(f"{stack}-etcd-health")
    assert {m.name for m in members} <= _names(run, health)


def test_members_leave_before_their_node_resets(example_run):
    stack, _, run = example_run
    members = [r for r in run.of_type(COMMAND) if r.name.endswith("-member")]
    for member in members:
        node = member.name.removeprefix(f"{stack}-").removesuffix("-member")
        join = next(n for n in (f"{stack}-{node}-kubeadm-join", f"{stack}-{node}-k3s-server",
                                f"{stack}-{node}-k3s-agent") if n in commands(run))
        upstream = _names(run, member)
        # The member (drain, etcd removal, node delete) goes first, then the
        # node's reset/uninstall, then its mesh.
        assert join in upstream and _node_anchors(stack, node) <= upstream, member.name
    # Control planes / servers leave one at a time: each joined after the
    # previous one registered (its member), so it is removed before it.
    chain = _control_plane_chain(stack, run)
    for previous, current in zip(chain, chain[1:]):
        assert previous in _names(run, run.named(current)), (current, previous)


def _control_plane_chain(stack: str, run) -> list[str]:
    """The first control plane's init/start, then each joining control
    plane's member, in join order."""
    cmds = commands(run)
    servers = [n for n in cmds if n.endswith("-k3s-server")]
    if servers:
        return [servers[0]] + [n.replace("-k3s-server", "-member") for n in servers[1:]]
    init = next(n for n in cmds if n.endswith("-kubeadm-init"))
    joins = [n for n in cmds if n.endswith("-kubeadm-join") and param(cmds[n].script("create"), "ROLE") == "control-plane"]
    return [init] + [n.replace("-kubeadm-join", "-member") for n in joins]
