"""Labels and taints reach joined nodes (issue 11): kubeadm's join says
"already joined: nothing to do" and K3s applies --node-taint only at
registration, so each node gets a placement step on the first control
plane; a label or taint change updates that step, and running its new
script against the node really changes the node."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from tests.stack_runner import example_spec, run_spec

from .cluster_support import deps, param
from .test_cluster_scripts import run_bash

PROD_NODES = ["cp-paris-1", "cp-sbg-1", "gpu-paris-1", "gpu-gra-1", "gpu-houston-1", "onprem-paris-1"]
BUDGET_NODES = ["vps-1", "vps-2", "vps-3"]


@pytest.fixture(scope="module")
def prod():
    return run_spec(example_spec("prod"), stack="prod")


@pytest.fixture(scope="module")
def budget():
    return run_spec(example_spec("budget"), stack="budget")


def test_every_kubeadm_node_is_placed_from_the_first_control_plane_after_it_registered(prod):
    first_host = prod.named("prod-cp-paris-1-kubeadm-init").inputs["connection"]["host"]
    for node in PROD_NODES:
        step = prod.named(f"prod-{node}-placement")
        assert step.inputs["connection"]["host"] == first_host, node
        assert step.script("update") == step.script("create") and not step.inputs.get("triggers")
        assert not step.inputs.get("delete")  # the member removes the node itself
        registered = "prod-cp-paris-1-kubeadm-init" if node == "cp-paris-1" else f"prod-{node}-member"
        assert registered in deps(prod, step), node
        script = step.script("create")
        assert param(script, "NODE_NAME") == node
        assert param(script, "KUBECTL") == "kubectl" and param(script, "KUBECONFIG") == "/etc/kubernetes/admin.conf"
    # What Pulumi.prod.yaml and the GPU convention ask for.
    houston = prod.named("prod-gpu-houston-1-placement").script("create")
    assert "sovereign.cloud/site=tensordoc-houston" in param(houston, "LABELS").splitlines()
    assert param(houston, "TAINTS").splitlines() == ["nvidia.com/gpu=present:NoSchedule"]
    # Dedicated control planes keep the control-plane taint kubeadm gave them.
    assert param(prod.named("prod-cp-sbg-1-placement").script("create"), "TAINTS").splitlines() == [
        "node-role.kubernetes.io/control-plane:NoSchedule"]
    assert {"prod-etcd-gra-1-placement", "prod-etcd-fsn-1-placement"}.isdisjoint(r.name for r in prod.resources)


def test_every_k3s_node_is_placed_with_k3s_own_kubectl(budget):
    first_host = budget.named("budget-vps-1-k3s-server").inputs["connection"]["host"]
    for node in BUDGET_NODES:
        step = budget.named(f"budget-{node}-placement")
        assert step.inputs["connection"]["host"] == first_host
        registered = "budget-vps-1-k3s-server" if node == "vps-1" else f"budget-{node}-member"
        assert registered in deps(budget, step), node
        script = step.script("create")
        assert param(script, "KUBECTL") == "/usr/local/bin/k3s kubectl"
        assert param(script, "KUBECONFIG") == "/etc/rancher/k3s/k3s.yaml"
        # Hyperconverged servers: no control-plane taint.
        assert param(script, "TAINTS") == ""


@pytest.mark.parametrize("stack, group, node", [("prod", "gpu-paris", "gpu-paris-1"), ("budget", "vps", "vps-2")])
def test_a_label_and_a_taint_leaving_the_spec_leave_the_joined_node(stack, group, node, node_api):
    env, state = node_api
    with_extra = example_spec(stack)
    with_extra["nodeGroups"][group]["labels"] = {"sovereign.cloud/team": "data"}
    with_extra["nodeGroups"][group]["taints"] = [{"key": "dedicated", "value": "data", "effect": "PreferNoSchedule"}]
    without = copy.deepcopy(with_extra)
    del without["nodeGroups"][group]["labels"], without["nodeGroups"][group]["taints"]
    scripts = [run_spec(s, stack=stack).named(f"{stack}-{node}-placement").script("create") for s in (with_extra, without)]
    # The fake API holds this node; its kubectl stands in for K3s' too.
    Path(env["FAKE_NODE"]).write_text(json.dumps({**state(), "name": node}))
    for index, script in enumerate(scripts):
        script = script.replace("export KUBECTL='/usr/local/bin/k3s kubectl'", "export KUBECTL=kubectl")
        out = run_bash(script, env=env)
        assert out.returncode == 0, out.stderr
        if index == 0:
            assert state()["labels"]["sovereign.cloud/team"] == "data"
            assert ("dedicated", "PreferNoSchedule") in {(t["key"], t["effect"]) for t in state()["taints"]}
    final = state()
    assert "sovereign.cloud/team" not in final["labels"] and final["labels"]["team"] == "theirs"
    assert ("dedicated", "PreferNoSchedule") not in {(t["key"], t["effect"]) for t in final["taints"]}
    assert final["labels"]["topology.kubernetes.io/zone"]  # the spec's own labels stay
