"""README command one: `python -m stacks plan`, text and JSON, and bad input."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import yaml

from stacks.config import REPO_ROOT
from tests.stack_runner import example_spec


def plan(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "stacks", "plan", *args], capture_output=True, text=True, cwd=REPO_ROOT, timeout=300)


@pytest.mark.parametrize("stack,nodes", [("prod", 9), ("budget", 3), ("dev", 1)])
def test_json_plan_of_every_example(stack, nodes):
    result = plan(stack, "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["stack"] == stack
    assert len(report["nodes"]) == nodes
    for node in report["nodes"]:
        assert {"name", "provider", "region", "instance_type", "roles", "mesh_ip"} <= set(node)
    assert all({"type", "name", "parent"} <= set(r) for r in report["resources"])
    names = {r["name"] for r in report["resources"]}
    assert all(r["parent"] in names for r in report["resources"] if r["parent"])


def test_text_plan_shows_tree_and_node_table():
    result = plan("budget")
    assert result.returncode == 0, result.stderr
    assert "budget-ovh  [sovereign:compute:OvhNodes]" in result.stdout
    assert "    budget-ovh-vps-1  [ovh:Vps/vps:Vps]" in result.stdout
    for name in ("vps-1", "vps-2", "vps-3"):
        assert any(line.startswith(name) and "control-plane,worker" in line for line in result.stdout.splitlines())


def test_invalid_file_exits_2_with_every_error(tmp_path):
    spec = example_spec("dev")
    spec["version"] = "one"
    spec["nodeGroups"]["main"]["instanceTyp"] = "cx22"
    path = tmp_path / "Pulumi.broken.yaml"
    path.write_text(yaml.safe_dump({"config": {"sovereign-cloud:cluster": spec}}))
    result = plan("--file", str(path))
    assert result.returncode == 2
    assert "cluster.version" in result.stderr
    assert "cluster.nodeGroups.main.instanceTyp" in result.stderr
    assert result.stdout == ""


def test_missing_stack_file_exits_2():
    result = plan("nosuchstack")
    assert result.returncode == 2 and "Pulumi.nosuchstack.yaml" in result.stderr
